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
        subcommands: [Run.self, Merge.self, Fit.self, LedgerCommand.self, Bench.self]
    )
}
