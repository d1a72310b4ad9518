import ArgumentParser
import Foundation
import Ledger
import LedgerStore

/// `burnrate ledger`: real balances in a durable ledger (SQLite).
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Hold real balances: a durable credit ledger in a SQLite file.",
        discussion: """
            Exit status: 0 accepted, 1 refused by the ledger (the reason is printed), 2 bad input \
            or a damaged database.
            """,
        subcommands: [LedgerInit.self, LedgerPool.self, LedgerIdentity.self, LedgerEntitle.self, LedgerFund.self, LedgerAuthorize.self, LedgerCapture.self,
                      LedgerRelease.self, LedgerDebit.self, LedgerBalance.self, LedgerStatement.self, LedgerVerify.self,
                      LedgerExport.self, LedgerImport.self, LedgerApply.self]
    )
}

struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "The ledger database file.")
    var db: String = "burnrate.db"

    @Option(name: .long, help: "Snapshot the state every N committed commands (0: never; default 1000000).")
    var snapshotEvery: UInt64 = 1_000_000

    func open() async throws -> LedgerStore {
        do { return try await LedgerStore(path: db, snapshotEvery: snapshotEvery) } catch {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
    }
}

func wallClockMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

struct LedgerInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an empty ledger database (or check an existing one).")
    @OptionGroup var database: DatabaseOption
    func run() async throws {
        let store = try await database.open()
        print("ledger \(database.db): \(await store.state.lastSeq) journaled commands")
    }
}

struct LedgerApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply JSON-lines commands from standard input; answer each once it is durable.",
        discussion: """
            One command per line, e.g. {"op":"fund","key":"k1","pool":"eng","amount":"1000"}. \
            Ops: create_pool, create_identity, fund, debit, authorize, capture, release. Each \
            answer line is written only after its command is committed: \
            {"key":"k2","status":"accepted","seq":17,...} or {"status":"refused","reason":...}; \
            a malformed line gets {"status":"error","line":N,"message":...} and the stream goes on.
            """
    )
    @OptionGroup var database: DatabaseOption

    func run() async throws {
        let store = try await database.open()
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                let operation = try LedgerOperation.parse(line)
                switch try await store.apply(operation, nowMs: wallClockMs()) {
                case .success(let outcomes): print(operation.answer(outcomes))
                case .failure(let e): print(LedgerOperation.json(["status": "error", "line": lineNumber, "message": e.message]))
                }
            } catch let e as LedgerOperation.OperationError {
                print(LedgerOperation.json(["status": "error", "line": lineNumber, "message": e.message]))
            }
            fflush(nil)  // the answer must reach the caller now, not when a buffer fills
        }
    }
}

struct LedgerBalance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "A pool's balance: total, held, available.")
    @OptionGroup var database: DatabaseOption
    @Option(name: .long, help: "The pool.") var pool: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let store = try await database.open()
        guard let b = await store.balance(of: pool) else {
            writeStandardError("error: no pool '\(pool)' in \(database.db)\n")
            throw ExitCode(2)
        }
        if json {
            print(LedgerOperation.json(["pool": pool, "total_credits": Money.formatCredits(b.totalMicrocredits),
                                  "held_credits": Money.formatCredits(b.heldMicrocredits),
                                  "available_credits": Money.formatCredits(b.availableMicrocredits)]))
        } else {
            print("\(pool): total \(Money.formatCredits(b.totalMicrocredits)), held \(Money.formatCredits(b.heldMicrocredits)), available \(Money.formatCredits(b.availableMicrocredits)) credits")
        }
    }
}

struct LedgerVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Recompute every checksum, outcome and invariant from the journal.")
    @OptionGroup var database: DatabaseOption
    func run() async throws {
        let store = try await database.open()
        let report: VerifyReport
        do { report = try await store.verify() } catch {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
        guard report.ok else {
            writeStandardError("error: \(database.db): \(report.invariantViolations.joined(separator: "; "))\n")
            throw ExitCode(2)
        }
        print("ok: \(report.commands) commands, state digest \(String(report.digest, radix: 16))")
        let r = store.recovery
        print("opened from \(r.snapshotSeq.map { "the snapshot at \($0) + \(r.replayed) journal commands" } ?? "the whole journal (\(r.replayed) commands)")")
        for s in r.skipped { print("note: \(s); recovery fell back past it") }
    }
}

struct LedgerExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Print the journal as JSON lines.")
    @OptionGroup var database: DatabaseOption
    func run() async throws {
        let store = try await database.open()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for r in try store.records() { print(String(decoding: try encoder.encode(r), as: UTF8.self)) }
    }
}

struct LedgerImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Rebuild a ledger from an exported journal (JSON lines on standard input).",
        discussion: """
            Every command is applied again, in order, to an empty database, and must get the \
            answer it got originally; the first one that does not stops the import with its \
            sequence number (exit 2).
            """
    )
    @OptionGroup var database: DatabaseOption

    func run() async throws {
        let store = try await database.open()
        guard await store.state.lastSeq == 0 else {
            writeStandardError("error: \(database.db) is not empty: import into a new database\n")
            throw ExitCode(2)
        }
        var line = 0
        let decoder = JSONDecoder()
        while let text = readLine(strippingNewline: true) {
            line += 1
            if text.allSatisfy(\.isWhitespace) { continue }
            guard let record = try? decoder.decode(JournalRecord.self, from: Data(text.utf8)) else {
                writeStandardError("error: line \(line): not a journal record\n")
                throw ExitCode(2)
            }
            let outcome = try await store.submit(record.request)
            guard outcome == record.outcome else {
                writeStandardError("error: line \(line): journal entry \(record.seq) replays to a different answer\n")
                throw ExitCode(2)
            }
        }
        print("imported \(line) commands into \(database.db)")
    }
}
