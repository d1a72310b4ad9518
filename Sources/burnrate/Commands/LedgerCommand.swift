import ArgumentParser
import Foundation
import Ledger
import LedgerStore

/// `burnrate ledger`: real balances in a durable ledger (SQLite).
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Hold real balances: a durable credit ledger in a SQLite file (or PostgreSQL, --store).",
        discussion: """
            Exit status: 0 accepted, 1 refused by the ledger (the reason is printed), 2 bad input, \
            a damaged database, or a ledger in use by another process (one process writes a ledger \
            at a time; `balance` and `statement` read beside it). docs/ledger.md describes every \
            op, the strict input rules and the journal interchange format.
            """,
        subcommands: [LedgerInit.self, LedgerPool.self, LedgerIdentity.self, LedgerEntitle.self, LedgerSuspend.self, LedgerResume.self,
                      LedgerRevoke.self, LedgerFund.self, LedgerAuthorize.self, LedgerCapture.self,
                      LedgerRelease.self, LedgerDebit.self, LedgerDelegate.self, LedgerCloseDelegation.self, LedgerBalance.self, LedgerStatement.self, LedgerVerify.self,
                      LedgerExport.self, LedgerImport.self, LedgerApply.self, LedgerKey.self]
    )
}

struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "The ledger database file (SQLite; default burnrate.db).")
    var db: String?

    @Option(name: .long, help: ArgumentHelp(
        "A ledger in PostgreSQL, instead of --db: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (password also from PGPASSWORD).",
        discussion: "Several `serve` instances may share one such ledger (README, \"Several instances on one PostgreSQL\")."))
    var store: String?

    @Option(name: .long, help: "Snapshot the state every N committed commands (0: never; default 1000000).")
    var snapshotEvery: UInt64 = 1_000_000

    @Option(help: "With --store: how long a write waits for the journal's lock (held by another instance) before it is refused as unavailable (503 from serve), e.g. 5s, 500ms.")
    var lockTimeout = "5s"

    @Option(help: "With --store: the deadline of every round trip to PostgreSQL; a server or network that stops answering fails the commands in flight as unavailable after this long.")
    var queryTimeout = "10s"

    @Option(help: "With --store: a transaction left idle this long (its instance stopped or cut off while holding the journal's lock) is ended by the server, so the other instances can write again.")
    var idleTransactionTimeout = "10s"

    func validate() throws {
        if db != nil, store != nil { throw ValidationError("give --db FILE or --store postgresql://…, not both") }
        if let store, !LedgerStores.isPostgres(store) { throw ValidationError("--store: expected postgresql://USER@HOST:PORT/DB, got '\(store)'") }
        _ = try timeouts()
    }

    /// The PostgreSQL timeouts of the three options.
    func timeouts() throws -> PostgresTimeouts {
        func ms(_ text: String, _ option: String) throws -> Int64 {
            guard let ms = Millis.parse(text), ms > 0, ms <= 24 * Millis.hour else {
                throw ValidationError("--\(option): expected a positive duration of at most 24h, such as 5s or 500ms, got '\(text)'")
            }
            return ms
        }
        return PostgresTimeouts(lockMs: try ms(lockTimeout, "lock-timeout"), queryMs: try ms(queryTimeout, "query-timeout"),
                                idleTransactionMs: try ms(idleTransactionTimeout, "idle-transaction-timeout"))
    }

    /// The SQLite file, when the ledger is one.
    var path: String { db ?? "burnrate.db" }
    /// Where the ledger is, as messages name it (a PostgreSQL URL without its password).
    var location: String { LedgerStores.displayName(store ?? path) }

    /// `readOnly`: for commands that only read (balance, statement), which may run beside a writer.
    /// `create: false`: the ledger must exist (verify, export).
    func open(readOnly: Bool = false, create: Bool = true) async throws -> any DurableLedger {
        do {
            return try await LedgerStores.open(store ?? path, snapshotEvery: snapshotEvery, readOnly: readOnly, create: create, timeouts: try timeouts())
        } catch {
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
        print("ledger \(database.location): \(await store.state.lastSeq) journaled commands")
        try finishOutput()
    }
}

