import Foundation
import LedgerStore
import Testing

/// `burnrate ledger key` as a process: the key commands' output and exit codes.
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
}
