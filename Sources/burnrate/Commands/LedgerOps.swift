import ArgumentParser
import Foundation
import Ledger
import LedgerStore

/// Applies one operation (the same as a line of `ledger apply`) and exits 0 accepted, 1 refused,
/// 2 bad input.
func runOperation(_ fields: [String: Any], database: DatabaseOption, json: Bool) async throws {
    let line = LedgerOperation.json(fields)
    let operation: LedgerOperation
    do { operation = try LedgerOperation.parse(line) } catch {
        writeStandardError("error: \(error.message)\n")
        throw ExitCode(2)
    }
    let store = try await database.open()
    let result: Result<[Outcome], LedgerOperation.OperationError>
    do { result = try await store.apply(operation, nowMs: wallClockMs()) } catch {
        writeStandardError("error: \(database.location): the command was not applied: \(error)\n")
        throw ExitCode(2)
    }
    switch result {
    case .failure(let e):
        writeStandardError("error: \(e.message)\n")
        throw ExitCode(2)
    case .success(let outcomes):
        let answer = operation.answer(outcomes)
        if json { print(answer) } else { print(humanAnswer(answer)) }
        try finishOutput()
        if outcomes.contains(where: { !$0.isAccepted }) { throw ExitCode(1) }
    }
}

/// `{"status":"refused","reason":"insufficient_funds",...}` → `refused: insufficient_funds (available_credits 3.5)`.
func humanAnswer(_ json: String) -> String {
    guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
    let status = o["status"] as? String ?? "?"
    let rest = o.keys.sorted().filter { !["status", "op", "reason"].contains($0) }.map { "\($0) \(o[$0]!)" }.joined(separator: ", ")
    return "\(status)\((o["reason"] as? String).map { ": \($0)" } ?? "")\(rest.isEmpty ? "" : " (\(rest))")"
}

struct KeyOption: ParsableArguments {
    @Option(name: .long, help: "Idempotency key: a retry with the same key changes nothing.") var key: String
    @Flag(name: .long, help: "Print the answer as JSON.") var json = false
}

struct LedgerPool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pool", abstract: "Manage pools.", subcommands: [Add.self])
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a pool (optionally under a parent).")
        @OptionGroup var database: DatabaseOption
        @Argument(help: "The pool's name.") var name: String
        @Option(name: .long, help: "The parent pool.") var parent: String?
        @Option(name: .long, help: "The environment it serves (production, sandbox, …), for `burnrate audit`.") var environment: String?
        @Flag(name: .long, help: "Print the answer as JSON.") var json = false
        func run() async throws {
            var f: [String: Any] = ["op": "create_pool", "pool": name]
            if let parent { f["parent"] = parent }
            if let environment { f["environment"] = environment }
            try await runOperation(f, database: database, json: json)
        }
    }
}

struct LedgerIdentity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identity", abstract: "Manage identities.", subcommands: [Add.self])
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an identity entitled to the given pools.")
        @OptionGroup var database: DatabaseOption
        @Argument(help: "The identity's name.") var name: String
        @Option(name: .customLong("pool"), help: "A pool it may draw from (repeatable).") var pools: [String] = []
        @Option(name: .long, help: "The environment it works in (production, sandbox, …), for `burnrate audit`.") var environment: String?
        @Flag(name: .long, help: "Print the answer as JSON.") var json = false
        func run() async throws {
            var f: [String: Any] = ["op": "create_identity", "identity": name, "pools": pools]
            if let environment { f["environment"] = environment }
            try await runOperation(f, database: database, json: json)
        }
    }
}

struct LedgerEntitle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entitle",
        abstract: "Set what an identity may do on a pool: tiers, a spend cap per period, a rate cap.",
        discussion: "Replaces the identity's earlier entitlement on that pool.")
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Argument(help: "The identity.") var identity: String
    @Option(name: .long, help: "The pool.") var pool: String
    @Option(name: .long, parsing: .upToNextOption, help: "Tiers (model or tool numbers) it may use (default: all).") var tiers: [Int] = []
    @Option(name: .long, help: "Spend cap in credits per --cap-period (spent plus open holds).") var cap: String?
    @Option(name: .long, help: "The cap's period (default 1d).") var capPeriod: String?
    @Option(name: .long, help: "At most this many draws per --rate-window.") var rateMax: Int?
    @Option(name: .long, help: "The rate cap's window (default 1m).") var rateWindow: String?
    func run() async throws {
        var f: [String: Any] = ["op": "entitle", "key": keyed.key, "identity": identity, "pool": pool]
        if !tiers.isEmpty { f["tiers"] = tiers }
        if let cap { f["cap"] = cap }
        if let capPeriod { f["cap_period"] = capPeriod }
        if let rateMax { f["rate_max"] = rateMax }
        if let rateWindow { f["rate_window"] = rateWindow }
        try await runOperation(f, database: database, json: keyed.json)
    }
}

