import Foundation
@testable import Reports
@testable import Scenario

func fixturePath(_ name: String) -> String {
    Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
}

/// `shared/scenarios/` beside the checkout (as in CI), if present.
func sharedScenarios() -> String? {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let dir = url.deletingLastPathComponent().appendingPathComponent("shared/scenarios").path
    return FileManager.default.fileExists(atPath: dir) ? dir : nil
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "burnrate-test-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Parses YAML text as a scenario file named `file`; returns the errors' descriptions.
func errors(_ yaml: String, file: String = "bad.yaml") -> [String] {
    do {
        _ = try Scenario.parse(yaml: yaml, file: file)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}
