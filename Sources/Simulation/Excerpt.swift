/// A short, escaped excerpt of untrusted text, for an error message.
///
/// Error messages quote what they could not read, and what they read may be anything: a trace
/// pointed at `/proc/self/environ` or `/etc/shadow`, a line of escape sequences that rewrite the
/// terminal. So a quote is at most `limit` characters (then `…`), and every character outside
/// printable ASCII is shown as `\u{…}` (tab, newline and carriage return as `\t \n \r`): a log
/// shows that something was wrong, never the file itself.
public func excerpt(_ text: some StringProtocol, limit: Int = 60) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit { return out + "…" }
        count += 1
        switch scalar {
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\\": out += "\\\\"
        case " "..."~": out.unicodeScalars.append(scalar)
        default: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        }
    }
    return out
}
