import ArgumentParser
import Benchmarks

/// `burnrate bench ledger`: commands per second through `Ledger.apply` on one core, with a
/// discarding journal sink, on a pool with three grants and two policies.
struct BenchLedger: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Debits and authorize+capture pairs per second of the ledger core on one core.",
        discussion: """
            The pool holds three grants (different priorities and expiries) and two policies \
            (alerts and an overdraft). Keyed cases give every command an idempotency key, as \
            commands from outside must; unkeyed cases are the simulator's path. \
            debit-delegated-depth3 debits as an agent three delegations below the entitled \
            identity (each draw checks the delegation and charges its root's hold on the pool).
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(name: .long, help: "Commands per case.")
    var operations: Int = 5_000_000

    func validate() throws {
        guard operations > 0 else { throw ValidationError("--operations must be positive") }
    }

    func run() throws {
        report(LedgerBenchmarks.run(operations: operations, settings: options.settings), json: options.json)
    }
}
