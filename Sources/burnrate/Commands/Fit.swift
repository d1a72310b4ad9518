import ArgumentParser
import Simulation

/// `burnrate fit TRACE --format F`: a synthetic workload fitted to a trace.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a synthetic workload (arrivals, burstiness, token laws) to a trace.",
        discussion: """
            Prints a `workload:` block in the scenario format: the average arrival rate, an hourly \
            profile when the trace covers a day or more, the inter-arrival coefficient of \
            variation (a renewal process when it is far from 1), and lognormal or gamma token \
            distributions fitted by maximum likelihood with their Kolmogorov–Smirnov distances. \
            Reads the trace once in constant memory.
            """
    )

    @Argument(help: "The trace file (CSV).")
    var trace: String

    @Option(name: .long, help: "Trace layout: \(TraceFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String

    func validate() throws {
        guard TraceFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format '\(format)'; expected one of \(TraceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do {
            print(try TraceFit.fit(path: trace, format: TraceFormat(rawValue: format)!).yaml, terminator: "")
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
