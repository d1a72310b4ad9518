import Foundation
import Synchronization
import Testing

/// The built `burnrate` binary, run as a process by the tests of `serve` and `ledger key`.
enum ServeProcess {
    static var binary: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        // The executable of the configuration the tests were built in (`make test` builds release).
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return url.appendingPathComponent(".build/\(configuration)/burnrate").path
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    /// Runs burnrate to its end: (exit status, stdout).
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func json(_ line: Substring) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    /// `burnrate serve --db db --listen 127.0.0.1:0`, once it has said where it listens: the
    /// process and its port. Its standard error goes to a temporary file, removed at once (the
    /// open descriptor keeps it readable).
    static func start(db: String, extra: [String] = []) async throws -> (Process, Int) {
        try await start(arguments: ["--db", db] + extra)
    }

    /// `burnrate serve --store URL --listen 127.0.0.1:0`: one instance on a PostgreSQL ledger.
    static func start(store: String, extra: [String] = []) async throws -> (Process, Int) {
        try await start(arguments: ["--store", store] + extra)
    }

    /// The standard error files of the servers started, by pid (kept open for ``said(_:)``).
    static let stderrFiles = Mutex<[Int32: FileHandle]>([:])

    /// What a server started here has written to its standard error so far, and whether it still
    /// runs or how it ended: for a test's failure message.
    static func said(_ process: Process) -> String {
        let handle = stderrFiles.withLock { $0[process.processIdentifier] }
        try? handle?.seek(toOffset: 0)
        let text = (try? handle?.readToEnd()).flatMap { $0.map { String(decoding: $0, as: UTF8.self) } } ?? ""
        let state = process.isRunning ? "running" : "ended (\(process.terminationReason == .exit ? "exit" : "signal") \(process.terminationStatus))"
        return "server pid \(process.processIdentifier) \(state); its stderr: \(text)"
    }

    static func start(arguments: [String]) async throws -> (Process, Int) {
        let errPath = temporaryPath("serve-stderr")
        FileManager.default.createFile(atPath: errPath, contents: nil)
        // Removed at once; the descriptors keep it readable (by ``said(_:)``, after a failure).
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: errPath))
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        stderrFiles.withLock { $0[process.processIdentifier] = reader }
        // Polled, not blocking: a blocked thread of the cooperative pool (two on two cores) would
        // stall every other test.
        for _ in 0..<400 {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://127.0.0.1:") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                return (process, port)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        if process.isRunning { process.terminate() }
        throw ServeProcessError(message: "burnrate serve said no 'listening on' line: \(text)")
    }
}

struct ServeProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
