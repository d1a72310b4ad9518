/// What `size`, `compare` and `procure` produce: a JSON answer, a Markdown report and the files
/// of a report directory.
public protocol DecisionReport {
    /// The report directory's name for the JSON file (`size.json`, …).
    var jsonFile: String { get }
    var json: JSON { get }
    var markdown: String { get }
    var files: [(path: String, contents: String)] { get }
}

extension DecisionReport {
    /// Writes the report directory atomically.
    public func write(to out: String) throws { try ReportWriter.replaceDirectory(out, with: files) }

    /// What the command prints: the JSON answer, or the Markdown and where the report went.
    public func console(directory: String, json asJSON: Bool) -> String {
        asJSON ? json.rendered() + "\n" : markdown + "wrote \(directory)/report.md (\(jsonFile), charts/)\n"
    }
}

extension SizeAnswer: DecisionReport { public var jsonFile: String { "size.json" } }
extension Comparison: DecisionReport { public var jsonFile: String { "compare.json" } }
extension ProcureResult: DecisionReport { public var jsonFile: String { "procure.json" } }
