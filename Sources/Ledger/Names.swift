/// What a name (a pool, an identity, a scenario, a plan, a variant) may contain.
///
/// One rule for every id a user writes, so that a name is always safe to print, to put in a
/// Markdown table, a CSV field or an XML attribute, and to use as a single path component:
/// 1–128 ASCII characters, letters, digits and `. _ - : @`, starting with a letter or a digit.
/// So a name is never empty, never `.` or `..`, never holds a `/`, a space, a control character
/// (NUL, ESC) or a bidirectional override, and compares equal to another only byte for byte.
public enum LedgerName {
    /// The longest name accepted, in characters (bytes: names are ASCII).
    public static let maxLength = 128

    /// Why `name` is not a valid name, or nil when it is.
    public static func problem(_ name: String) -> String? {
        let bytes = name.utf8
        guard !bytes.isEmpty else { return "a name must not be empty" }
        guard bytes.count <= maxLength else { return "a name is at most \(maxLength) characters (this one has \(bytes.count))" }
        guard let first = bytes.first, isLetterOrDigit(first) else {
            return "a name starts with a letter or a digit"
        }
        for b in bytes where !(isLetterOrDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
                               || b == UInt8(ascii: "-") || b == UInt8(ascii: ":") || b == UInt8(ascii: "@")) {
            return "a name holds only letters, digits and . _ - : @ (found \(describe(b)))"
        }
        return nil
    }

    /// Whether `name` follows the rule.
    public static func isValid(_ name: String) -> Bool { problem(name) == nil }

    @inline(__always)
    static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
    }

    /// A byte as a reader can see it: printable ASCII quoted, anything else as its code.
    static func describe(_ b: UInt8) -> String {
        if b >= 0x21 && b < 0x7f { return "'\(Character(Unicode.Scalar(b)))'" }
        if b == 0x20 { return "a space" }
        return b < 0x80 ? "the control character 0x\(String(b, radix: 16, uppercase: true))" : "a non-ASCII character"
    }
}
