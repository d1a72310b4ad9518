import Foundation
import HTTPTypes
import HummingbirdTesting
import LedgerStore
import Testing

/// `burnrate serve` and `burnrate ledger key` as processes: the ready line, a real request, a
/// graceful stop, the key commands' output and exit codes.
@Suite struct ServeProcessTests {
    var binary: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug/burnrate").path
    }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    /// Runs burnrate to its end: (exit status, stdout).
    func run(_ arguments: [String]) throws -> (Int32, String) {
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

    func json(_ line: Substring) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test func keysAreCreatedListedAndRevokedFromTheCommandLine() throws {
        let db = temporaryPath("keys") + ".db"
        defer { LedgerStore.remove(path: db) }
        #expect(try run(["ledger", "pool", "add", "eng", "--db", db]).0 == 0)
        #expect(try run(["ledger", "identity", "add", "alice", "--pool", "eng", "--db", db]).0 == 0)
        let (status, out) = try run(["ledger", "key", "create", "--identity", "alice", "--expires-in", "90d", "--json", "--db", db])
        #expect(status == 0)
        let created = json(out.split(separator: "\n").first ?? "")
        let id = try #require(created["key_id"] as? String)
        let secret = try #require(created["secret"] as? String)
        #expect(secret.hasPrefix("brk_"))
        let (_, listed) = try run(["ledger", "key", "list", "--json", "--db", db])
        #expect(!listed.contains(secret.suffix(43)), "the secret is never printed again")
        let entry = json(listed.split(separator: "\n").first ?? "")
        #expect(entry["key_id"] as? String == id)
        #expect(entry["identity"] as? String == "alice")
        #expect(entry["status"] as? String == "active")
        #expect(entry["expires_at"] is String)
        #expect(try run(["ledger", "key", "revoke", id, "--db", db]).0 == 0)
        #expect(json(try run(["ledger", "key", "list", "--json", "--db", db]).1.split(separator: "\n").first ?? "")["status"] as? String == "revoked")
        #expect(try run(["ledger", "key", "revoke", "key_0000000000000000", "--db", db]).0 == 2)
        #expect(try run(["ledger", "key", "create", "--identity", "nobody", "--db", db]).0 == 2)
        #expect(try run(["ledger", "key", "create", "--identity", "alice", "--admin", "--db", db]).0 == 2)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func serveSaysWhereItListensAnswersAndStopsGracefully(signal: Int32) async throws {
        let db = temporaryPath("serve") + ".db", errPath = temporaryPath("serve-stderr")
        defer { LedgerStore.remove(path: db); try? FileManager.default.removeItem(atPath: errPath) }
        let (_, out) = try run(["ledger", "key", "create", "--admin", "--json", "--db", db])
        let admin = try #require(json(out.split(separator: "\n").first ?? "")["secret"] as? String)

        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--db", db, "--listen", "127.0.0.1:0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var port: Int?
        for _ in 0..<200 where port == nil {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://127.0.0.1:") }) {
                port = Int(line.split(separator: ":").last ?? "")
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let bound = try #require(port, "no 'listening on' line: \((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")")
        #expect(bound > 0)
        try await TestClient.withClient(host: "127.0.0.1", port: bound) { client in
            let ok = try await ConnectionClient(client: client).post("/v1/pools", admin, #"{"pool":"eng"}"#)
            #expect(ok.status == .created, "\(ok.text)")
        }
        kill(process.processIdentifier, signal)
        // Polled, not waitUntilExit(): a blocked thread of the cooperative pool (two on two cores)
        // would stall every other test of the suite.
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning, "still running 30 s after the signal")
        if process.isRunning { return }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        // The ledger was closed: another process may open it, and the pool is there.
        let store = try await LedgerStore(path: db)
        #expect(await store.balance(of: "eng") != nil)
        try await store.close()
    }
}
