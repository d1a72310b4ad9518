import Foundation
import Testing
@testable import LedgerStore

/// The ledger as a user's script meets it: `burnrate ledger …` processes, their answers and exit
/// codes.
@Suite("ledger CLI: processes, exit codes, interchange")
struct LedgerCLITests {
    var binary: String { burnrateBinary() }

    /// A first `ledger apply` that stays open (its stdin is a pipe kept open), once it has
    /// answered a line: from then on it holds the ledger.
    func startWriter(_ path: String) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["ledger", "apply", "--db", path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(#"{"op":"create_pool","pool":"eng"}"#.utf8 + [10]))
        _ = stdout.fileHandleForReading.availableData  // its answer: the ledger is open
        return (process, stdin)
    }

    struct Run { var status: Int32; var out: String; var err: String }

    /// Runs burnrate with `input` on stdin; `shell` wraps it in `sh -c` (for ulimit).
    func run(_ arguments: [String], input: String = "", shellPrefix: String? = nil) throws -> Run {
        let process = Process()
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shellPrefix + " exec \"$0\" \"$@\"", binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        // A child that stops reading (it exited) must not kill the test process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        // Written from another thread: a child whose answers fill the stdout pipe stops reading
        // its input until they are read.
        let writer = stdin.fileHandleForWriting
        let bytes = Data(input.utf8)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? writer.write(contentsOf: bytes)
            try? writer.close()
            done.signal()
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        return Run(status: process.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
    }

    func requireBinary() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the burnrate executable first (swift build): \(binary)")
    }

    static let setUp = """
        {"op":"create_pool","pool":"eng","policies":[{"overdraft":{"limit":"5"}},{"alerts":{"thresholds":["10"]}}]}
        {"op":"create_identity","identity":"bot","pools":["eng"]}
        {"op":"fund","key":"f1","pool":"eng","amount":"100","expires_in":"30d"}
        {"op":"authorize","key":"h1","identity":"bot","pool":"eng","amount":"2","expires_in":"1h"}
        {"op":"capture","key":"c1","identity":"bot","hold":"0","amount":"1.5"}
        {"op":"entitle","key":"e1","identity":"bot","pool":"eng","tiers":[0,2],"cap":"50","cap_period":"1d","rate_max":100}
        {"op":"debit","key":"d1","identity":"bot","pool":"eng","amount":"1","tier":2}
        {"op":"suspend","key":"s1","identity":"bot"}
        {"op":"debit","key":"d2","identity":"bot","pool":"eng","amount":"1"}

        """

    @Test func aSecondWriterIsToldWhichProcessHoldsTheLedger() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        #expect(try run(["ledger", "init", "--db", path]).status == 0)
        let (first, stdin) = try startWriter(path)
        let second = try run(["ledger", "apply", "--db", path], input: #"{"op":"create_pool","pool":"ops"}"# + "\n")
        #expect(second.status == 2)
        #expect(second.err.contains("in use by another process (pid \(first.processIdentifier))"), "\(second.err)")
        // Readers read beside the writer.
        let balance = try run(["ledger", "balance", "--db", path, "--pool", "eng"])
        #expect(balance.status == 0 && balance.out.contains("eng: total 0"), "\(balance.err)")
        try stdin.fileHandleForWriting.close()
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
    }

    @Test func aFullDiskAnswersTheLineWithAnErrorAndExits2() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        #expect(try run(["ledger", "init", "--db", path]).status == 0)
        let lines = (0..<3_000).map { #"{"op":"create_pool","pool":"p\#($0)","policies":[{"alerts":{"thresholds":["1","2","3","4","5","6","7","8"]}}]}"# }
        // A file-size limit makes the database's writes fail as on a full disk (SIGXFSZ ignored).
        let r = try run(["ledger", "apply", "--db", path], input: lines.joined(separator: "\n") + "\n", shellPrefix: "trap '' XFSZ; ulimit -f 600;")
        #expect(r.status == 2, "\(r.err)")
        let answers = r.out.split(separator: "\n")
        let last = try #require(answers.last)
        #expect(last.contains(#""reason":"storage_failure""#) && last.contains(#""status":"error""#), "\(last)")
        #expect(answers.count < 3_000)
        // The failed line was not applied: the ledger holds exactly the acknowledged commands.
        let acknowledged = answers.filter { $0.contains(#""status":"accepted""#) }.count
        let verify = try run(["ledger", "verify", "--db", path])
        #expect(verify.status == 0)
        #expect(verify.out.contains("ok: \(acknowledged) commands"), "\(verify.out)")
    }

    @Test func exportThenImportRebuildsTheSameLedger() throws {
        try requireBinary()
        let path = temporaryDatabase(), copy = temporaryDatabase()
        defer { removeDatabase(path); removeDatabase(copy) }
        let applied = try run(["ledger", "apply", "--db", path], input: Self.setUp)
        #expect(applied.status == 0)
        let export = try run(["ledger", "export", "--db", path])
        #expect(export.status == 0)
        let lines = export.out.split(separator: "\n")
        #expect(lines.first == #"{"format":"burnrate.journal/1"}"#)
        #expect(lines.contains { $0.contains(#""op":"authorize""#) && $0.contains(#""expires_in":"1h""#) && $0.contains(#""answer":{"hold":"0","status":"accepted"}"#) })
        #expect(lines.contains { $0.contains(#""op":"entitle""#) && $0.contains(#""tiers":[0,2]"#) && $0.contains(#""cap":"50""#) })
        let imported = try run(["ledger", "import", "--db", copy], input: export.out)
        #expect(imported.status == 0, "\(imported.err)")
        let digest = { (p: String) throws -> String in
            try run(["ledger", "verify", "--db", p]).out.split(separator: "\n").first.map(String.init) ?? ""
        }
        #expect(try digest(path) == digest(copy))
        // And the import's keys answer a retry of the original line as the original ledger does.
        let retry = #"{"op":"authorize","key":"h1","identity":"bot","pool":"eng","amount":"2","expires_in":"1h"}"# + "\n"
        #expect(try run(["ledger", "apply", "--db", copy], input: retry).out.contains(#""hold":"0""#))
    }

    @Test func aHandWrittenHistoryImportsAndABadLineImportsNothing() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let history = """
            {"at":"2026-03-02T09:00:00.000Z","op":"create_pool","pool":"eng"}
            {"at":"2026-03-02T09:00:00.000Z","op":"create_identity","identity":"agent","pools":["eng"]}
            {"at":"2026-03-02T09:05:00.000Z","op":"fund","pool":"eng","amount":"10"}
            {"at":"2026-03-02T09:15:00.250Z","seq":5,"op":"debit","key":"req-2","identity":"agent","pool":"eng","amount":"1.5","answer":{"status":"accepted","charged_credits":"1.5"}}

            """
        let ok = try run(["ledger", "import", "--db", path], input: history)
        #expect(ok.status == 0, "\(ok.err)")
        #expect(try run(["ledger", "balance", "--db", path, "--pool", "eng"]).out.contains("available 8.5"))
        removeDatabase(path)
        let backwards = history.replacingOccurrences(of: "09:15:00.250Z", with: "08:00:00.000Z")
        let bad = try run(["ledger", "import", "--db", path], input: backwards)
        #expect(bad.status == 2)
        #expect(bad.err.contains("line 4"), "\(bad.err)")
        #expect(!FileManager.default.fileExists(atPath: path), "a failed import left a database behind")
        let wrongSeq = history.replacingOccurrences(of: #""seq":5"#, with: #""seq":4"#)
        #expect(try run(["ledger", "import", "--db", path], input: wrongSeq).err.contains("'seq' is 4"))
    }

    @Test func exportRefusesAJournalDamagedBeforeItsNewestSnapshot() async throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        for i in 0..<3 { _ = try await op(store, #"{"op":"debit","key":"d\#(i)","identity":"bot","pool":"eng","amount":"0.5"}"#) }
        try await store.snapshotNow()
        try await store.close()
        try JournalDamageTests().sql(path, "UPDATE journal SET record = replace(record, '500000', '400000') WHERE seq = 5;")
        let export = try run(["ledger", "export", "--db", path])
        #expect(export.status == 2)
        #expect(export.err.contains("journal entry 5"), "\(export.err)")
        #expect(export.out.isEmpty)
    }

    @Test func captureAndReleaseNameTheIdentityOnTheCommandLine() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        _ = try run(["ledger", "apply", "--db", path], input: Self.setUp.split(separator: "\n").prefix(3).joined(separator: "\n") + "\n")
        let held = try run(["ledger", "authorize", "--db", path, "--key", "a", "--identity", "bot", "--pool", "eng", "--amount", "1", "--json"])
        #expect(held.out.contains(#""hold":"1""#) || held.out.contains(#""hold":"0""#), "\(held.out)")
        let hold = held.out.contains(#""hold":"0""#) ? "0" : "1"
        // A retry of the same command line (a relative --expires-in) is the same request.
        let retried = try run(["ledger", "authorize", "--db", path, "--key", "a", "--identity", "bot", "--pool", "eng", "--amount", "1", "--json"])
        #expect(retried.status == 0 && retried.out == held.out, "\(retried.out)")
        #expect(try run(["ledger", "capture", "--db", path, "--key", "c", "--hold", hold, "--amount", "1"]).status == 2)
        #expect(try run(["ledger", "capture", "--db", path, "--key", "c", "--identity", "bot", "--hold", hold, "--amount", "1"]).status == 0)
        #expect(try run(["ledger", "suspend", "--db", path, "--key", "s", "bot"]).status == 0)
        let refused = try run(["ledger", "debit", "--db", path, "--key", "d", "--identity", "bot", "--pool", "eng", "--amount", "1"])
        #expect(refused.status == 1 && refused.out.contains("identity_suspended"))
        #expect(try run(["ledger", "resume", "--db", path, "--key", "r", "bot"]).status == 0)
        #expect(try run(["ledger", "revoke", "--db", path, "--key", "v", "bot"]).status == 0)
        let overflow = try run(["ledger", "fund", "--db", path, "--key", "big", "--pool", "eng", "--amount", "9223372036854.775808"])
        #expect(overflow.status == 2 && overflow.err.contains("amount"), "\(overflow.err)")
    }

    @Test func delegateDebitThroughItAndCloseItOnTheCommandLine() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        _ = try run(["ledger", "apply", "--db", path], input: Self.setUp.split(separator: "\n").prefix(3).joined(separator: "\n") + "\n")
        let made = try run(["ledger", "delegate", "--db", path, "--key", "d1", "--identity", "bot", "--child", "sub", "--pool", "eng",
                            "--amount", "3", "--expires-in", "1h", "--json"])
        #expect(made.status == 0 && made.out.contains(#""delegation":0"#), "\(made.out) \(made.err)")
        // Exactly one of --pool and --delegation.
        #expect(try run(["ledger", "debit", "--db", path, "--key", "x", "--identity", "sub", "--amount", "1"]).status != 0)
        let spent = try run(["ledger", "debit", "--db", path, "--key", "x", "--identity", "sub", "--delegation", "0", "--amount", "4"])
        #expect(spent.status == 1 && spent.out.contains("insufficient_funds"), "\(spent.out)")
        #expect(try run(["ledger", "debit", "--db", path, "--key", "y", "--identity", "sub", "--delegation", "0", "--amount", "1"]).status == 0)
        let closed = try run(["ledger", "close-delegation", "--db", path, "--key", "c", "--identity", "bot", "0", "--json"])
        #expect(closed.status == 0 && closed.out.contains(#""released_credits":"2""#), "\(closed.out)")
        #expect(try run(["ledger", "verify", "--db", path]).status == 0)
    }

    @Test func anotherNameForTheSameFileIsStillTheSameLedger() throws {
        try requireBinary()
        let path = temporaryDatabase()
        let hard = path + ".hard.db", soft = path + ".soft.db"
        defer { removeDatabase(path); removeDatabase(hard); removeDatabase(soft) }
        #expect(try run(["ledger", "init", "--db", path]).status == 0)
        try FileManager.default.linkItem(atPath: path, toPath: hard)
        try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: path)
        let (first, stdin) = try startWriter(path)
        for other in [hard, soft, "/" + path] {  // "//tmp/x.db" is another spelling of the same path
            let second = try run(["ledger", "apply", "--db", other], input: #"{"op":"create_pool","pool":"ops"}"# + "\n")
            // A hard link has its own lock-file name, so only the pid may be missing from its message.
            let named = other == hard ? "in use by another process" : "in use by another process (pid \(first.processIdentifier))"
            #expect(second.status == 2 && second.err.contains(named), "\(other): \(second.err)")
        }
        try stdin.fileHandleForWriting.close()
        first.waitUntilExit()
    }

    @Test func aSymlinkedLockFileIsRefusedAndItsTargetLeftAlone() throws {
        try requireBinary()
        let path = temporaryDatabase(), victim = temporaryDatabase() + ".victim"
        defer { removeDatabase(path); try? FileManager.default.removeItem(atPath: victim) }
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: path + ".lock", withDestinationPath: victim)
        let r = try run(["ledger", "apply", "--db", path], input: #"{"op":"create_pool","pool":"eng"}"# + "\n")
        #expect(r.status == 2 && r.err.contains("symbolic link"), "\(r.err)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
    }

    @Test func lostOutputAndUnreadableInputAreFailures() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        _ = try run(["ledger", "apply", "--db", path], input: Self.setUp)
        for command in [["ledger", "export", "--db", path], ["ledger", "balance", "--db", path, "--pool", "eng"],
                        ["ledger", "verify", "--db", path]] {
            let full = try run(command, shellPrefix: "exec >/dev/full;")
            #expect(full.status == 2, "\(command): \(full.status) \(full.err)")
            let closed = try run(command, shellPrefix: "exec >&-;")
            #expect(closed.status == 2, "\(command) with stdout closed: \(closed.status)")
        }
        let apply = try run(["ledger", "apply", "--db", path], input: #"{"op":"advance_time"}"# + "\n", shellPrefix: "exec >/dev/full;")
        #expect(apply.status == 2)
        let folder = try run(["ledger", "apply", "--db", path], shellPrefix: "exec </tmp;")
        #expect(folder.status == 2 && folder.err.contains("cannot read standard input"), "\(folder.err)")
    }

    @Test func verifyAndExportOfAMissingLedgerFail() throws {
        try requireBinary()
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        for command in ["verify", "export", "balance"] {
            let r = try run(["ledger", command, "--db", path] + (command == "balance" ? ["--pool", "eng"] : []))
            #expect(r.status == 2 && r.err.contains("no such ledger"), "\(command): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
