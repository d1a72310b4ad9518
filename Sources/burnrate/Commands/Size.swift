import ArgumentParser
import Reports
import Scenario

/// `burnrate size`: the smallest funding that meets a continuity (or any) target.
struct Size: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the smallest pool funding that meets a target with a given confidence.",
        discussion: """
            TARGET is an expectation such as 'continuity >= 0.999', 'exhaustion_probability <= 0.05' \
            or 'continuity.p05 >= 0.99', read on the pool's own metrics. Candidates share common \
            random numbers; the search brackets the answer by doubling or halving from the pool's \
            written funding, then bisects to --resolution, running more replications where the \
            confidence interval straddles the target. With --all every pool is sized; with \
            --layout shared|split|both the pools are sized as one shared pool, one per department, \
            or both with the difference. Writes report.md, size.json and charts to --out (default \
            reports/<scenario>-size); --json prints the answer for scripts (funding_credits, per \
            pool under pools). Exit status: 0 found, 1 the target is not reached at any funding, \
            2 bad input.
            """
    )

    @Argument(help: "The scenario file (YAML).") var scenario: String
    @Option(name: .long, help: "The pool to size.") var pool: String?
    @Flag(name: .long, help: "Size every pool.") var all = false
    @Option(name: .long, help: "The target, e.g. 'continuity >= 0.999'.") var target: String
    @Option(name: .long, help: "Confidence that the target holds (default 0.95).") var confidence = 0.95
    @Option(name: .long, help: "shared, split or both.") var layout: String?
    @Option(name: .long, help: "Size this variant instead of the scenario as written.") var variant: String?
    @Option(name: .long, help: "Replications per candidate (default: the scenario's).") var replications: Int?
    @Option(name: .long, help: "At most this many replications where the interval straddles the target (default 4×).")
    var maxReplications: Int?
    @Option(name: .long, help: "Stop when the answer is bracketed this tightly, in credits (default 0.2% of the first bracket).")
    var resolution: Double?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Output directory (default: reports/<scenario>-size).") var out: String?
    @OptionGroup var workLimit: WorkLimitOption
    @Flag(name: .long, help: "Print the answer as JSON on stdout.") var json = false

    func validate() throws {
        guard Expectation(text: target) != nil else {
            throw ValidationError("--target reads 'metric[.statistic] op value', e.g. 'continuity >= 0.999'; got '\(target)'")
        }
        if let layout, !["shared", "split", "both"].contains(layout) { throw ValidationError("--layout is shared, split or both") }
        if layout == nil && pool == nil && !all { throw ValidationError("say which pool: --pool ID, --all or --layout") }
        if pool != nil && (all || layout != nil) { throw ValidationError("--pool cannot be combined with --all or --layout") }
        if let r = replications, r < 2 { throw ValidationError("--replications must be at least 2") }
        if let r = resolution, r <= 0 { throw ValidationError("--resolution must be positive") }
        if !(confidence > 0.5 && confidence < 1) { throw ValidationError("--confidence must be between 0.5 and 1") }
    }

    func run() throws {
        let goal = Expectation(text: target)!
        let base: Scenario
        do { base = try Scenario.load(path: scenario, edits: ScenarioEdits(variant: variant), confined: ResourceLimits.confinedReads) } catch {
            writeStandardError(error.description + "\n"); throw ExitCode(2)
        }
        // Each candidate funding is one run of at most --max-replications; the estimate is per run.
        try workLimit.check(base, replications: maxReplications ?? 4 * (replications ?? base.replications))
        let directory = out ?? "reports/\(base.name)-size"
        try refuseForeignOutput(directory)
        let progress = ProgressBar(label: "size")
        let sizer = { (edits: ScenarioEdits) in
            var s = Sizer(path: scenario, baseEdits: edits, target: goal, confidence: confidence,
                  replications: replications ?? base.replications, maxReplications: maxReplications, threads: threads,
                  resolution: resolution,
                  progress: progress.enabled ? { @Sendable line in writeStandardError("\r\u{1B}[K" + String(line.prefix(120))) } : nil)
            s.confinedReads = ResourceLimits.confinedReads
            return s
        }
        var layouts: [(layout: SizeAnswer.Layout, sizes: [PoolSize])] = []
        do {
            if layout == "shared" || layout == "both" {
                let shared = "shared"
                layouts.append((.shared, try sizer(ScenarioEdits(variant: variant, sharedPool: shared)).size(pools: [shared])))
            }
            if layout == "split" || layout == "both" {
                layouts.append((.split, try sizer(ScenarioEdits(variant: variant)).size(pools: base.poolNames)))
            }
            if layout == nil {
                layouts.append((.asWritten, try sizer(ScenarioEdits(variant: variant)).size(pools: all ? base.poolNames : [pool!])))
            }
        } catch let error as DecisionError {
            progress.finish()
            writeStandardError("error: \(error)\n"); throw ExitCode(2)
        } catch let error as ScenarioErrors {
            progress.finish()
            writeStandardError(error.description + "\n"); throw ExitCode(2)
        }
        progress.finish()
        let answer = SizeAnswer(scenario: base.name, target: goal, confidence: confidence,
                                replications: replications ?? base.replications, layouts: layouts)
        try writingReport { try answer.write(to: directory) }
        print(answer.console(directory: directory, json: json), terminator: "")
        if !answer.reached {
            writeStandardError("the target \(goal.text) is not reached at any funding tried (up to 10^12 credits)\n")
            throw ExitCode(1)
        }
    }
}