struct LedgerFund: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fund", abstract: "Add a grant of credits to a pool.")
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The pool.") var pool: String
    @Option(name: .long, help: "Credits (decimal, exact to the micro-credit).") var amount: String
    @Option(name: .long, help: "Expires after this duration (e.g. 30d).") var expiresIn: String?
    func run() async throws {
        var f: [String: Any] = ["op": "fund", "key": keyed.key, "pool": pool, "amount": amount]
        if let expiresIn { f["expires_in"] = expiresIn }
        try await runOperation(f, database: database, json: keyed.json)
    }
}

struct LedgerDebit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debit", abstract: "Draw credits for an identity in one step.")
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The identity.") var identity: String
    @OptionGroup var source: DrawSourceOption
    @Option(name: .long, help: "Credits.") var amount: String
    func run() async throws {
        try await runOperation(source.fields(["op": "debit", "key": keyed.key, "identity": identity, "amount": amount]),
                               database: database, json: keyed.json)
    }
}

struct LedgerAuthorize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "authorize", abstract: "Place a hold; prints its id.")
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The identity.") var identity: String
    @OptionGroup var source: DrawSourceOption
    @Option(name: .long, help: "Credits to hold.") var amount: String
    @Option(name: .long, help: "The hold lapses after this duration.") var expiresIn: String = "5m"
    func run() async throws {
        try await runOperation(source.fields(["op": "authorize", "key": keyed.key, "identity": identity, "amount": amount,
                                              "expires_in": expiresIn]), database: database, json: keyed.json)
    }
}

struct LedgerCapture: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture", abstract: "Settle a hold at the actual amount.",
        discussion: """
            The rest of the hold is released. Above the hold, the difference is new spend and passes \
            the checks of a debit (identity, tier, rate and spend caps, then the pool's policies). \
            Only the hold's own identity may capture it (else: hold_not_owned).
            """)
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The identity that placed the hold.") var identity: String
    @Option(name: .long, help: "The hold id.") var hold: String
    @Option(name: .long, help: "Credits actually spent.") var amount: String
    @Option(name: .long, help: "The delegation the hold was placed through (checked), if any.") var delegation: String?
    func run() async throws {
        var f: [String: Any] = ["op": "capture", "key": keyed.key, "identity": identity, "hold": hold, "amount": amount]
        if let delegation { f["delegation"] = delegation }
        try await runOperation(f, database: database, json: keyed.json)
    }
}

struct LedgerRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Release a hold without charging.",
        discussion: "Only the hold's own identity may release it (else: hold_not_owned).")
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The identity that placed the hold.") var identity: String
    @Option(name: .long, help: "The hold id.") var hold: String
    func run() async throws {
        try await runOperation(["op": "release", "key": keyed.key, "identity": identity, "hold": hold], database: database, json: keyed.json)
    }
}

/// `ledger suspend|resume|revoke IDENTITY`: the kill switch. Draws of a suspended or revoked
/// identity fail at once, before any balance is read; a revoked identity stays revoked.
struct LedgerSetStatus: ParsableArguments {
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Argument(help: "The identity.") var identity: String
    func run(op: String) async throws {
        try await runOperation(["op": op, "key": keyed.key, "identity": identity], database: database, json: keyed.json)
    }
}

struct LedgerSuspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend", abstract: "Suspend an identity (kill switch): its draws fail at once, whatever the balance.")
    @OptionGroup var status: LedgerSetStatus
    func run() async throws { try await status.run(op: "suspend") }
}

struct LedgerResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a suspended identity.")
    @OptionGroup var status: LedgerSetStatus
    func run() async throws { try await status.run(op: "resume") }
}

struct LedgerRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an identity for good: its draws fail at once and it cannot be resumed.")
    @OptionGroup var status: LedgerSetStatus
    func run() async throws { try await status.run(op: "revoke") }
}

struct LedgerStatement: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statement", abstract: "A pool's movements (CSV or JSON).")
    @OptionGroup var database: DatabaseOption
    @Option(name: .long, help: "The pool.") var pool: String
    @Flag(name: .long, help: "JSON instead of CSV.") var json = false
    func run() async throws {
        let store = try await database.open(readOnly: true)
        guard let id = try await store.committedState().pool(named: pool) else {
            writeStandardError("error: no pool '\(pool)'\n")
            throw ExitCode(2)
        }
        let statement = Statement(records: try await store.journalRecords(), pool: id, fromMs: .min, toMs: .max)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(statement), as: UTF8.self))
        } else {
            print("seq,at_ms,counterparty,amount_credits,balance_credits")
            for l in statement.lines {
                print("\(l.seq),\(l.atMs),\(l.counterparty),\(Money.formatCredits(l.amountMicrocredits)),\(Money.formatCredits(l.balanceMicrocredits))")
            }
        }
        try finishOutput()
    }
}
