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
            confidence interval straddles the target. With --all every department (a pool an \
            identity draws on; a parent with no workload of its own is sized only when named with \
            --pool) is sized; with --layout shared|split|both the departments are sized as one \
            shared pool (their policies kept, per-pool limits summed), one pool each, or both with \
            the difference. A target no funding reaches is reported with its binding constraint \
            (the refusal behind most rejections: identity caps, rate caps, tiers, …). Writes \
            report.md, size.json and charts to --out (default reports/<scenario>-size); --json prints the answer for scripts (funding_credits, per \
            pool under pools). Exit status: 0 found, 1 the target is not reached at any funding, \
            2 bad input.
            """
    )

    @Argument(help: "The scenario file (YAML).") var scenario: String
    @Option(name: .long, help: "The pool to size.") var pool: String?
    @Flag(name: .long, help: "Size every department (every pool an identity draws on).") var all = false
    @Option(name: .long, help: "The target, e.g. 'continuity >= 0.999'.") var target: String
    @Option(name: .long, help: "Confidence that the target holds (default 0.95).") var confidence = 0.95
    @Option(name: .long, help: "shared, split or both (the departments: the pools an identity draws on).") var layout: SizeLayoutChoice?
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

    /// The request as the Reports module takes it.
    func request(target goal: Expectation) -> SizeRequest {
        var r = SizeRequest(path: scenario, target: goal)
        r.variant = variant
        r.pool = pool
        r.all = all
        r.layout = layout
        r.confidence = confidence
        r.replications = replications
        r.maxReplications = maxReplications
        r.threads = threads
        r.resolution = resolution
        r.confinedReads = ResourceLimits.confinedReads
        return r
    }

    func validate() throws {
        guard let goal = Expectation(text: target) else {
            throw ValidationError("--target reads 'metric[.statistic] op value', e.g. 'continuity >= 0.999'; got '\(target)'")
        }
        if let problem = request(target: goal).problem { throw ValidationError(problem) }
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
        var request = request(target: goal)
        if progress.enabled { request.progress = { @Sendable line in writeStandardError("\r\u{1B}[K" + String(line.prefix(120))) } }
        let answer: SizeAnswer
        do { answer = try request.answer() } catch let error as DecisionError {
            progress.finish()
            writeStandardError("error: \(error)\n"); throw ExitCode(2)
        } catch let error as ScenarioErrors {
            progress.finish()
            writeStandardError(error.description + "\n"); throw ExitCode(2)
        }
        progress.finish()
        try writingReport { try answer.write(to: directory) }
        print(answer.console(directory: directory, json: json), terminator: "")
        if !answer.reached {
            for line in answer.unreachedLines { writeStandardError("not reached: \(line)\n") }
            throw ExitCode(1)
        }
    }
}

extension SizeLayoutChoice: ExpressibleByArgument {}
