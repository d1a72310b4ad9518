import ArgumentParser
import Foundation
import Reports
import Scenario

/// `burnrate check`: the CI gate.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate scenarios' expect: assertions and compare with a baseline (for CI).",
        discussion: """
            Runs each scenario (a file, or every *.yaml in a directory; default scenarios/) and \
            evaluates its expect: assertions ('continuity.p05', or per pool or identity \
            'eng.continuity'). A scenario's traces and price tables must lie in its own folder tree \
            unless --allow-outside: scenarios come from pull requests. \
            With --baseline-scenarios DIR (the base branch's scenarios/, e.g. from `git worktree add`), \
            the scenario file of the same name is rerun with the current seed and replications and \
            each metric is compared by paired differences (common random numbers: a seed-only \
            change is no change). With --baseline DIR (a folder of <scenario>/summary.json, e.g. a \
            committed reports/), the comparison uses both runs' standard errors. A metric fails \
            only when its whole 95% interval of change lies beyond its tolerance on the bad side \
            (--tolerance: a relative default, 0.05, or metric=value); each metric knows which way is \
            better, and workload counts (requests_served, …) are never regressions. A scenario with \
            no baseline is reported as new. Exit status: 0 all hold, 1 any fails, 2 bad input. \
            Writes a table to stdout, JUnit XML with --junit, and appends Markdown to \
            $GITHUB_STEP_SUMMARY when set. Deterministic: the same commit always gives the same verdict.
            """
    )

    @Argument(help: "Scenario files or directories (default: scenarios).") var paths: [String] = []
    @Option(name: .long, help: "Baseline directory of <scenario>/summary.json.") var baseline: String?
    @Option(name: .long, help: "Baseline scenario files (rerun with the same seed, compared pairwise).") var baselineScenarios: String?
    @Option(name: .long, help: "Tolerance: a relative default (0.05) or metric=value; repeatable.") var tolerance: [String] = []
    @Option(name: .long, help: "Write JUnit XML here.") var junit: String?
    @Option(name: .long, help: "Replications (default: each scenario's).") var replications: Int?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @OptionGroup var workLimit: WorkLimitOption
    @Flag(name: .long, help: "Let scenarios read traces and price tables outside their own folder tree.") var allowOutside = false

    func validate() throws {
        if let r = replications, r < 1 { throw ValidationError("--replications must be at least 1") }
    }

    func run() throws {
        let tolerances: Tolerances
        do { tolerances = try Tolerances.parse(tolerance) } catch { writeStandardError("error: \(error)\n"); throw ExitCode(2) }
        var check = CheckRun(paths: paths, baselineSummaries: baseline, baselineScenarios: baselineScenarios,
                             tolerances: tolerances, replications: replications, threads: threads)
        check.allowOutside = allowOutside
        check.maxEvents = workLimit.maxEvents
        let results: [CheckResult]
        do { results = try check.run() } catch let error as CheckRun.Failure {
            writeStandardError("error: \(error)\n"); throw ExitCode(2)
        }
        let table = Checker.table(results)
        print(table, terminator: "")
        if let junit {
            do { try Checker.junit(results).write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                writeStandardError("error: \(junit): cannot write the JUnit file (\(error.localizedDescription))\n")
                throw ExitCode(2)
            }
        }
        if let summaryPath = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summaryPath.isEmpty {
            // GitHub creates the file; a runner that names one not yet there gets it created.
            if !FileManager.default.fileExists(atPath: summaryPath) { _ = FileManager.default.createFile(atPath: summaryPath, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: summaryPath) else {
                writeStandardError("error: \(summaryPath) ($GITHUB_STEP_SUMMARY): cannot append the table\n")
                throw ExitCode(2)
            }
            handle.seekToEndOfFile()
            handle.write(Data(("## burnrate check\n\n" + table + "\n").utf8))
            try? handle.close()
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}
