import Foundation
import Testing
@testable import Reports
@testable import Scenario

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Issue #14, "outputs that inject": every output of a run whose names hold `<>&"'|`, newlines
/// and control characters parses as its format, with the names inside their cells. The scenario
/// parser refuses such names (LedgerName), so the run's names are replaced after it: this tests
/// the writers' own escaping, the second line of defence.
@Suite("Untrusted files: outputs that inject")
struct OutputInjectionTests {
    static let hostile = "<script>alert(\"x\")</script> & 'q' | a\nb\r\u{1B}[2J\u{07}\u{0}"

    func hostileRun() throws -> RunData {
        let s = try Scenario.load(path: fixturePath("small.yaml"), displayPath: "small.yaml")
        var data = try RunData.run(s, replications: 4, threads: 2)
        data.scenario = "=cmd|' /C calc'!A0 " + Self.hostile
        data.description = Self.hostile + "\n# heading"
        data.poolNames = data.poolNames.enumerated().map { "\($0.offset == 0 ? "=" : "+")pool,\($0.element) " + Self.hostile }
        data.identityNames = data.identityNames.map { "-\($0)\"," + Self.hostile }
        for v in data.variants.indices where data.variants[v].name != nil { data.variants[v].name = "@v|" + Self.hostile }
        return data
    }

    /// RFC 4180 fields of a CSV text, line breaks inside quotes kept.
    func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" { if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { quoted = false } }
                else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.unicodeScalars.append(c) }
        }
        return rows
    }

    /// The cells of a Markdown table row: split on `|` not escaped by a backslash.
    func cells(_ line: String) -> [String] {
        var out: [String] = [], cell = "", escaped = false
        for c in line {
            if escaped { cell.append(c); escaped = false } else if c == "\\" { escaped = true; cell.append(c) }
            else if c == "|" { out.append(cell); cell = "" } else { cell.append(c) }
        }
        out.append(cell)
        return Array(out.dropFirst().dropLast())
    }

    func checkMarkdown(_ md: String, _ what: String) {
        // Code spans are literal text in Markdown (no HTML inside); outside them, none either.
        let outsideCode = md.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined()
        #expect(!outsideCode.contains("<script>"), "\(what) holds raw HTML")
        #expect(!md.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(what) holds control characters")
        #expect(!md.contains("\n# heading"), "\(what): a description line became a heading")
        // Every table row has as many cells as its header.
        var columns: Int? = nil
        for line in md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.hasPrefix("|") else { columns = nil; continue }
            let n = cells(line).count
            if let columns { #expect(n == columns, "\(what): a row has \(n) cells, the header \(columns): \(line)") } else { columns = n }
        }
    }

    @Test func everyOutputOfARunParsesWithHostileNames() throws {
        let files = ReportWriter.files(for: try hostileRun())
        for f in files {
            switch f.path {
            case let p where p.hasSuffix(".json"):
                #expect((try? JSONSerialization.jsonObject(with: Data(f.contents.utf8))) != nil, "\(p) is not JSON")
            case let p where p.hasSuffix(".svg"):
                let parser = XMLParser(data: Data(f.contents.utf8))
                #expect(parser.parse(), "\(p) is not well-formed XML: \(String(describing: parser.parserError))")
            case let p where p.hasSuffix(".csv"):
                let rows = csvRows(f.contents)
                #expect(rows.count > 1, "\(p) has no rows")
                for row in rows {
                    #expect(row.count == rows[0].count, "\(p): a row has \(row.count) fields, the header \(rows[0].count)")
                    for field in row { #expect(!"=+@\t\r".contains(field.first ?? "x"), "\(p): field \(field.debugDescription) reads as a formula") }
                }
                #expect(rows.dropFirst().contains { $0.contains { $0.contains("<script>") } }, "\(p) lost the names")
            case "report.md":
                checkMarkdown(f.contents, "report.md")
            default:
                break
            }
        }
    }

    @Test func theCheckTableAndJUnitParseWithHostileNames() throws {
        let data = try hostileRun()
        var results = Checker.expectations(Summary(data))
        results.append(CheckResult(scenario: data.scenario, kind: .regression, name: "x|y`z\n" + Self.hostile, actual: 1, passed: false,
                                   detail: Self.hostile))
        checkMarkdown(Checker.table(results), "the check table")
        let parser = XMLParser(data: Data(Checker.junit(results).utf8))
        #expect(parser.parse(), "JUnit XML is not well-formed: \(String(describing: parser.parserError))")
    }

    @Test func escapersFollowTheirFormats() {
        #expect(Escape.csv("=1+2") == "'=1+2")
        #expect(Escape.csv("a,b") == "\"a,b\"")
        #expect(Escape.csv("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(Escape.csv("plain") == "plain")
        #expect(Escape.markdown("a|b\nc<d>") == "a\\|b c&lt;d&gt;")
        #expect(Escape.xml("a'b\"<&>\u{1}\n") == "a&apos;b&quot;&lt;&amp;&gt;\u{FFFD}&#10;")
    }
}
