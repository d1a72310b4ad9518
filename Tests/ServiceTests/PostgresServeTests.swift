import Foundation
import HTTPTypes
import Ledger
import LedgerStore
import PostgresNIO
import PostgresTestSupport
import Synchronization
import Testing

/// Several real `burnrate serve` processes on one PostgreSQL ledger (README, "Several instances on
/// one PostgreSQL"): no overspend whichever instance a request reaches, nothing acknowledged lost
/// when an instance is SIGKILLed, a retry on another instance answered exactly once, storage
/// failures answered 503 and never as a refusal.
@Suite(.enabled(if: PostgresTestDatabase.available, PostgresTestDatabase.skipReason), .timeLimit(.minutes(1)))
struct PostgresServeTests {
    /// A pool `eng` funded with `credits`, `alice` entitled to it; an admin key and alice's key.
    static func setUp(_ url: String, credits: String) throws -> (admin: String, alice: String) {
        for arguments in [["ledger", "pool", "add", "eng"], ["ledger", "identity", "add", "alice", "--pool", "eng"],
                          ["ledger", "fund", "--key", "fund-1", "--pool", "eng", "--amount", credits]] {
            #expect(try ServeProcess.run(arguments + ["--store", url]).0 == 0, "\(arguments)")
        }
        var secrets: [String] = []
        for who in [["--admin"], ["--identity", "alice"]] {
            let (status, out) = try ServeProcess.run(["ledger", "key", "create"] + who + ["--json", "--store", url])
            #expect(status == 0)
            secrets.append(try #require(ServeProcess.json(out.split(separator: "\n").first ?? "")["secret"] as? String))
        }
        return (secrets[0], secrets[1])
    }

    static func stop(_ process: Process) async throws {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(process.terminationStatus == 0)
    }

    /// Every accepted debit in the journal: its key and sequence numbers.
    static func acceptedDebits(_ url: String) async throws -> [String: [Int]] {
        let store = try await PostgresLedgerStore(url: url, readOnly: true)
        var journaled: [String: [Int]] = [:]
        for record in try await store.journalRecords() {
            if case .debit = record.request.command, record.outcome.isAccepted { journaled[record.request.key ?? "", default: []].append(Int(record.seq)) }
        }
        try await store.close()
        return journaled
    }

    static func availableCredits(_ port: Int, _ secret: String) async throws -> String? {
        try await HTTPClient(host: "127.0.0.1", port: port).get("/v1/pools/eng/balance", secret).json["available_credits"] as? String
    }

    /// 32 concurrent clients spread over three instances race 1-credit debits (5 each) on a
    /// 100-credit pool: exactly 100 are accepted, the others refused insufficient_funds; every
    /// instance then reports the same balance, and `ledger verify --store` passes.
    @Test func threeInstancesRaceOnAHundredCreditPool() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let (_, alice) = try Self.setUp(url, credits: "100")
            var instances: [(Process, Int)] = []
            for _ in 0..<3 { instances.append(try await ServeProcess.start(store: url)) }
            let ports = instances.map(\.1)
            let clock = ContinuousClock(), start = clock.now
            let answers = try await withThrowingTaskGroup(of: [(String, Int, Int)].self) { group in
                for c in 0..<32 {
                    group.addTask {
                        var mine: [(String, Int, Int)] = []
                        for i in 0..<5 {
                            let key = "race-\(c)-\(i)"
                            var attempts = 0
                            while true {
                                attempts += 1
                                let r = try await HTTPClient(host: "127.0.0.1", port: ports[c % 3])
                                    .post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: key)
                                if r.status.code == 503, attempts < 50 { try await Task.sleep(for: .milliseconds(20)); continue }
                                mine.append((key, r.status.code, r.json["seq"] as? Int ?? -1))
                                #expect(r.status.code == 201 || (r.status.code == 402 && r.json["reason"] as? String == "insufficient_funds"),
                                        "\(key): \(r.status) \(r.text)")
                                break
                            }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let elapsed = clock.now - start
            let accepted = answers.filter { $0.1 == 201 }
            #expect(accepted.count == 100, "accepted \(accepted.count) of 160 one-credit debits on a 100-credit pool")
            for port in ports { #expect(try await Self.availableCredits(port, alice) == "0") }
            for (process, _) in instances { try await Self.stop(process) }

            let journaled = try await Self.acceptedDebits(url)
            #expect(journaled.count == 100)
            for (key, _, seq) in accepted { #expect(journaled[key] == [seq], "\(key) acknowledged as \(seq), journaled as \(journaled[key] ?? [])") }
            let (status, out) = try ServeProcess.run(["ledger", "verify", "--store", url])
            #expect(status == 0 && out.hasPrefix("ok: "), "\(out)")
            print("postgres race: 3 instances, 32 clients, 160 debits, 100 accepted in \(elapsed)")
        }
    }

    /// The same race over two instances while one of them is SIGKILLed (twice) and restarted:
    /// a client whose request got no answer retries it, with the same Idempotency-Key, on the other
    /// instance. Exactly 100 accepted; every acknowledged debit in the journal exactly once, with
    /// the sequence number it was acknowledged with; both instances report the same balance.
    @Test func theRaceHoldsWhileAnInstanceIsKilledAndRestarted() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let (_, alice) = try Self.setUp(url, credits: "100")
            let cluster = Cluster(url: url)
            try await cluster.start(2)
            let tally = KillTally()
            let answers = try await withThrowingTaskGroup(of: [(String, Int, Int)].self) { group in
                for c in 0..<32 {
                    group.addTask {
                        var mine: [(String, Int, Int)] = []
                        for i in 0..<10 {
                            let key = "kill-\(c)-\(i)"
                            var attempt = 0
                            while true {
                                attempt += 1
                                if attempt > 500 { Issue.record("\(key) never answered"); return mine }
                                let port = await cluster.port(preferring: c + attempt - 1)
                                do {
                                    let r = try await HTTPClient(host: "127.0.0.1", port: port, timeout: .seconds(10))
                                        .post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: key)
                                    if r.status.code == 503 || r.status.code == 409 { try await Task.sleep(for: .milliseconds(10)); continue }
                                    if r.headers[HTTPField.Name("Idempotent-Replayed")!] == "true" { tally.replayed.add(1, ordering: .relaxed) }
                                    tally.answered.add(1, ordering: .relaxed)
                                    mine.append((key, r.status.code, r.json["seq"] as? Int ?? -1))
                                    #expect(r.status.code == 201 || (r.status.code == 402 && r.json["reason"] as? String == "insufficient_funds"),
                                            "\(key): \(r.status) \(r.text)")
                                    break
                                } catch {
                                    // No answer: the instance died with the request. Retry it elsewhere, as it was.
                                    tally.unanswered.add(1, ordering: .relaxed)
                                    try await Task.sleep(for: .milliseconds(5))
                                }
                            }
                        }
                        return mine
                    }
                }
                group.addTask {
                    for threshold in [20, 120] {
                        while tally.answered.load(ordering: .relaxed) < threshold { try await Task.sleep(for: .milliseconds(1)) }
                        try await cluster.killAndRestart(0)
                    }
                    return []
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(await cluster.kills == 2)
            let accepted = answers.filter { $0.1 == 201 }
            #expect(answers.count == 320)
            #expect(accepted.count == 100, "accepted \(accepted.count) of 320 one-credit debits on a 100-credit pool")
            #expect(tally.unanswered.load(ordering: .relaxed) > 0, "no request was in flight at a kill: the test tested nothing")
            let balances = try await [Self.availableCredits(cluster.port(preferring: 0), alice), Self.availableCredits(cluster.port(preferring: 1), alice)]
            #expect(balances == ["0", "0"])
            try await cluster.stopAll()

            let journaled = try await Self.acceptedDebits(url)
            #expect(Set(journaled.keys) == Set(accepted.map(\.0)), "accepted in the journal and acknowledged are the same keys")
            for (key, _, seq) in accepted { #expect(journaled[key] == [seq], "\(key) acknowledged as \(seq), journaled as \(journaled[key] ?? [])") }
            let (status, out) = try ServeProcess.run(["ledger", "verify", "--store", url])
            #expect(status == 0 && out.hasPrefix("ok: "), "\(out)")
            print("postgres kill test: 2 instances, 2 kills, \(tally.unanswered.load(ordering: .relaxed)) unanswered attempts, \(tally.replayed.load(ordering: .relaxed)) replayed answers")
        }
    }

    /// Idempotency across instances: the same request on the other instance is the first answer
    /// (replayed, same seq, charged once); the same key with another body is 422 there too. A key
    /// revoked through one instance authenticates nothing on the other at once.
    @Test func aRetryOnAnotherInstanceGetsTheFirstAnswerAndRevocationsAreSeenAtOnce() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let (admin, alice) = try Self.setUp(url, credits: "100")
            let (a, portA) = try await ServeProcess.start(store: url), (b, portB) = try await ServeProcess.start(store: url)
            let first = try await HTTPClient(host: "127.0.0.1", port: portA).post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "once")
            #expect(first.status.code == 201)
            let again = try await HTTPClient(host: "127.0.0.1", port: portB).post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "once")
            #expect(again.status.code == 201 && again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again.json["seq"] as? Int == first.json["seq"] as? Int)
            let other = try await HTTPClient(host: "127.0.0.1", port: portB).post("/v1/debits", alice, #"{"pool":"eng","amount":"2"}"#, idempotencyKey: "once")
            #expect(other.status.code == 422)
            #expect(try await Self.availableCredits(portA, alice) == "99")
            #expect(try await Self.availableCredits(portB, alice) == "99")

            // A key made through A, used on B, revoked through B: refused on A at once.
            let made = try await HTTPClient(host: "127.0.0.1", port: portA).post("/v1/keys", admin, #"{"identity":"alice"}"#, idempotencyKey: "k-1")
            #expect(made.status.code == 201)
            let secret = try #require(made.json["secret"] as? String), keyID = try #require(made.json["key_id"] as? String)
            #expect(try await HTTPClient(host: "127.0.0.1", port: portB).get("/v1/pools/eng/balance", secret).status.code == 200)
            let retryElsewhere = try await HTTPClient(host: "127.0.0.1", port: portB).post("/v1/keys", admin, #"{"identity":"alice"}"#, idempotencyKey: "k-1")
            #expect(retryElsewhere.status.code == 409 && retryElsewhere.json["reason"] as? String == "secret_not_recoverable")
            let revoked = try await HTTPClient(host: "127.0.0.1", port: portB).send("/v1/keys/\(keyID)", .delete, [.authorization: "Bearer \(admin)"], nil)
            #expect(revoked.status.code == 200)
            #expect(try await HTTPClient(host: "127.0.0.1", port: portA).get("/v1/pools/eng/balance", secret).status.code == 401)
            try await Self.stop(a)
            try await Self.stop(b)
        }
    }

    /// A write that cannot be committed (here: another session holds the journal's lock past
    /// --lock-timeout) is a 503 storage_failure with Retry-After, never a 402; the retry once the
    /// lock is free is accepted, and charged once.
    @Test func aCommitThatCannotHappenIsA503NeverARefusal() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let (_, alice) = try Self.setUp(url, credits: "100")
            let (process, port) = try await ServeProcess.start(store: url, extra: ["--lock-timeout", "200ms"])
            let other = try await PostgresTestDatabase.connect(url)
            try await other.query("SELECT pg_advisory_lock(\(PostgresLedgerStore.journalLockKey))", logger: PostgresTestDatabase.logger)
            let blocked = try await HTTPClient(host: "127.0.0.1", port: port).post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "blocked")
            #expect(blocked.status.code == 503 && blocked.json["reason"] as? String == "storage_failure", "\(blocked.text)")
            #expect(blocked.headers[.retryAfter] == "1")
            try await other.query("SELECT pg_advisory_unlock(\(PostgresLedgerStore.journalLockKey))", logger: PostgresTestDatabase.logger)
            let retry = try await HTTPClient(host: "127.0.0.1", port: port).post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "blocked")
            #expect(retry.status.code == 201)
            #expect(try await Self.availableCredits(port, alice) == "99")
            try await other.close()
            try await Self.stop(process)
        }
    }
    /// An instance stopped (SIGSTOP) in the middle of a write transaction holds the journal's
    /// lock: the other instance's writes wait, then the server ends the idle transaction after
    /// --idle-transaction-timeout (1 s here), releasing the lock, and the other instance writes
    /// again while the first is still stopped. Resumed, the first finds its session ended: its
    /// commands were not committed and are answered 503, and the clients' retries (same key,
    /// either instance) are applied once. Every acknowledged debit is journaled once with the
    /// sequence number it was acknowledged with; both instances report the same balance.
    @Test func anInstanceStoppedInsideATransactionDoesNotStopTheOthers() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let (_, alice) = try Self.setUp(url, credits: "100000")
            let extra = ["--idle-transaction-timeout", "1s", "--lock-timeout", "10s"]
            let (a, portA) = try await ServeProcess.start(store: url, extra: extra), (b, portB) = try await ServeProcess.start(store: url, extra: extra)
            let ports = [portA, portB]
            let tally = KillTally(), done = Flag(), pidA = a.processIdentifier
            let answers = try await withThrowingTaskGroup(of: [(String, Int, Int, Int)].self) { group in
                for c in 0..<8 {
                    group.addTask {
                        var mine: [(String, Int, Int, Int)] = []
                        var i = 0
                        while !done.value.load(ordering: .relaxed) || i < 10 {
                            let key = "stop-\(c)-\(i)"
                            i += 1
                            var attempt = 0
                            while true {
                                attempt += 1
                                if attempt > 200 { Issue.record("\(key) never answered"); return mine }
                                let instance = (c + attempt - 1) % 2
                                do {
                                    let r = try await HTTPClient(host: "127.0.0.1", port: ports[instance], timeout: .seconds(3))
                                        .post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: key)
                                    if r.status.code == 503 || r.status.code == 409 { try await Task.sleep(for: .milliseconds(10)); continue }
                                    #expect(r.status.code == 201, "\(key): \(r.status) \(r.text)")
                                    tally.answered.add(1, ordering: .relaxed)
                                    mine.append((key, r.status.code, r.json["seq"] as? Int ?? -1, instance))
                                    break
                                } catch {
                                    tally.unanswered.add(1, ordering: .relaxed)
                                }
                            }
                        }
                        return mine
                    }
                }
                group.addTask {
                    defer { done.value.store(true, ordering: .relaxed) }
                    while tally.answered.load(ordering: .relaxed) < 40 { try await Task.sleep(for: .milliseconds(2)) }
                    let other = try await PostgresTestDatabase.connect(url)
                    // Stop A until it is caught inside a transaction (its session idle in one).
                    var caught = false
                    for _ in 0..<100 where !caught {
                        kill(pidA, SIGSTOP)
                        try await Task.sleep(for: .milliseconds(30))
                        caught = try await Self.count(other, """
                            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                            AND application_name = 'burnrate pid \(pidA)' AND state = 'idle in transaction'
                            """) > 0
                        if !caught { kill(pidA, SIGCONT); try await Task.sleep(for: .milliseconds(20)) }
                    }
                    #expect(caught, "A was never stopped inside a transaction: the test tested nothing")
                    let before = tally.answered.load(ordering: .relaxed)
                    try await Task.sleep(for: .seconds(3))
                    let whileStopped = tally.answered.load(ordering: .relaxed) - before
                    #expect(whileStopped > 0, "B accepted nothing while A was stopped holding the lock")
                    kill(pidA, SIGCONT)
                    try await other.close()
                    print("postgres stopped-instance test: B answered \(whileStopped) debits while A was stopped inside a transaction")
                    return []
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let balances = try await [Self.availableCredits(portA, alice), Self.availableCredits(portB, alice)]
            #expect(balances[0] == balances[1] && balances[0] == "\(100_000 - answers.count)", "\(balances) after \(answers.count) debits")
            try await Self.stop(a)
            try await Self.stop(b)
            let journaled = try await Self.acceptedDebits(url)
            #expect(journaled.count == answers.count)
            for (key, _, seq, _) in answers { #expect(journaled[key] == [seq], "\(key) acknowledged as \(seq), journaled as \(journaled[key] ?? [])") }
            let (status, out) = try ServeProcess.run(["ledger", "verify", "--store", url])
            #expect(status == 0 && out.hasPrefix("ok: "), "\(out)")
        }
    }

    /// `burnrate audit --store` reads a PostgreSQL ledger and its keys as `--db` reads a SQLite
    /// one, naming it by its URL without the password.
    @Test func auditReadsAPostgresLedger() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            _ = try Self.setUp(url, credits: "100")
            let (status, out) = try ServeProcess.run(["audit", "--store", url, "--json"])
            #expect(status == 1, "alice is bounded only by the pool's balance (BR001, an error): \(out)")
            let findings = try #require((try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any])["findings"] as? [[String: Any]]
            let rules = Set((findings ?? []).compactMap { $0["rule"] as? String })
            #expect(rules.contains("BR001") && rules.contains("BR008"), "\(rules)")
            let name = try PostgresEndpoint(url: url).displayURL
            #expect((findings ?? []).allSatisfy { ($0["file"] as? String) == name }, "\(out)")
            let (missing, _) = try ServeProcess.run(["audit", "--store", url + "_none"])
            #expect(missing == 2)
        }
    }

    static func count(_ connection: PostgresConnection, _ sql: String) async throws -> Int64 {
        var n: Int64 = 0
        for try await c in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresTestDatabase.logger).decode(Int64.self) { n = c }
        return n
    }
}


