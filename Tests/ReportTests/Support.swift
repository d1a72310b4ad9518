import Foundation
import Testing
@testable import Reports
@testable import Scenario

func fixturePath(_ name: String) -> String {
    Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
}

/// The path of a contract example in `shared/scenarios/` beside the checkout (DESIGN.md, "Files":
/// they must load and run unchanged). A missing example is a failure naming it, never a pass:
/// a test that skips its subject when the fixture is absent proves nothing.
func sharedScenario(_ file: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let path = url.deletingLastPathComponent().appendingPathComponent("shared/scenarios/\(file)").path
    return try #require(FileManager.default.fileExists(atPath: path) ? path : nil,
                        "missing fixture: the contract example \(path) (shared/scenarios/ beside the checkout)",
                        sourceLocation: sourceLocation)
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
