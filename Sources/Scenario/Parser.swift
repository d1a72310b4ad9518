import Ledger
import Simulation
import Stochastic
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Scenario {
    /// Reads and validates a scenario file. Every problem found is reported at once, each as
    /// `FILE:LINE:COLUMN: message`.
    ///
    /// With `confined`, the files the scenario names (traces, price tables) must lie in the
    /// scenario's own folder tree, links resolved: what `check` and notebooks run comes from pull
    /// requests, and a trace pointed at `/proc/self/environ` must not be read at all.
    public static func load(path: String, displayPath: String? = nil, confined: Bool = false) throws(ScenarioErrors) -> Scenario {
        try load(path: path, edits: ScenarioEdits(), displayPath: displayPath, confined: confined)
    }

    /// Reads a scenario from text; `directory` resolves relative trace and price paths, and with
    /// `filesWithin` every such file must lie inside that folder.
    public static func parse(yaml: String, file: String, directory: String = ".", edits: ScenarioEdits = ScenarioEdits(),
                             filesWithin: String? = nil) throws(ScenarioErrors) -> Scenario {
        if let problem = YAMLBounds.nestingProblem(yaml) {
            throw ScenarioErrors(errors: [ScenarioError(file: file, line: problem.line, column: problem.column, message: problem.message)])
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ScenarioErrors(errors: [yamlError(error, file: file)])
        } catch {
            throw ScenarioErrors(errors: [ScenarioError(file: file, line: 1, column: 1, message: "\(error)")])
        }
        guard let root = node, root.mapping != nil else {
            throw ScenarioErrors(errors: [ScenarioError(file: file, line: 1, column: 1, message: "a scenario is a mapping of keys (name, horizon, pools, …)")])
        }
        if let problem = YAMLBounds.expansionProblem(root) {
            throw ScenarioErrors(errors: [ScenarioError(file: file, line: problem.line, column: problem.column, message: problem.message)])
        }
        let d = Diagnostics(file: file)
        let builder = ModelBuilder(d: d, directory: directory, filesWithin: filesWithin)
        guard let edited = builder.edited(root, edits) else { throw ScenarioErrors(errors: d.errors) }
        guard var scenario = builder.scenario(edited), !d.hasErrors else { throw ScenarioErrors(errors: d.errors) }
        scenario.editNotes = builder.editNotes
        return scenario
    }

    static func yamlError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return ScenarioError(file: file, line: 1, column: 1, message: "YAML: duplicated keys \(duplicates.joined(separator: ", "))")
        default:
            return ScenarioError(file: file, line: 1, column: 1, message: "YAML: \(error)")
        }
    }
}

/// The largest scenario or price table read, in bytes: the largest committed scenario is 30 KB.
let maxFileBytes = 16 << 20

/// A regular file's text, or nil: a device (`/dev/zero`), a FIFO, a folder, a file over
/// `maxFileBytes` or text that is not UTF-8 is not read (a scenario may name anything).
func readFile(_ path: String) -> String? {
    // Checked before opening too: opening a FIFO blocks until a writer comes.
    var before = stat()
    guard stat(path, &before) == 0, before.st_mode & S_IFMT == S_IFREG else { return nil }
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var st = stat()
    guard fstat(fileno(f), &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if bytes.count > maxFileBytes { return nil }
        if n < chunk.count { break }
    }
    return String(validating: bytes, as: UTF8.self)
}

func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

func resolve(_ path: String, relativeTo directory: String) -> String {
    path.hasPrefix("/") ? path : directory + "/" + path
}

/// Walks the YAML tree and builds the model, reporting problems to `d`.
final class ModelBuilder {
    let d: Diagnostics
    let directory: String
    /// When set, the real path of the only folder whose files the scenario may read.
    let filesWithin: String?
    /// What the edits did that a reader of the answer should know (see ``Scenario/editNotes``).
    var editNotes: [String] = []

    init(d: Diagnostics, directory: String, filesWithin: String? = nil) {
        self.d = d
        self.directory = directory
        self.filesWithin = filesWithin
    }

    /// The path of a file the scenario names (`what`: "trace", "price table"), resolved against
    /// the scenario's folder; nil, with the problem reported, when it lies outside `filesWithin`.
    func readablePath(_ path: String, _ node: Node?, what: String) -> String? {
        let resolved = resolve(path, relativeTo: directory)
        guard let root = filesWithin else { return resolved }
        guard let real = realPath(resolved) else {
            d.error(node, "cannot read the \(what) \(quoted(path))")
            return nil
        }
        guard real == root || real.hasPrefix(root == "/" ? "/" : root + "/") else {
            d.error(node, "the \(what) \(quoted(path)) lies outside the scenario's folder; "
                    + "burnrate check and notebooks read only files beside the scenario (--allow-outside lifts this)")
            return nil
        }
        return real
    }

    // MARK: Primitives

