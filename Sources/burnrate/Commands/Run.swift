import ArgumentParser
import Reports
import Scenario
import Simulation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `burnrate run SCENARIO`: Monte Carlo replications of a scenario and its variants, and a report.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario's replications (and variants) and write its report.",
        discussion: """
            Writes summary.json, report.md, charts/*.svg and data/*.csv to --out (default \
            reports/<scenario name>/). The result is byte-identical whatever --threads. With \
            --shard I/N only the replications r with r mod N = I run, and a partial result is \
            written for `burnrate merge`. With --precision METRIC=HALF_WIDTH (repeatable, or \
            `precision:` in the scenario) replications run in fixed batches of 20 and stop, from the \
            second batch on, once every named metric's 95% half-width is at most its target (in every variant), with \
            --replications (default: the scenario's) as the cap; summary.json records the \
            replications run and stopped_by (precision or cap). Exit status: 0 on success, 2 on a \
            bad scenario (every problem is printed as FILE:LINE:COLUMN: message; nothing is written).
            """
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(name: .long, help: "Output directory (default: reports/<scenario name>).")
    var out: String?

    @Option(name: .long, help: "Replications (default: the scenario's).")
    var replications: Int?

    @Option(name: .long, help: "Seed (default: the scenario's).")
    var seed: UInt64?

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Run one deterministic slice I/N of the replications (0 ≤ I < N).")
    var shard: String?

    @Option(name: .long, help: "Stop once METRIC's 95% half-width is at most HALF_WIDTH (METRIC=HALF_WIDTH; repeatable).")
    var precision: [String] = []

    @OptionGroup var workLimit: WorkLimitOption

    func validate() throws {
        if let r = replications, r < 1 { throw ValidationError("--replications must be at least 1") }
        if !precision.isEmpty && shard != nil { throw ValidationError("--precision decides how many replications run: it cannot be combined with --shard") }
        do { _ = try SequentialRun.parse(precision) } catch { throw ValidationError(error.description) }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if let s = shard, Self.parseShard(s) == nil { throw ValidationError("--shard is I/N with 0 ≤ I < N, got '\(s)'") }
    }

    static func parseShard(_ s: String) -> (index: Int, count: Int)? {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        return (i, n)
    }

    func run() throws {
        var loaded: Scenario
        do {
            loaded = try Scenario.load(path: scenario, confined: ResourceLimits.confinedReads)
        } catch {
            writeStandardError(error.description + "\n")
            throw ExitCode(2)
        }
        let directory = out ?? "reports/\(loaded.name)"
        try refuseForeignOutput(directory)
        if let seed {
            for i in loaded.variants.indices { loaded.variants[i].model.seed = seed }
        }
        let count = replications ?? loaded.replications
        try workLimit.check(loaded, replications: shard.flatMap(Self.parseShard).map { (count + $0.count - 1) / $0.count } ?? count)
        let progress = ProgressBar(label: loaded.name)
        var report: (@Sendable (Int, Int) -> Void)? = nil
        if progress.enabled {
            report = { @Sendable (done: Int, total: Int) in progress.update(done, total) }
        }
        let targets = precision.isEmpty ? loaded.precision : try SequentialRun.parse(precision)
        if !targets.isEmpty && shard != nil {
            writeStandardError("error: the scenario's precision: decides how many replications run: it cannot be combined with --shard\n")
            throw ExitCode(2)
        }
        let data = targets.isEmpty
            ? try RunData.run(loaded, replications: count, threads: threads, shard: shard.flatMap(Self.parseShard), progress: report)
            : try SequentialRun.run(loaded, precision: targets, cap: count, threads: threads, progress: report)
        progress.finish()
        if shard != nil {
            try writingReport { try ReportWriter.writePartial(data, to: directory) }
            print("wrote a partial result (shard \(shard!)) to \(directory)/partial.json")
        } else {
            try writingReport { try ReportWriter.write(data, to: directory) }
            print("wrote \(directory)/report.md (summary.json, charts/, data/)")
            if let stopped = data.stoppedBy {
                writeStandardError(stopped == "precision" ? "stopped by precision after \(data.replications) replications\n"
                                   : "the precision was not reached within \(data.replications) replications (the cap)\n")
            }
        }
    }
}

/// `burnrate merge PARTS... --out DIR`: the summary of a sharded run.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine the partial results of `run --shard` into the report a single run gives.",
        discussion: "Each PART is a directory written by `burnrate run --shard I/N` (or its partial.json)."
    )

    @Argument(help: "Partial results (directories or partial.json files).")
    var parts: [String]

    @Option(name: .long, help: "Output directory.")
    var out: String

    func run() throws {
        try refuseForeignOutput(out)
        var loaded: [RunData] = []
        for p in parts {
            do { loaded.append(try ReportWriter.readPartial(p)) } catch {
                writeStandardError("error: \(p): not a partial result of burnrate run --shard (\(error))\n")
                throw ExitCode(2)
            }
        }
        do {
            let merged = try RunData.merge(loaded)
            try writingReport { try ReportWriter.write(merged, to: out) }
        } catch let error as MergeError {
            writeStandardError("error: \(error)\n")
            throw ExitCode(2)
        }
        print("wrote \(out)/report.md from \(parts.count) parts")
    }
}

/// A progress bar with an ETA on standard error, shown only when it is a terminal.
final class ProgressBar: Sendable {
    let label: String
    let enabled: Bool
    let start = ContinuousClock.now

    init(label: String) {
        self.label = label
        self.enabled = isatty(2) == 1
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let eta = done > 0 ? seconds / Double(done) * Double(total - done) : 0
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        writeStandardError("\r\(label) [\(bar)] \(done)/\(total)  ETA \(Int(eta.rounded()))s ")
    }

    func finish() {
        if enabled { writeStandardError("\n") }
    }
}
