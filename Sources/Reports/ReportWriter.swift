import Foundation
import Ledger
import Simulation

/// Writes a report directory: `summary.json`, `report.md`, `charts/*.svg`, `data/*.csv`. The
/// files are written into a fresh sibling directory which then replaces `out` in one rename, so a
/// failure leaves the previous report intact and never a half-written one. Nothing written
/// depends on the clock, the host or an absolute path: the same run gives the same bytes.
public enum ReportWriter {
    public static func files(for data: RunData) -> [(path: String, contents: String)] {
        let summary = Summary(data)
        var files: [(String, String)] = [("summary.json", summary.text)]
        var charts: [(String, String)] = []
        for p in data.poolNames.indices {
            charts.append(("charts/balance-\(slug(data.poolNames[p])).svg", Charts.balanceFan(data, pool: p)))
        }
        let base = data.variants[0].records
        charts.append(("charts/spend.svg", Charts.histogram(base.compactMap { $0.run[Metric.spendCredits.name] },
                                                            title: "Spend per replication", xLabel: "credits spent over the horizon", empty: "no spend")))
        // Only the replications that ran dry: the others' time to exhaustion is censored at the horizon.
        let exhaustion = base.filter { $0.run[Metric.exhaustionProbability.name] == 1 }
            .compactMap { $0.run[Metric.timeToExhaustionHours.name] }.map { data.horizonHours > 72 ? $0 / 24 : $0 }
        charts.append(("charts/time-to-exhaustion.svg", Charts.histogram(
            exhaustion, title: "Time to first exhaustion (\(exhaustion.count) of \(base.count) replications ran dry)",
            xLabel: data.horizonHours > 72 ? "days into the horizon" : "hours into the horizon",
            empty: "no pool ran dry in any replication")))
        charts.append(("charts/continuity-vs-spend.svg", Charts.tradeOff(summary)))
        charts.append(("charts/spend-by-identity.svg", Charts.spendByIdentity(summary)))
        files += charts
        files += CSV.files(data, summary: summary)
        files.append(("report.md", MarkdownReport.render(summary, charts: charts.map(\.0))))
        return files
    }

    /// Writes the report of `data` to `out`, atomically as a directory.
    public static func write(_ data: RunData, to out: String) throws {
        try replaceDirectory(out, with: files(for: data))
    }

