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
func errors(_ yaml: String, file: String = "bad.yaml", directory: String = ".") -> [String] {
    do {
        _ = try Scenario.parse(yaml: yaml, file: file, directory: directory)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// The `burnrate` executable built beside the tests (`swift build --build-tests` builds it).
func burnrateExecutable() throws -> String {
    let path = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("burnrate").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        struct Missing: Error, CustomStringConvertible { var description: String }
        throw Missing(description: "\(path) is missing: build it with `swift build --build-tests` before `swift test`")
    }
    return path
}

/// Runs `burnrate` with `arguments` in `directory`; returns its exit status and what it printed.
func burnrate(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try burnrateExecutable())
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "GITHUB_STEP_SUMMARY")
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so that a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
