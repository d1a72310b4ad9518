import Foundation
import Scenario
import Simulation

/// One `burnrate check` over a set of scenario files: their expectations, and each compared with
/// its baseline (a rerun of the baseline scenario when its definition is at hand, else its
/// `summary.json`; a scenario with neither is reported as new).
public struct CheckRun: Sendable {
    /// Scenario files or directories (every `*.yaml`/`*.yml` in a directory).
    public var paths: [String]
    /// A folder of `<scenario>/summary.json` (a committed `reports/`).
    public var baselineSummaries: String?
    /// A folder of the baseline's scenario files, by file name (a checkout of the base branch's
    /// `scenarios/`): each is rerun with the current seed and replications for paired differences.
    public var baselineScenarios: String?
    public var tolerances: Tolerances
    public var replications: Int?
    public var threads: Int?
    /// Let scenarios (and directory entries) reach outside their own folder tree.
    public var allowOutside = false
    public var maxEvents: Double = WorkEstimate.defaultMaxEvents

    public init(paths: [String], baselineSummaries: String? = nil, baselineScenarios: String? = nil,
                tolerances: Tolerances = Tolerances(), replications: Int? = nil, threads: Int? = nil) {
        self.paths = paths
        self.baselineSummaries = baselineSummaries
        self.baselineScenarios = baselineScenarios
        self.tolerances = tolerances
        self.replications = replications
        self.threads = threads
    }

    /// A problem with the check's input: exit status 2.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The scenario files `paths` name, in order (a directory's sorted). A directory entry that is
    /// a link out of its directory is refused unless `allowOutside`: scenarios come from pull
    /// requests, and a committed `s.yaml -> /etc/passwd` would be quoted in the YAML error.
    public func files() throws(Failure) -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        for p in paths.isEmpty ? ["scenarios"] : paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDirectory) else { throw Failure(description: "\(p): no such file or directory") }
            guard isDirectory.boolValue else { files.append(p); continue }
            guard let entries = try? fm.contentsOfDirectory(atPath: p) else { throw Failure(description: "\(p): cannot list the directory") }
            let found = entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { p + "/" + $0 }
            let folder = URL(fileURLWithPath: p).resolvingSymlinksInPath().path
            for f in found where !allowOutside {
                let real = URL(fileURLWithPath: f).resolvingSymlinksInPath().path
                guard real.hasPrefix(folder + "/") else { throw Failure(description: "\(f): a link to a file outside \(p) (--allow-outside lifts this)") }
            }
            files += found
        }
        return files
    }

    /// Runs every scenario and returns the checks in order. `progress` is told each scenario's name.
    public func run(progress: ((String) -> Void)? = nil) throws -> [CheckResult] {
        var results: [CheckResult] = []
        for file in try files() {
            let scenario = try load(file)
            progress?(scenario.name)
            let data = try RunData.run(scenario, replications: replications ?? scenario.replications, threads: threads)
            let summary = Summary(data)
            results += Checker.expectations(summary)
            if let baseline = try baseline(for: file, scenario: scenario, replications: data.replications) {
                results += Checker.regressions(summary, baseline: baseline, tolerances: tolerances)
            } else if baselineSummaries != nil || baselineScenarios != nil {
                results.append(Checker.new(summary))
            }
        }
        return results
    }

    /// Loads and admits a scenario: its work at `replications` (default: this check's, else its
    /// own) must stay under `maxEvents`.
    func load(_ file: String, replications forced: Int? = nil) throws -> Scenario {
        let scenario: Scenario
        do { scenario = try Scenario.load(path: file, confined: !allowOutside) } catch { throw Failure(description: error.description) }
        if let problem = scenario.workProblem(replications: forced ?? replications ?? scenario.replications, maxEvents: maxEvents) {
            throw Failure(description: problem.description)
        }
        return scenario
    }

    /// The baseline of `scenario`: its rerun (same seed and replications as the current run, the
    /// scenario as written only) when the baseline folder has the same file, else its summary;
    /// nil when there is neither.
    func baseline(for file: String, scenario: Scenario, replications: Int) throws -> Baseline? {
        let fm = FileManager.default
        if let folder = baselineScenarios {
            let path = folder + "/" + URL(fileURLWithPath: file).lastPathComponent
            if fm.fileExists(atPath: path) {
                var before = try load(path, replications: replications)
                // A renamed scenario is another scenario: compared with its own summary, if any, else new.
                if before.name == scenario.name {
                    before.variants = [before.variants[0]]
                    before.variants[0].model.seed = scenario.base.seed
                    let data = try RunData.run(before, replications: replications, threads: threads)
                    return .rerun(Summary(data))
                }
            }
        }
        if let folder = baselineSummaries {
            let path = folder + "/" + scenario.name + "/summary.json"
            guard fm.fileExists(atPath: path) else { return nil }
            // The baseline folder may come from the pull request's own checkout: a link out of it
            // is refused, as scenarios' are, and so is anything but a small regular file.
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
            guard allowOutside || real.hasPrefix(root + "/") else {
                throw Failure(description: "\(path): a link to a file outside \(folder) (--allow-outside lifts this)")
            }
            let attributes = try? fm.attributesOfItem(atPath: real)
            guard attributes?[.type] as? FileAttributeType == .typeRegular, (attributes?[.size] as? Int ?? .max) <= 64 << 20 else {
                throw Failure(description: "\(path): not a regular file of at most 64 MiB")
            }
            guard let bytes = fm.contents(atPath: real),
                  let json = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]
            else { throw Failure(description: "\(path): not a readable summary.json (schema burnrate.summary/1)") }
            do { return .summary(try BaselineSummary(json: json)) } catch {
                throw Failure(description: "\(path): not a usable summary.json: \(error)")
            }
        }
        return nil
    }
}
