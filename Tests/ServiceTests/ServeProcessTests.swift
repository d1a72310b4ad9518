import Foundation
import HTTPTypes
import LedgerStore
import Testing

/// `burnrate serve` and `burnrate ledger key` as processes: the ready line, a real request, a
/// graceful stop, the key commands' output and exit codes.
@Suite struct ServeProcessTests {
    func run(_ arguments: [String]) throws -> (Int32, String) { try ServeProcess.run(arguments) }
    func json(_ line: Substring) -> [String: Any] { ServeProcess.json(line) }

    @Test func keysAreCreatedListedAndRevokedFromTheCommandLine() throws {
        let db = ServeProcess.temporaryPath("keys") + ".db"
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
        let db = ServeProcess.temporaryPath("serve") + ".db"
        defer { LedgerStore.remove(path: db) }
        let (_, out) = try run(["ledger", "key", "create", "--admin", "--json", "--db", db])
        let admin = try #require(json(out.split(separator: "\n").first ?? "")["secret"] as? String)

        let (process, bound) = try await ServeProcess.start(db: db)
        defer { if process.isRunning { process.terminate() } }
        #expect(bound > 0)
        let ok: Reply
        do { ok = try await HTTPClient(host: "127.0.0.1", port: bound).post("/v1/pools", admin, #"{"pool":"eng"}"#) } catch {
            Issue.record("POST /v1/pools on port \(bound): \(error); \(ServeProcess.said(process))")
            return
        }
        #expect(ok.status == .created, "\(ok.text)")
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