    /// Writes a shard's partial result (`partial.json`) to `out`.
    public static func writePartial(_ data: RunData, to out: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(data), as: UTF8.self)
        try replaceDirectory(out, with: [("partial.json", json + "\n")])
    }

    /// A partial result is untrusted input like a scenario (it may come from another machine or a
    /// pull request): its names must follow the one rule for names, as the scenario's did.
    public struct PartialRefused: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func readPartial(_ path: String) throws -> RunData {
        let url = URL(fileURLWithPath: path.hasSuffix(".json") ? path : path + "/partial.json")
        let data = try JSONDecoder().decode(RunData.self, from: Data(contentsOf: url))
        let names = [("scenario", data.scenario)] + data.poolNames.map { ("pool", $0) } + data.identityNames.map { ("identity", $0) }
            + data.variants.compactMap { v in v.name.map { ("variant", $0) } }
        for (kind, name) in names {
            if let problem = LedgerName.problem(name) {
                throw PartialRefused(description: "\(kind) name \(Simulation.excerpt(name)) is not valid: \(problem)")
            }
        }
        return data
    }

    /// The file that marks a folder as a report Burnrate wrote, and so may replace. It lists every
    /// file written with its size; a folder is replaced only when it holds exactly those files, so
    /// a marker copied (or written by a notebook) into another folder does not make it replaceable,
    /// and a file added to a report by hand is never deleted with it.
    public static let marker = ".burnrate-report"
    static let markerHeader = "burnrate-report/1: this folder was written by burnrate, which replaces a folder at --out only when it holds exactly the files below."

    static func markerText(_ files: [(path: String, contents: String)]) -> String {
        var text = markerHeader + "\n"
        for f in files.sorted(by: { $0.path < $1.path }) { text += "\(f.contents.utf8.count) \(f.path)\n" }
        return text
    }

    /// Whether the folder at `path` holds exactly what its marker lists: the same regular files
    /// with the same sizes, the folders above them, and nothing else.
    static func matchesMarker(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path + "/" + marker, encoding: .utf8) else { return false }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == markerHeader else { return false }
        lines.removeFirst()
        if lines.last == "" { lines.removeLast() }
        var expected: [String: Int] = [marker: text.utf8.count]
        for line in lines {
            guard let space = line.firstIndex(of: " "), let size = Int(line[..<space]) else { return false }
            expected[String(line[line.index(after: space)...])] = size
        }
        var folders = Set<String>()
        for p in expected.keys {
            var parts = p.split(separator: "/").dropLast()
            while !parts.isEmpty { folders.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return false }
        var seen = 0
        while let entry = walker.nextObject() as? String {
            var st = stat()
            guard lstat(path + "/" + entry, &st) == 0 else { return false }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: guard folders.contains(entry) else { return false }
            case S_IFREG:
                guard let size = expected[entry], Int(st.st_size) == size else { return false }
                seen += 1
            default: return false  // a link, a device: not something burnrate wrote
            }
        }
        return seen == expected.count
    }

    /// `--out` names something Burnrate did not write: it is left as it is.
    public struct OutputRefused: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String {
            "\(path): \(reason); burnrate replaces only a folder it wrote itself (one holding \(ReportWriter.marker)), "
                + "so choose a new path or remove it yourself"
        }
    }

    /// Throws ``OutputRefused`` when `out` holds something Burnrate may not replace, so a command
    /// can refuse before it does any work.
    public static func checkOutput(_ out: String) throws(OutputRefused) {
        if case .other(let reason) = existing(URL(fileURLWithPath: out).standardizedFileURL.path) {
            throw OutputRefused(path: out, reason: reason)
        }
    }

    /// What is at `path`, without following a final symbolic link.
    enum Existing { case nothing, emptyFolder, report, other(String) }

    static func existing(_ path: String) -> Existing {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .nothing }
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return .other("it is a symbolic link")
        case S_IFDIR: break
        default: return .other("it is a file, not a report folder")
        }
        var m = stat()
        if lstat(path + "/" + marker, &m) == 0, m.st_mode & S_IFMT == S_IFREG {
            return matchesMarker(path) ? .report : .other("its files are not the ones its \(marker) lists (changed, added, or a marker burnrate did not write)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
        return entries.isEmpty ? .emptyFolder : .other("it is a folder that burnrate did not write")
    }

    /// Replaces the folder `out` by one holding `files` (and the marker), in one rename: the files
    /// are written into a fresh sibling folder first, so a failure leaves the previous report
    /// intact. Whatever else is at `out` (a file, a link, a folder without the marker) is refused
    /// with ``OutputRefused`` before anything is written: an `--out` typed wrong, or taken from a
    /// scenario someone else wrote, must never delete data. An empty folder holds nothing to lose.
    static func replaceDirectory(_ out: String, with files: [(path: String, contents: String)]) throws {
        let fm = FileManager.default
        let target = URL(fileURLWithPath: out).standardizedFileURL
        let existing = existing(target.path)
        if case .other(let reason) = existing { throw OutputRefused(path: out, reason: reason) }
        let parent = target.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(at: staging)
        try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            for f in files + [(path: marker, contents: markerText(files))] {
                let url = staging.appendingPathComponent(f.path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(f.contents.utf8).write(to: url)
            }
            switch existing {
            case .report:
                let old = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(getpid())")
                try? fm.removeItem(at: old)
                try fm.moveItem(at: target, to: old)
                // What was moved is checked again before it is deleted: the folder at `out` may
                // have been swapped since it was checked.
                guard matchesMarker(old.path) else {
                    try? fm.moveItem(at: old, to: target)
                    throw OutputRefused(path: out, reason: "it changed while the report was written")
                }
                try fm.moveItem(at: staging, to: target)
                try? fm.removeItem(at: old)
            case .emptyFolder:
                // rename(2) replaces an empty folder in one step.
                guard rename(staging.path, target.path) == 0 else { throw OutputRefused(path: out, reason: "it cannot be replaced (\(String(cString: strerror(errno))))") }
            default:
                try fm.moveItem(at: staging, to: target)
            }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    static func slug(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
    }
}

enum CSV {
    static func files(_ data: RunData, summary: Summary) -> [(String, String)] {
        // Per replication, every run metric, every variant.
        var names = Set<String>()
        for v in data.variants { for r in v.records { names.formUnion(r.run.keys) } }
        let columns = names.sorted()
        var rows = "variant,replication," + columns.joined(separator: ",") + "\n"
        for v in data.variants {
            for r in v.records {
                rows += "\(Escape.csv(v.name ?? "as-written")),\(r.replication)," + columns.map { r.run[$0].map(JSON.format) ?? "" }.joined(separator: ",") + "\n"
            }
        }
        // Balance quantiles over time, per pool (the fan charts).
        var balance = "pool,hour,p05,p50,p95\n"
        for (p, pool) in data.poolNames.enumerated() {
            for (k, t) in data.sampleTimesHours.enumerated() {
                let values = data.variants[0].records.compactMap { k < $0.series[p].count ? $0.series[p][k] : nil }.sorted()
                guard !values.isEmpty else { continue }
                let q = [0.05, 0.5, 0.95].map { JSON.format(quantile(values, $0)) }
                balance += "\(Escape.csv(pool)),\(JSON.format(t)),\(q.joined(separator: ","))\n"
            }
        }
        // Spend per identity and replication.
        var identities = "variant,identity,replication,spend_credits,requests_total,continuity\n"
        for v in data.variants {
            for r in v.records {
                for (i, name) in data.identityNames.enumerated() {
                    let m = r.identities[i]
                    identities += "\(Escape.csv(v.name ?? "as-written")),\(Escape.csv(name)),\(r.replication),\(JSON.format(m[Metric.spendCredits.name] ?? 0)),"
                        + "\(JSON.format(m[Metric.requestsTotal.name] ?? 0)),\(JSON.format(m[Metric.continuity.name] ?? 1))\n"
                }
            }
        }
        return [("data/replications.csv", rows), ("data/balance.csv", balance), ("data/identities.csv", identities)]
    }

    static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        let pos = p * Double(sorted.count - 1)
        let i = Int(pos)
        return i + 1 < sorted.count ? sorted[i] + (pos - Double(i)) * (sorted[i + 1] - sorted[i]) : sorted[i]
    }
}
