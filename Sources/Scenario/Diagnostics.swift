import Simulation
import Yams

/// A problem in a scenario file, located at a line and column.
public struct ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        // Every message is made printable here, whoever built it (Yams quotes the offending line).
        self.message = Diagnostics.printable(message)
    }

    /// `FILE:LINE:COLUMN: message`, as compilers print it.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem found in a scenario: parsing goes on after the first one, so a user sees them
/// all at once.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ScenarioError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Collects problems while a scenario is read.
final class Diagnostics {
    let file: String
    private var found: [ScenarioError] = []
    /// Problems beyond ``maxErrors``, counted and not kept: a file of 100,000 unknown keys must
    /// not print 100,000 lines (or spend a minute building them).
    private var suppressed = 0
    static let maxErrors = 100

    init(file: String) { self.file = file }

    /// The problems found, the first ``maxErrors`` of them, then one saying how many more.
    var errors: [ScenarioError] {
        guard suppressed > 0 else { return found }
        let last = found.last
        return found + [ScenarioError(file: file, line: last?.line ?? 1, column: last?.column ?? 1,
                                      message: "… and \(suppressed) more problems (the first \(Self.maxErrors) are shown)")]
    }

    func error(_ node: Node?, _ message: String) {
        error(at: node?.mark, message)
    }

    func error(at mark: Mark?, _ message: String) {
        guard found.count < Self.maxErrors else { suppressed += 1; return }
        found.append(ScenarioError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    /// A message as it may reach a terminal or a CI log: messages quote the file, and a file may
    /// hold escape sequences or megabytes in one value. Control characters are escaped and a
    /// message is at most `maxLength` characters, whatever a site quoted.
    static let maxLength = 400

    static func printable(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) })
                || message.count > maxLength else { return message }
        var out = ""
        for scalar in message.unicodeScalars.prefix(maxLength) {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return message.unicodeScalars.count > maxLength ? out + "…" : out
    }

    var hasErrors: Bool { !found.isEmpty }
    /// Every problem found, the suppressed ones included (to tell whether a step found any).
    var errorCount: Int { found.count + suppressed }
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo: the
/// "did you mean" of every error about a name.
public func suggestion(for word: String, among candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let w = Array(word.lowercased())
    let best = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
    guard let best, best.1 <= max(2, w.count / 3) else { return nil }
    return best.0
}

extension Metric {
    /// Why `name` cannot be a sequential-stopping target (nil: it can): it must be a known metric
    /// of the whole run with a value per replication (so it has a confidence interval).
    public static func precisionProblem(_ name: String) -> String? {
        guard let metric = named(name) else {
            let hint = suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
            return "unknown metric '\(name)'\(hint)"
        }
        if metric.kind == .acrossReplications { return "\(name) is one value across replications: it has no interval to narrow" }
        if !metric.scopes.contains(.run) { return "\(name) is not measured for the whole run" }
        return nil
    }
}
