import ArgumentParser
import Reports
import Scenario

/// `burnrate procure`: prepaid packs, licences, commitments and pay-as-you-go on the same demand.
struct Procure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare ways to buy a scenario's usage (its plans:) on the same simulated demand.",
        discussion: """
            Prices every plan of the scenario's plans: section on each replication's usage over \
            time (common random numbers), for the scenario as written and each of its variants: \
            the recommendation first, then expected and p95 cost, cost per served request, unused \
            credits (breakage), continuity, the probability each plan is cheapest, and the usage \
            levels at which the cheaper of two plans flips (break-even). Demand is what the \
            workload would use: each variant runs twice on the same replications, as written (to \
            report requests its pools refused for lack of credit) and with every pool's credit \
            limit lifted (the demand priced). A period longer than the horizon is charged whole, \
            with a pro-rated cost beside it. Writes report.md, procure.json and a chart to --out \
            (default reports/<scenario>-procure); --json prints procure.json. Exit status: 0, or \
            2 on bad input.
            """
    )

    @Argument(help: "The scenario file (YAML) with a plans: section.") var scenario: String
    @Option(name: .long, help: "Replications (default: the scenario's).") var replications: Int?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Output directory (default: reports/<scenario>-procure).") var out: String?
    @OptionGroup var workLimit: WorkLimitOption
    @Flag(name: .long, help: "Print the result as JSON on stdout.") var json = false

    func validate() throws {
        if let r = replications, r < 1 { throw ValidationError("--replications must be at least 1") }
    }

    func run() throws {
        let loaded: Scenario
        do { loaded = try Scenario.load(path: scenario, confined: ResourceLimits.confinedReads) } catch {
            writeStandardError(error.description + "\n"); throw ExitCode(2)
        }
        let directory = out ?? "reports/\(loaded.name)-procure"
        try refuseForeignOutput(directory)
        let count = replications ?? loaded.replications
        // Each variant runs twice: as written and with the pools' credit limits lifted.
        try workLimit.check(loaded, replications: count, runs: 2)
        let progress = ProgressBar(label: loaded.name)
        let result: ProcureResult
        do {
            result = try ProcureResult.run(loaded, replications: count, threads: threads,
                                           progress: progress.enabled ? { @Sendable done, total in progress.update(done, total) } : nil)
        } catch let error as DecisionError {
            progress.finish()
            writeStandardError("error: \(error)\n"); throw ExitCode(2)
        }
        progress.finish()
        try writingReport { try result.write(to: directory) }
        print(result.console(directory: directory, json: json), terminator: "")
    }
}
