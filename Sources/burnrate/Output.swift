import ArgumentParser
import Reports
import Scenario

/// Refuses, with exit status 2, an output folder Burnrate may not replace (a file, a link, a
/// folder it did not write): checked before any work, and again when writing.
func refuseForeignOutput(_ path: String) throws {
    do { try ReportWriter.checkOutput(path) } catch {
        writeStandardError("error: \(error)\n")
        throw ExitCode(2)
    }
}

/// Runs a report write; a refused output is exit status 2, not a crash report.
func writingReport(_ write: () throws -> Void) throws {
    do { try write() } catch let error as ReportWriter.OutputRefused {
        writeStandardError("error: \(error)\n")
        throw ExitCode(2)
    }
}

/// `--max-events`: the work a command may do, estimated before it runs (see `WorkEstimate`).
struct WorkLimitOption: ParsableArguments {
    @Option(name: .long, help: "Refuse a run estimated to simulate more events than this (default 1e10).")
    var maxEvents: Double = WorkEstimate.defaultMaxEvents

    func validate() throws {
        guard maxEvents > 0 else { throw ValidationError("--max-events must be positive") }
    }

    /// Exit status 2, with the located estimate, when `scenario` × `replications` (× `runs` of
    /// each variant) is beyond the limit.
    func check(_ scenario: Scenario, replications: Int, runs: Int = 1) throws {
        if let problem = scenario.workProblem(replications: replications, maxEvents: maxEvents, runs: runs) {
            writeStandardError(problem.description + "\n")
            throw ExitCode(2)
        }
    }
}
