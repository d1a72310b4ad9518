import ArgumentParser

/// The `burnrate` command: a thin shell over the library modules. Each subcommand parses its
/// arguments, calls the library and prints; no simulation or ledger logic lives here.
@main
struct Burnrate: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "burnrate",
        abstract: "Simulate, size and run prepaid AI credit pools.",
        discussion: """
            Burnrate replays or synthesises agent workloads against credit pools and their \
            exhaustion policies, and runs the same credit ledger for real balances.
            """,
        version: version,
        subcommands: [Run.self, Merge.self, Check.self, AuditCommand.self, Size.self, Compare.self, Procure.self, NotebookCommand.self, Fit.self, LedgerCommand.self, ForecastCommand.self, Serve.self, Bench.self]
    )

    /// As ArgumentParser's, except that a usage error exits with 2 ("bad input", the project's
    /// convention for scripts) rather than 64.
    static func main() async {
        ResourceLimits.applyFromEnvironment()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                writeStandardError(fullMessage(for: error) + "\n")
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
