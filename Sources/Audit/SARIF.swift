import Foundation

/// SARIF 2.1.0 (OASIS), as code-scanning services read it: one run whose driver is `burnrate`,
/// the rules with the framework controls they serve in their properties, one result per finding
/// located at the file, line and column of the node at fault.
extension AuditReport {
    public static let sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    /// The SARIF log, pretty-printed with sorted keys (stable diffs).
    public func sarif(rules: [Rule] = Rule.all) -> String {
        let ruleObjects: [[String: Any]] = rules.map { r in
            [
                "id": r.id,
                "name": r.name,
                "shortDescription": ["text": r.summary],
                "fullDescription": ["text": r.summary + " " + r.fix],
                "help": ["text": r.fix, "markdown": "\(r.fix) See docs/audit.md#\(r.id.lowercased())-\(r.name)."],
                "defaultConfiguration": ["level": r.level.rawValue],
                "properties": [
                    "frameworks": [
                        "OWASP Top 10 for Agentic Applications 2026": r.owaspAgentic,
                        "NIST CSF 2.0": r.nistCSF,
                        "NIST SP 800-207": r.nist800207,
                    ],
                    "tags": ["security", "governance"] + r.owaspAgentic.map { String($0.prefix { $0 != " " }) }
                        + r.nistCSF.map { "NIST-CSF-\($0)" },
                ] as [String: Any],
            ]
        }
        let results: [[String: Any]] = findings.map { f in
            var physical: [String: Any] = ["artifactLocation": ["uri": Self.uri(f.location.file)]]
            if let line = f.location.line {
                physical["region"] = ["startLine": line, "startColumn": f.location.column ?? 1]
            }
            return [
                "ruleId": f.rule.id,
                "ruleIndex": rules.firstIndex { $0.id == f.rule.id } ?? 0,
                "level": f.level.rawValue,
                "message": ["text": f.message],
                "locations": [[
                    "physicalLocation": physical,
                    "logicalLocations": [["name": f.location.subject, "kind": "resource"]],
                ] as [String: Any]],
            ]
        }
        let run: [String: Any] = [
            "tool": ["driver": ["name": "burnrate", "rules": ruleObjects]],
            "columnKind": "unicodeCodePoints",
            "results": results,
        ]
        return Self.serialise(["$schema": Self.sarifSchema, "version": "2.1.0", "runs": [run]], pretty: true) + "\n"
    }

    /// A file name as a URI reference: a relative path stays relative (code scanning resolves it
    /// against the repository root), an absolute one becomes `file://`; both percent-encoded.
    static func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "%;?#[]")
        let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return path.hasPrefix("/") ? "file://" + encoded : encoded
    }
}

/// Writes a whole file or nothing: to a temporary file beside it, then renamed over it (a reader,
/// or a crash, never sees half a SARIF log).
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): cannot write (\(reason))" }
    }

    public static func write(_ text: String, to path: String) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw WriteError(path: path, reason: error.localizedDescription)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw WriteError(path: path, reason: reason)
        }
    }
}