struct LedgerApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply JSON-lines commands from standard input; answer each once it is durable.",
        discussion: """
            One command per line, e.g. {"op":"fund","key":"k1","pool":"eng","amount":"1000"}. \
            Ops: \(LedgerOperation.ops.joined(separator: ", ")) (docs/ledger.md lists their fields). \
            Every op that changes balances or rights carries an idempotency "key": a retry of the same \
            request (relative times such as "expires_in" included) returns the first answer and changes \
            nothing; the same key with another request is refused (idempotency_key_reused). Keys \
            compare byte for byte.

            Lines are decoded strictly: known fields only, exact types, no duplicate fields, amounts \
            as decimal strings (or exact JSON numbers) with at most 6 decimals, durations with a unit. \
            Each answer line is written only after its command is committed: \
            {"key":"k2","status":"accepted","seq":17,...} or {"status":"refused","reason":...}; a \
            malformed line gets {"status":"error","line":N,"field":...,"message":...}, changes \
            nothing, and the stream goes on.

            Exit status: 0 at the end of the input; 2 when the ledger cannot be opened (damaged, or \
            in use by another process) or a command cannot be made durable (a full disk): that \
            line is answered {"status":"error","reason":"storage_failure",...} (it was not applied) \
            and the stream stops.
            """
    )
    @OptionGroup var database: DatabaseOption

    func run() async throws {
        let store = try await database.open()
        var reader = BoundedLineReader(maxBytes: LedgerOperation.maxLineBytes)
        var lineNumber = 0
        while let next = reader.next() {
            lineNumber += 1
            // The answer must reach the caller now, not when a buffer fills; an answer that cannot
            // be written stops the stream (its command is committed: a retry with its key is safe).
            defer { _ = standardOutputFailed() }  // every answer (error lines too) reaches the caller at once
            if standardOutputFailed() {
                writeStandardError("error: cannot write answers to standard output; stopped before line \(lineNumber) (the commands before it are committed)\n")
                throw ExitCode(2)
            }
            let line: String
            switch next {
            case .text(let text): line = text
            case .tooLong:
                print(LedgerOperation.errorLine(line: lineNumber, .init(message: "line longer than \(LedgerOperation.maxLineBytes) bytes")))
                continue
            case .invalidUTF8:
                print(LedgerOperation.errorLine(line: lineNumber, .init(message: "the line is not valid UTF-8")))
                continue
            }
            if line.allSatisfy(\.isWhitespace) { continue }
            let operation: LedgerOperation
            do { operation = try LedgerOperation.parse(line) } catch {
                print(LedgerOperation.errorLine(line: lineNumber, error))
                continue
            }
            let result: Result<[Outcome], LedgerOperation.OperationError>
            do { result = try await store.apply(operation, nowMs: wallClockMs()) } catch {
                // Not durable, so not applied (the store rebuilt its state from what is committed).
                print(LedgerOperation.errorLine(line: lineNumber, .init(message: "the command was not applied: \(error)"),
                                                reason: "storage_failure"))
                fflush(nil)
                writeStandardError("error: \(database.location): line \(lineNumber) was not applied: \(error)\n")
                throw ExitCode(2)
            }
            switch result {
            case .success(let outcomes): print(operation.answer(outcomes))
            case .failure(let e): print(LedgerOperation.errorLine(line: lineNumber, e))
            }
        }
        if let problem = reader.readError {
            writeStandardError("error: cannot read standard input: \(problem)\n")
            throw ExitCode(2)
        }
        try finishOutput()
    }
}

struct LedgerBalance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "A pool's balance: total, held, available.")
    @OptionGroup var database: DatabaseOption
    @Option(name: .long, help: "The pool.") var pool: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        let store = try await database.open(readOnly: true)
        guard let b = try await store.committedBalance(of: pool) else {
            writeStandardError("error: no pool '\(pool)' in \(database.location)\n")
            throw ExitCode(2)
        }
        if json {
            print(LedgerOperation.json(["pool": pool, "total_credits": Money.formatCredits(b.totalMicrocredits),
                                  "held_credits": Money.formatCredits(b.heldMicrocredits),
                                  "available_credits": Money.formatCredits(b.availableMicrocredits)]))
        } else {
            print("\(pool): total \(Money.formatCredits(b.totalMicrocredits)), held \(Money.formatCredits(b.heldMicrocredits)), available \(Money.formatCredits(b.availableMicrocredits)) credits")
        }
        try finishOutput()
    }
}

struct LedgerVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Recompute every checksum, outcome and invariant from the journal.")
    @OptionGroup var database: DatabaseOption
    func run() async throws {
        let store = try await database.open(create: false)
        let report: VerifyReport
        do { report = try await store.verify() } catch {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
        guard report.ok else {
            writeStandardError("error: \(database.location): \(report.invariantViolations.joined(separator: "; "))\n")
            throw ExitCode(2)
        }
        print("ok: \(report.commands) commands, state digest \(String(report.digest, radix: 16))")
        let r = store.recovery
        print("opened from \(r.snapshotSeq.map { "the snapshot at \($0) + \(r.replayed) journal commands" } ?? "the whole journal (\(r.replayed) commands)")")
        for s in r.skipped { print("note: \(s); recovery fell back past it") }
        try finishOutput()
    }
}