    /// The mapping's entries, with unknown keys reported (and a "did you mean").
    func fields(_ node: Node, _ context: String, allowed: [String]) -> [String: Node] {
        guard let mapping = node.mapping else {
            d.error(node, "\(context) must be a mapping")
            return [:]
        }
        var out: [String: Node] = [:]
        for (k, v) in mapping {
            guard let key = k.string else { d.error(k, "\(context): keys must be text"); continue }
            if !allowed.contains(key) {
                let hint = suggestion(for: key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(k, "\(context): unknown key '\(key)'\(hint); expected one of \(allowed.joined(separator: ", "))")
                continue
            }
            out[key] = v
        }
        return out
    }

    /// A mapping with exactly one key (`{ poisson: {...} }`, `{ hard_stop: {} }`).
    func single(_ node: Node, _ context: String, allowed: [String]) -> (String, Node)? {
        let f = fields(node, context, allowed: allowed)
        guard f.count == 1, let (k, v) = f.first else {
            if node.mapping != nil && (node.mapping?.count ?? 0) != 1 {
                d.error(node, "\(context) must have exactly one of \(allowed.joined(separator: ", "))")
            }
            return nil
        }
        return (k, v)
    }

    func string(_ node: Node?, _ context: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let s) = node else { d.error(node, "\(context) must be text"); return nil }
        return s.string
    }

    /// A name or id (scenario, pool, identity, plan, variant): text following the one rule of
    /// ``LedgerName``, so that it is safe as a path component (`reports/<name>`), in every output
    /// format and in the ledger. Reported at the node when it does not.
    func validName(_ node: Node?, _ context: String) -> String? {
        guard let s = string(node, context) else { return nil }
        if let problem = LedgerName.problem(s) {
            d.error(node, "\(context): \(problem), got \(quoted(s))")
            return nil
        }
        return s
    }

    func number(_ node: Node?, _ context: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Double(s.string.trimmingCharacters()), v.isFinite else {
            d.error(node, "\(context) must be a number, got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        if let min, v < min { d.error(node, "\(context) must be at least \(format(min)), got \(s.string)"); return nil }
        if let max, v > max { d.error(node, "\(context) must be at most \(format(max)), got \(s.string)"); return nil }
        return v
    }

    func integer(_ node: Node?, _ context: String, min: Int = .min) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Int(s.string.trimmingCharacters()) else {
            d.error(node, "\(context) must be a whole number, got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        guard v >= min else { d.error(node, "\(context) must be at least \(min), got \(v)"); return nil }
        return v
    }

    /// Credits as an exact decimal → micro-credits; negative amounts are refused.
    func credits(_ node: Node?, _ context: String, allowNegative: Bool = false) -> Int64? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Money.parseCredits(s.string) else {
            d.error(node, "\(context) must be an amount of credits (a decimal number), got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        if v < 0 && !allowNegative { d.error(node, "\(context) must not be negative, got \(s.string)"); return nil }
        return v
    }

    func duration(_ node: Node?, _ context: String) -> Int64? {
        guard let node else { return nil }
        if case .scalar(let s) = node, Units.durationMs(s.string) == nil, Units.isOverlongDuration(s.string) {
            d.error(node, "\(context) is too long: durations are whole milliseconds in 64 bits, at most 106751d (292 years), got \(quoted(s.string))")
            return nil
        }
        guard case .scalar(let s) = node, let v = Units.durationMs(s.string) else {
            d.error(node, "\(context) must be a duration with a unit (500ms, 90s, 15m, 12h, 30d, 4w), got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        return v
    }

    func rate(_ node: Node?, _ context: String) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let s) = node, let v = Units.ratePerHour(s.string) else {
            d.error(node, "\(context) must be a rate such as 600/h (units /s /m /h /d), got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        // Bounds that keep every interval the simulator derives a whole number of milliseconds in
        // 64 bits: below 1e-6/h a gap (3.6e12 ms, and a thousand times that in a gamma tail)
        // nears Int64's range; above 1e9/s a request is a millionth of a millisecond apart.
        guard v.isFinite, v <= Units.maxRatePerHour else {
            d.error(node, "\(context) is too high: at most 1e9/s, got \(quoted(s.string))")
            return nil
        }
        guard v == 0 || v >= Units.minRatePerHour else {
            d.error(node, "\(context) is too low: a positive rate is at least 1e-6/h (one in 114 years), got \(quoted(s.string))")
            return nil
        }
        return v
    }

    func bool(_ node: Node?, _ context: String) -> Bool? {
        guard let node else { return nil }
        guard let b = node.bool else { d.error(node, "\(context) must be true or false"); return nil }
        return b
    }

    func list(_ node: Node?, _ context: String) -> [Node] {
        guard let node else { return [] }
        guard let seq = node.sequence else { d.error(node, "\(context) must be a list"); return [] }
        return Array(seq)
    }

    /// `text` quoted for an error message: at most 60 characters, control and non-ASCII
    /// characters escaped, so that a hostile file cannot write to the terminal through an error.
    func quoted(_ text: String) -> String { "'" + excerpt(text) + "'" }

    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "mapping"
        case .sequence: "list"
        default: "value"
        }
    }

    func format(_ x: Double) -> String { x == x.rounded() ? String(Int64(x)) : String(x) }
}
