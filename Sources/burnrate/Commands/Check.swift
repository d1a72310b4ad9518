import ArgumentParser
import Foundation
import Reports
import Scenario

/// `burnrate check`: the CI gate.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate scenarios' expect: assertions and compare with a baseline (for CI).",
        discussion: """
            Runs each scenario (a file, or every *.yaml in a directory; default scenarios/), \
            evaluates its expect: assertions (a scenario's traces and price tables must lie in its own \
            folder tree unless --allow-outside: scenarios come from pull requests), and with --baseline DIR (a folder of \
            <scenario>/summary.json, e.g. a committed reports/) flags metrics that moved in the \
            bad direction beyond --tolerance (relative; `--tolerance continuity=0.001` sets one \
            metric). Exit status: 0 all hold, 1 any fails, 2 bad input. Writes a table to \
            stdout, JUnit XML with --junit, and appends Markdown to $GITHUB_STEP_SUMMARY when set. \
            Deterministic: the same commit always gives the same verdict.
            """
    )

    @Argument(help: "Scenario files or directories (default: scenarios).") var paths: [String] = []
    @Option(name: .long, help: "Baseline directory of <scenario>/summary.json.") var baseline: String?
    @Option(name: .long, help: "Tolerance: a relative default (0.05) or metric=value; repeatable.") var tolerance: [String] = []
    @Option(name: .long, help: "Write JUnit XML here.") var junit: String?
    @Option(name: .long, help: "Replications (default: each scenario's).") var replications: Int?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @OptionGroup var workLimit: WorkLimitOption
    @Flag(name: .long, help: "Let scenarios read traces and price tables outside their own folder tree.") var allowOutside = false

    func run() throws {
        var defaultTolerance = 0.05
        var perMetric: [String: Double] = [:]
        for t in tolerance {
            let parts = t.split(separator: "=").map(String.init)
            if parts.count == 1, let v = Double(parts[0]), v >= 0 { defaultTolerance = v }
            else if parts.count == 2, let v = Double(parts[1]), v >= 0 { perMetric[parts[0]] = v }
            else { writeStandardError("error: --tolerance is a number or metric=number, got '\(t)'\n"); throw ExitCode(2) }
        }
        let fm = FileManager.default
        var files: [String] = []
        for p in paths.isEmpty ? ["scenarios"] : paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDirectory) else {
                writeStandardError("error: \(p): no such file or directory\n"); throw ExitCode(2)
            }
            if isDirectory.boolValue {
                let found = (try fm.contentsOfDirectory(atPath: p)).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { p + "/" + $0 }
                // A committed `s.yaml -> /etc/passwd` would be read and quoted in the YAML error.
                let folder = URL(fileURLWithPath: p).resolvingSymlinksInPath().path
                for f in found where !allowOutside {
                    let real = URL(fileURLWithPath: f).resolvingSymlinksInPath().path
                    guard real.hasPrefix(folder + "/") else {
                        writeStandardError("error: \(f): a link to a file outside \(p) (--allow-outside lifts this)\n"); throw ExitCode(2)
                    }
                }
                files += found
            } else {
                files.append(p)
            }
        }
        var results: [CheckResult] = []
        for file in files {
            let scenario: Scenario
            do { scenario = try Scenario.load(path: file, confined: !allowOutside) } catch {
                writeStandardError(error.description + "\n"); throw ExitCode(2)
            }
            try workLimit.check(scenario, replications: replications ?? scenario.replications)
            let data = try RunData.run(scenario, replications: replications ?? scenario.replications, threads: threads)
            let summary = Summary(data)
            results += Checker.expectations(summary)
            if let baseline {
                let path = baseline + "/" + scenario.name + "/summary.json"
                guard let bytes = fm.contents(atPath: path),
                      let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]
                else { writeStandardError("error: \(path): no baseline summary for '\(scenario.name)'\n"); throw ExitCode(2) }
                results += Checker.regressions(summary, baseline: json, tolerance: defaultTolerance, perMetric: perMetric)
            }
        }
        let table = Checker.table(results)
        print(table, terminator: "")
        if let junit { try Checker.junit(results).write(toFile: junit, atomically: true, encoding: .utf8) }
        if let summaryPath = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summaryPath.isEmpty,
           let handle = FileHandle(forWritingAtPath: summaryPath) {
            handle.seekToEndOfFile()
            handle.write(Data(("## burnrate check\n\n" + table + "\n").utf8))
            try? handle.close()
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}
