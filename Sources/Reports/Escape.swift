/// Escaping for each output format. Names are restricted at the edge (``LedgerName``: letters,
/// digits and `. _ - : @`), but a writer escapes what it inserts anyway: a description is free
/// text, a price table's model names are not names of ours, and a rule at one edge is not a
/// guarantee at every writer (defence in depth).
enum Escape {
    /// Text inside a Markdown table cell or a line of prose: one line, no table break (`|`), no
    /// HTML (`<script>`), no emphasis, link or code markup of its own. Newlines and other control
    /// characters become spaces.
    static func markdown(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\", "|", "*", "`", "[", "]": out += "\\" + String(c)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default:
                if c.value < 0x20 || c.value == 0x7F || (0x80...0x9F).contains(c.value) || c == "\u{2028}" || c == "\u{2029}" {
                    out += " "
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// Text inside a Markdown code span (`` `…` ``): a backtick would end the span, so it is
    /// replaced; control characters become spaces.
    static func codeSpan(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            c == "`" ? "'" : (c.value < 0x20 || c.value == 0x7F) ? " " : c
        }))
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, with quotes
    /// doubled; a field a spreadsheet would read as a formula (`= + - @`, tab, carriage return
    /// first) is prefixed with `'` (OWASP's advice for CSV injection). For text fields only:
    /// numbers are written as numbers.
    static func csv(_ s: String) -> String {
        var field = s
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { field = "'" + field }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text in XML (JUnit, SVG), in content or in an attribute: the five predefined entities,
    /// tab and line breaks as character references (attribute values normalise them away), and
    /// the control characters XML 1.0 forbids even as references replaced by U+FFFD.
    static func xml(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default:
                if c.value < 0x20 || c.value == 0xFFFE || c.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