/// What the kill test's tasks count: answers, attempts without one, replayed answers.
final class KillTally: Sendable {
    let answered = Atomic<Int>(0), unanswered = Atomic<Int>(0), replayed = Atomic<Int>(0)
}

/// A flag tasks share (the stopped-instance test's "stop sending").
final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

/// Instances of `burnrate serve` on one PostgreSQL ledger, each startable, killable, restartable.
actor Cluster {
    let url: String
    private var processes: [Process?] = []
    private var ports: [Int?] = []
    private var waiters: [CheckedContinuation<Int, Never>] = []
    private(set) var kills = 0

    init(url: String) { self.url = url }

    func start(_ count: Int) async throws {
        for _ in 0..<count {
            let (process, port) = try await ServeProcess.start(store: url)
            processes.append(process)
            ports.append(port)
        }
    }

    /// The port of instance `n % count` if it is up, else of another that is; waits while none is.
    func port(preferring n: Int) async -> Int {
        let count = ports.count
        for i in 0..<count { if let port = ports[(n + i) % count] { return port } }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func killAndRestart(_ index: Int) async throws {
        guard let process = processes[index] else { return }
        ports[index] = nil
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<400 where process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(process.terminationReason == .uncaughtSignal)
        kills += 1
        let (restarted, port) = try await ServeProcess.start(store: url)
        processes[index] = restarted
        ports[index] = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters = []
    }

    func stopAll() async throws {
        for (i, process) in processes.enumerated() {
            guard let process else { continue }
            ports[i] = nil
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(process.terminationStatus == 0)
        }
    }
}