struct LedgerExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print the journal in the interchange format (JSON lines, burnrate.journal/1).",
        discussion: """
            A header line {"format":"burnrate.journal/1"}, then one line per journaled command in \
            the vocabulary of `ledger apply`, with its sequence number, its time (ISO 8601 UTC) and \
            its answer. The whole journal is verified first (checksum chain, every outcome, every \
            snapshot): a damaged journal is refused (exit 2) rather than exported as a clean-looking \
            history.
            """)
    @OptionGroup var database: DatabaseOption
    func run() async throws {
        let store = try await database.open(create: false)
        let records: [JournalRecord]
        do {
            let report = try await store.verify()
            guard report.ok else { throw StoreError.corrupt(path: database.location, seq: report.commands, reason: report.invariantViolations.joined(separator: "; ")) }
            records = try await store.journalRecords()
        } catch {
            writeStandardError("error: \(error); not exported\n")
            throw ExitCode(2)
        }
        var ledger = Ledger(config: store.config)
        print(JournalInterchange.header)
        for r in records {
            ledger.apply(r.request)
            print(JournalInterchange.line(for: r, ledger: ledger))
            if standardOutputFailed() { break }
        }
        try finishOutput()
    }
}

struct LedgerImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build a new ledger from a history in the interchange format (JSON lines on standard input).",
        discussion: """
            Reads what `ledger export` writes, or a history written by hand or converted from \
            another system: the vocabulary of `ledger apply` plus "at" (ISO 8601 UTC, required, \
            non-decreasing), and optionally "seq" and "answer", which must then match what the ledger \
            answers. Keys are optional. The header line {"format":"burnrate.journal/1"} is accepted, \
            not required. The import is all or nothing: it is written to a temporary database beside \
            --db and moved into place only when every line went in (with --store: copied into the \
            empty PostgreSQL journal in one transaction); the first bad line stops it with its line \
            number (exit 2) and leaves the ledger as it was.
            """
    )
    @OptionGroup var database: DatabaseOption

    func run() async throws {
        let target = database.location
        let postgres = database.store != nil
        if !postgres, FileManager.default.fileExists(atPath: database.path) {
            let existing = try await database.open()
            guard await existing.state.lastSeq == 0 else {
                writeStandardError("error: \(target) is not empty: import into a new database\n")
                throw ExitCode(2)
            }
            try await existing.close()
        }
        // A scratch SQLite ledger takes the lines (beside --db, or in the temporary directory for
        // --store); it becomes the ledger only once every line went in.
        let temporary = postgres ? NSTemporaryDirectory() + "/burnrate-import-\(getpid()).db" : database.path + ".import-\(getpid())"
        LedgerStore.remove(path: temporary)
        let store: LedgerStore
        do { store = try await LedgerStore(path: temporary, snapshotEvery: database.snapshotEvery) } catch {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
        var reader = BoundedLineReader(maxBytes: LedgerOperation.maxLineBytes)
        var line = 0, imported = 0  // lines read, operations applied
        func fail(_ message: String) async throws -> Never {
            writeStandardError("error: line \(line): \(message); nothing imported\n")
            try? await store.close()
            LedgerStore.remove(path: temporary)
            throw ExitCode(2)
        }
        while let next = reader.next() {
            line += 1
            guard case .text(let text) = next else { try await fail("too long or not UTF-8") }
            if text.allSatisfy(\.isWhitespace) { continue }
            do {
                if line == 1 || imported == 0, try JournalInterchange.isHeader(text) { continue }
            } catch { try await fail(error.message) }
            let operation: LedgerOperation
            do { operation = try LedgerOperation.parse(text, mode: .history) } catch { try await fail(error.message) }
            let expectedSeq = await store.state.lastSeq + 1
            if let seq = operation.seq, seq != expectedSeq { try await fail("'seq' is \(seq), but this command would be \(expectedSeq)") }
            let result: Result<[Outcome], LedgerOperation.OperationError>
            do { result = try await store.apply(operation, nowMs: 0) } catch { try await fail("\(error)") }
            switch result {
            case .failure(let e): try await fail(e.message)
            case .success(let outcomes):
                if let expected = operation.expectedAnswer {
                    let actual = LedgerOperation.answerFields(outcomes)
                    if expected.sorted(by: { $0.key < $1.key }) != actual {
                        try await fail("the ledger answers \(StrictJSON.serialise(.object(actual))), the history says \(StrictJSON.serialise(.object(expected)))")
                    }
                }
            }
            imported += 1
        }
        if let problem = reader.readError { try await fail("cannot read standard input: \(problem)") }
        let commands = await store.state.lastSeq
        do {
            if postgres {
                // One transaction into an empty journal: all of it or nothing.
                let destination = try await PostgresLedgerStore(url: database.store ?? "", snapshotEvery: database.snapshotEvery)
                do { try await destination.importJournal(from: store) } catch {
                    try? await destination.close()
                    throw error
                }
                try await destination.close()
                try await store.close()
                LedgerStore.remove(path: temporary)
            } else {
                try await store.close()
                try LedgerStore.move(from: temporary, to: database.path)
            }
        } catch {
            try? await store.close()
            LedgerStore.remove(path: temporary)
            writeStandardError("error: \(error); nothing imported\n")
            throw ExitCode(2)
        }
        print("imported \(imported) lines (\(commands) journaled commands) into \(target)")
        try finishOutput()
    }
}
