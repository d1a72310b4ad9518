import Foundation
import HTTPTypes
import Ledger
import LedgerStore
import Synchronization
import Testing

/// The real `burnrate serve` binary, SIGKILLed at random points under load and restarted:
/// clients retry only the requests that got no answer, and afterwards every acknowledged debit
/// is in the journal exactly once, with the sequence number it was acknowledged with, and the
/// balance is exact.
@Suite struct ServeCrashTests {
    @Test func everyAcknowledgedDebitSurvivesKillsExactlyOnce() async throws {
        let db = ServeProcess.temporaryPath("crash") + ".db"
        defer { LedgerStore.remove(path: db) }
        for arguments in [["ledger", "pool", "add", "eng"], ["ledger", "identity", "add", "alice", "--pool", "eng"],
                          ["ledger", "fund", "--key", "fund-1", "--pool", "eng", "--amount", "1000000"]] {
            #expect(try ServeProcess.run(arguments + ["--db", db]).0 == 0, "\(arguments)")
        }
        let (status, out) = try ServeProcess.run(["ledger", "key", "create", "--identity", "alice", "--json", "--db", db])
        #expect(status == 0)
        let alice = try #require(ServeProcess.json(out.split(separator: "\n").first ?? "")["secret"] as? String)

        let server = Supervisor(db: db)
        try await server.start()
        let clients = 8, kills = 12
        let progress = CrashProgress()
        var generator = SystemRandomNumberGenerator()
        let pauses = (0..<kills).map { _ in Int.random(in: 40...300, using: &generator) }

        let acknowledged = try await withThrowingTaskGroup(of: [String: (seq: Int, status: HTTPResponse.Status)].self) { group in
            for c in 0..<clients {
                group.addTask {
                    var answers: [String: (seq: Int, status: HTTPResponse.Status)] = [:]
                    var n = 0, afterKiller = 0
                    // Keep sending until the killer is done, then a few more against the last server.
                    while afterKiller < 5 {
                        if progress.killerDone.withLock({ $0 }) { afterKiller += 1 }
                        let key = "crash-\(c)-\(n)"
                        n += 1
                        var attempts = 0
                        while true {
                            attempts += 1
                            #expect(attempts < 2_000, "\(key) never answered")
                            if attempts >= 2_000 { return answers }
                            let port = await server.port()
                            do {
                                let r = try await HTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(10))
                                    .post("/v1/debits", alice, #"{"pool":"eng","amount":"0.25"}"#, idempotencyKey: key)
                                if r.status == .conflict { try await Task.sleep(for: .milliseconds(5)); continue }  // its first try is still in flight
                                if r.headers[HTTPField.Name("Idempotent-Replayed")!] == "true" { progress.tally.withLock { $0.replayed += 1 } }
                                answers[key] = (r.json["seq"] as? Int ?? -1, r.status)
                                break
                            } catch {
                                // No answer: the server died with the request (or before it). Retry it as it was.
                                progress.tally.withLock { $0.unanswered += 1 }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                    return answers
                }
            }
            group.addTask {
                for pause in pauses {
                    try await Task.sleep(for: .milliseconds(pause))
                    try await server.killAndRestart()
                }
                progress.killerDone.withLock { $0 = true }
                return [:]
            }
            return try await group.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
        }
        try await server.stop()

        let (unanswered, replayed) = progress.tally.withLock { ($0.unanswered, $0.replayed) }
        #expect(await server.kills == kills)
        #expect(unanswered > 0, "no request was in flight at any kill: the test did not test anything")
        #expect(acknowledged.count >= clients * 5)
        for (key, answer) in acknowledged { #expect(answer.status == .created, "\(key): \(answer.status)") }

        let store = try await LedgerStore(path: db, readOnly: true)
        let debits = try store.records().filter { if case .debit = $0.request.command { true } else { false } }
        var journaled: [String: [Int]] = [:]
        for record in debits { journaled[record.request.key ?? "", default: []].append(Int(record.seq)) }
        let unacknowledged = Set(journaled.keys).subtracting(acknowledged.keys), lost = Set(acknowledged.keys).subtracting(journaled.keys)
        #expect(unacknowledged.isEmpty, "journaled but never acknowledged: \(unacknowledged.sorted().prefix(10))")
        #expect(lost.isEmpty, "acknowledged but not in the journal: \(lost.sorted().prefix(10))")
        for (key, answer) in acknowledged {
            #expect(journaled[key] == [answer.seq], "\(key) acknowledged as seq \(answer.seq), journaled as \(journaled[key] ?? [])")
        }
        let balance = try #require(await store.balance(of: "eng"))
        #expect(balance.availableMicrocredits == 1_000_000 * Money.microcreditsPerCredit - Int64(acknowledged.count) * 250_000)
        try await store.close()
        print("crash test: \(acknowledged.count) debits, \(kills) kills, \(unanswered) unanswered attempts, \(replayed) replayed answers")
    }
}

/// What the crash test's tasks share: whether the killer is done, and how many requests went
/// unanswered or were answered as replays.
final class CrashProgress: Sendable {
    let killerDone = Mutex(false)
    let tally = Mutex((unanswered: 0, replayed: 0))
}

/// One `burnrate serve` at a time on `db`: started, SIGKILLed, restarted on a new port.
actor Supervisor {
    let db: String
    private var process: Process?
    private var current: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []
    private(set) var kills = 0

    init(db: String) { self.db = db }

    /// The port of the running server; waits while it is down.
    func port() async -> Int {
        if let current { return current }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func start() async throws {
        let (process, port) = try await ServeProcess.start(db: db)
        self.process = process
        current = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters = []
    }

    func killAndRestart() async throws {
        guard let process else { return }
        current = nil
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(process.terminationReason == .uncaughtSignal)
        kills += 1
        try await start()
    }

    func stop() async throws {
        guard let process else { return }
        current = nil
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(process.terminationStatus == 0)
    }
}
