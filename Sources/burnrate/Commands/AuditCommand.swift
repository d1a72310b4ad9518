import ArgumentParser
import Audit
import Foundation
import LedgerStore

extension Level: ExpressibleByArgument {}

/// `burnrate audit`: governance rules over scenarios and live ledgers.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check pools, identities and policies against governance rules (credits are a spend bound, not a security boundary).",
        discussion: """
            Audits scenario files (or every *.yaml in a directory) and, with --db, a live ledger \
            database, by the same rules (BR001–BR007, docs/audit.md), and a database's API keys by \
            BR008 (no expiry, or older than 90 days, judged at the wall clock). Prints a table (Markdown, \
            padded: it reads in a terminal and in a pull request), or JSON with --json; --sarif FILE \
            writes SARIF 2.1.0 for code scanning (written whole or not at all). Exit status: 0 when \
            no finding is at or above --fail-on (default error), 1 otherwise, 2 bad input.
            """)

    @Argument(help: "Scenario files or directories.") var paths: [String] = []
    @Option(name: .long, help: "A ledger database to audit (repeatable).") var db: [String] = []
    @Option(name: .long, help: "A PostgreSQL ledger to audit, postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (repeatable).") var store: [String] = []
    @Flag(name: .long, help: "Print the findings as JSON instead of a table.") var json = false
    @Option(name: .long, help: "Write SARIF 2.1.0 here.") var sarif: String?
    @Option(name: .long, help: "The lowest level that fails the audit: note, warning or error.") var failOn: Level = .error

    func validate() throws {
        if paths.isEmpty && db.isEmpty && store.isEmpty { throw ValidationError("name scenario files or directories, --db FILE or --store postgresql://…") }
        for url in store where !LedgerStores.isPostgres(url) { throw ValidationError("--store: expected postgresql://USER@HOST:PORT/DB, got '\(url)'") }
    }

    func run() async throws {
        let report: AuditReport
        do { report = try await AuditRun(scenarioPaths: paths, databases: db + store, asOfMs: wallClockMs()).run() } catch {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
        if let sarif {
            do { try AtomicFile.write(report.sarif(), to: sarif) } catch {
                writeStandardError("error: \(error)\n")
                throw ExitCode(2)
            }
        }
        print(json ? report.json() : report.table(failOn: failOn), terminator: json ? "\n" : "")
        try finishOutput()
        if report.fails(at: failOn) { throw ExitCode(1) }
    }
}
