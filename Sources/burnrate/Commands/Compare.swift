import ArgumentParser
import Reports
import Scenario

/// `burnrate compare`: every policy or layout on spend predictability against continuity.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a scenario's variants (or several scenarios) on spend predictability and continuity.",
        discussion: """
            One table and one chart: p95 spend over the prepaid budget, coefficient of variation \
            of spend, overage, continuity, probability and time of exhaustion, downtime. Options \
            no other beats on p95 spend, overage and continuity at once are marked Pareto-efficient; \
            the others are named with what dominates them. Writes report.md, compare.json and a \
            chart to --out (default reports/<first scenario>-compare). Exit status: 0, or 2 on bad input.
            """
    )

    @Argument(help: "One scenario (its variants are compared) or several.") var scenarios: [String]
    @Option(name: .long, help: "Replications (default: each scenario's).") var replications: Int?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Output directory.") var out: String?
    @OptionGroup var workLimit: WorkLimitOption
    @Flag(name: .long, help: "Print compare.json on stdout.") var json = false

    func validate() throws {
        if scenarios.isEmpty { throw ValidationError("give one scenario with variants, or several scenarios") }
        if let r = replications, r < 2 { throw ValidationError("--replications must be at least 2") }
    }

    func run() throws {
        var loaded: [Scenario] = []
        for path in scenarios {
            do { loaded.append(try Scenario.load(path: path, confined: ResourceLimits.confinedReads)) } catch {
                writeStandardError(error.description + "\n"); throw ExitCode(2)
            }
        }
        if loaded.count == 1 && loaded[0].variants.count == 1 {
            writeStandardError("error: \(scenarios[0]) has no variants: give a scenario with variants: or several scenarios\n")
            throw ExitCode(2)
        }
        for s in loaded { try workLimit.check(s, replications: replications ?? s.replications) }
        let directory = out ?? "reports/\(loaded[0].name)-compare"
        try refuseForeignOutput(directory)
        let progress = ProgressBar(label: "compare")
        let result = try Comparison.run(loaded, replications: replications, threads: threads,
                                        progress: progress.enabled ? { @Sendable d, t in progress.update(d, t) } : nil)
        progress.finish()
        try writingReport { try result.write(to: directory) }
        print(result.console(directory: directory, json: json), terminator: "")
    }
}
