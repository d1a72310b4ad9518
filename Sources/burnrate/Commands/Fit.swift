import ArgumentParser
import Ledger
import Simulation

/// `burnrate fit TRACE --format F`: a synthetic workload fitted to a trace.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a synthetic workload (arrivals, burstiness, token laws) to a trace.",
        discussion: """
            Prints a `workload:` block in the scenario format: the average arrival rate, an hourly \
            profile when the trace covers a day or more, the inter-arrival coefficient of \
            variation (a renewal process when it is far from 1), a model mix when the trace names \
            models, and lognormal or gamma token distributions fitted by maximum likelihood with \
            their Kolmogorov–Smirnov distances. When the trace names identities (the generic \
            layout), prints an `identities:` list instead: one identity per trace identity (up \
            to 64), each with its own fitted workload, drawing from the pool named by --pool. \
            Reads the trace once, in memory bounded by its reservoirs of token counts.
            """
    )

    @Argument(help: "The trace file (CSV).")
    var trace: String

    @Option(name: .long, help: "Trace layout.")
    var format: TraceFormat

    @Option(name: .long, help: "The pool the fitted identities draw from (when the trace names identities).")
    var pool: String = "team"

    func validate() throws {
        if let problem = LedgerName.problem(pool) { throw ValidationError("--pool: \(problem)") }
    }

    func run() throws {
        do {
            print(try TraceFit.fit(path: trace, format: format).yaml(pool: pool), terminator: "")
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    writeStandardError("error: \(message)\n")
}

extension TraceFormat: ExpressibleByArgument {}
