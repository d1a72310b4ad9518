import Foundation

/// The audit's text and JSON answers.
extension AuditReport {
    /// A Markdown table, columns padded: it reads in a terminal and renders in a pull request
    /// comment or a job summary. Then one line of counts and the verdict under `failOn`.
    public func table(failOn: Level) -> String {
        var rows = [["level", "rule", "where", "finding"]]
        for f in findings {
            rows.append([f.level.rawValue, "\(f.rule.id) \(f.rule.name)", f.location.description, f.message].map(Self.cell))
        }
        var out = ""
        if findings.isEmpty {
            out += "No findings in \(files.count == 1 ? Self.cell(files[0]) : "\(files.count) files").\n"
        } else {
            let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
            func line(_ r: [String]) -> String {
                "| " + r.enumerated().map { c, s in s + String(repeating: " ", count: widths[c] - s.count) }.joined(separator: " | ") + " |\n"
            }
            out += line(rows[0])
            out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
            for r in rows.dropFirst() { out += line(r) }
            out += "\n"
            let counts = Level.allCases.reversed().map { "\(count($0)) \($0.rawValue)\(count($0) == 1 ? "" : "s")" }
            out += "\(findings.count) finding\(findings.count == 1 ? "" : "s") (\(counts.joined(separator: ", "))) in \(files.count) file\(files.count == 1 ? "" : "s").\n"
        }
        out += fails(at: failOn) ? "Fails: a finding at or above \(failOn.rawValue) (--fail-on \(failOn.rawValue)).\n"
                                 : "Passes: nothing at or above \(failOn.rawValue) (--fail-on \(failOn.rawValue)).\n"
        return out
    }

    /// A table cell: control characters escaped (a file name may hold any), `|` escaped for Markdown.
    static func cell(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7f || (0x80...0x9f).contains(u.value) { out += "\\u{\(String(u.value, radix: 16))}" }
            else if u == "|" { out += "\\|" }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// `{"schema":"burnrate.audit/1","files":[…],"counts":{…},"findings":[…]}`, keys sorted.
    public func json() -> String {
        let items: [[String: Any]] = findings.map { f in
            var o: [String: Any] = ["rule": f.rule.id, "name": f.rule.name, "level": f.level.rawValue, "message": f.message,
                                    "subject": f.location.subject, "file": f.location.file]
            if let l = f.location.line { o["line"] = l }
            if let c = f.location.column { o["column"] = c }
            return o
        }
        let counts = Dictionary(uniqueKeysWithValues: Level.allCases.map { ($0.rawValue, count($0)) })
        return Self.serialise(["schema": "burnrate.audit/1", "files": files, "counts": counts, "findings": items], pretty: false)
    }

    static func serialise(_ object: Any, pretty: Bool) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        // Every value put in is a string, a number, a list or a dictionary of them: it serialises.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
