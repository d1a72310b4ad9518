/// Bytes a ``JSONPull`` reads: a file through ``ByteSource`` or a field already in memory.
protocol ByteInput: AnyObject {
    func peek() -> UInt8?
    func advance()
    var line: Int { get }
}

extension ByteSource: ByteInput {}

/// A CSV field (or any bytes) read as JSON text, for the JSON that a CSV export quotes.
final class MemoryBytes: ByteInput {
    private let bytes: [UInt8]
    // Read once a byte, by one parser: no dynamic exclusivity check (see ``ByteSource``).
    @exclusivity(unchecked) private var i = 0
    let line: Int
    init(_ bytes: [UInt8], line: Int) { self.bytes = bytes; self.line = line }
    func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }
    func advance() { i += 1 }
}

/// A JSON value as written: numbers keep their text (a logged cost is read as a decimal, never
/// through a binary float), objects keep their fields in order.
enum JSONItem: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONItem])
    case object([(key: String, value: JSONItem)])

    static func == (a: JSONItem, b: JSONItem) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)), (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    subscript(key: String) -> JSONItem? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }
}

/// A JSON syntax error at a line of the input.
struct JSONSyntax: Error {
    var message: String
    var line: Int
}

/// A strict (RFC 8259) pull parser: the caller walks objects and arrays key by key and element
/// by element, materialises only the values it needs (each bounded in bytes and depth), and
/// skips the rest without keeping them. So a page of a million buckets, or a log line with a
/// megabyte prompt in it, is read in constant memory.
struct JSONPull<Input: ByteInput> {
    let input: Input
    /// Whether the innermost open object or array has produced no member yet.
    private var first: [Bool] = []
    /// The most bytes one materialised value may take, and the deepest nesting.
    static var maxValueBytes: Int { 1 << 20 }
    static var maxDepth: Int { 64 }

    init(_ input: Input) { self.input = input }

    var line: Int { input.line }

    private func fail(_ message: String) -> JSONSyntax { JSONSyntax(message: message, line: input.line) }

    private func skipWhitespace() {
        while let b = input.peek(), b == 32 || b == 9 || b == 10 || b == 13 { input.advance() }
    }

    private func expect(_ byte: UInt8, _ what: String) throws(JSONSyntax) {
        skipWhitespace()
        guard input.peek() == byte else { throw fail("expected \(what), found \(found())") }
        input.advance()
    }

    private func found() -> String {
        guard let b = input.peek() else { return "the end of the file" }
        return b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : String(format: b)
    }

    /// The next non-blank byte, not consumed (nil at the end).
    mutating func peekByte() -> UInt8? { skipWhitespace(); return input.peek() }

    mutating func beginObject() throws(JSONSyntax) { try expect(123, "'{'"); first.append(true) }
    mutating func beginArray() throws(JSONSyntax) { try expect(91, "'['"); first.append(true) }

    /// The next key of the open object, nil (and the object closed) at its `}`.
    mutating func nextKey() throws(JSONSyntax) -> String? {
        skipWhitespace()
        if input.peek() == 125 { input.advance(); first.removeLast(); return nil }
        if !first[first.count - 1] { try expect(44, "',' or '}'") }
        first[first.count - 1] = false
        skipWhitespace()
        guard input.peek() == 34 else { throw fail("expected a key in double quotes, found \(found())") }
        var budget = Self.maxValueBytes
        let key = try string(budget: &budget, keep: true)
        try expect(58, "':'")
        return key
    }

    /// Whether the open array has another element (false, and the array closed, at its `]`).
    mutating func nextElement() throws(JSONSyntax) -> Bool {
        skipWhitespace()
        if input.peek() == 93 { input.advance(); first.removeLast(); return false }
        if !first[first.count - 1] { try expect(44, "',' or ']'") }
        first[first.count - 1] = false
        return true
    }

    /// The next value, materialised (at most ``maxValueBytes`` bytes deep in ``maxDepth``).
    mutating func value() throws(JSONSyntax) -> JSONItem {
        var budget = Self.maxValueBytes
        return try value(budget: &budget, depth: 0, keep: true)!
    }

    /// Reads past the next value, keeping nothing of it.
    mutating func skip() throws(JSONSyntax) {
        var budget = Int.max
        _ = try value(budget: &budget, depth: 0, keep: false)
    }

    private mutating func value(budget: inout Int, depth: Int, keep: Bool) throws(JSONSyntax) -> JSONItem? {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        skipWhitespace()
        guard let b = input.peek() else { throw fail("expected a value, found the end of the file") }
        switch b {
        case 123:
            input.advance()
            var fields: [(key: String, value: JSONItem)] = []
            var isFirst = true
            while true {
                skipWhitespace()
                if input.peek() == 125 { input.advance(); break }
                if !isFirst { try expect(44, "',' or '}'") }
                isFirst = false
                skipWhitespace()
                guard input.peek() == 34 else { throw fail("expected a key in double quotes, found \(found())") }
                let key = try string(budget: &budget, keep: keep)
                try expect(58, "':'")
                let v = try value(budget: &budget, depth: depth + 1, keep: keep)
                if keep {
                    guard !fields.contains(where: { $0.key == key }) else { throw fail("duplicate key '\(excerpt(key))'") }
                    fields.append((key, v!))
                }
            }
            return keep ? .object(fields) : nil
        case 91:
            input.advance()
            var items: [JSONItem] = []
            var isFirst = true
            while true {
                skipWhitespace()
                if input.peek() == 93 { input.advance(); break }
                if !isFirst { try expect(44, "',' or ']'") }
                isFirst = false
                let v = try value(budget: &budget, depth: depth + 1, keep: keep)
                if keep { items.append(v!) }
            }
            return keep ? .array(items) : nil
        case 34:
            let s = try string(budget: &budget, keep: keep)
            return keep ? .string(s) : nil
        case 116: try literal("true"); return .bool(true)
        case 102: try literal("false"); return .bool(false)
        case 110: try literal("null"); return .null
        default:
            return .number(try number(budget: &budget))
        }
    }

    private func literal(_ word: StaticString) throws(JSONSyntax) {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for c in bytes {
            guard input.peek() == c else { throw fail("expected '\(word)', found \(found())") }
            input.advance()
        }
    }

    private func take(_ budget: inout Int) throws(JSONSyntax) {
        budget -= 1
        if budget < 0 { throw fail("a value longer than \(Self.maxValueBytes) bytes") }
    }

    private func number(budget: inout Int) throws(JSONSyntax) -> String {
        var text: [UInt8] = []
        func digits(_ text: inout [UInt8]) -> Int {
            var n = 0
            while let d = input.peek(), d >= 48 && d <= 57 { text.append(d); input.advance(); n += 1 }
            return n
        }
        if input.peek() == 45 { text.append(45); input.advance() }
        guard let lead = input.peek(), lead >= 48 && lead <= 57 else { throw fail("expected a value, found \(found())") }
        if lead == 48 {
            text.append(48); input.advance()
            if let d = input.peek(), d >= 48 && d <= 57 { throw fail("a number with a leading zero") }
        } else {
            _ = digits(&text)
        }
        if input.peek() == 46 {
            text.append(46); input.advance()
            guard digits(&text) > 0 else { throw fail("a number with no digit after its '.'") }
        }
        if let e = input.peek(), e == 101 || e == 69 {
            text.append(e); input.advance()
            if let s = input.peek(), s == 43 || s == 45 { text.append(s); input.advance() }
            guard digits(&text) > 0 else { throw fail("a number with no digit in its exponent") }
        }
        budget -= text.count
        if budget < 0 { throw fail("a value longer than \(Self.maxValueBytes) bytes") }
        return String(decoding: text, as: UTF8.self)
    }

    private func hex4() throws(JSONSyntax) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let h = input.peek() else { throw fail("an unfinished \\u escape") }
            let d: UInt32
            switch h {
            case 48...57: d = UInt32(h - 48)
            case 65...70: d = UInt32(h - 55)
            case 97...102: d = UInt32(h - 87)
            default: throw fail("a \\u escape with a non-hex digit")
            }
            v = v << 4 | d
            input.advance()
        }
        return v
    }

    /// A string at the opening quote; its UTF-8 is checked, escapes decoded.
    private func string(budget: inout Int, keep: Bool) throws(JSONSyntax) -> String {
        input.advance()
        var out: [UInt8] = []
        while true {
            guard let b = input.peek() else { throw fail("an unterminated string") }
            input.advance()
            if keep { try take(&budget) }
            if b == 34 { break }
            if b < 0x20 { throw fail("a control character (0x\(String(b, radix: 16))) inside a string") }
            guard b == 92 else { if keep { out.append(b) }; continue }
            guard let e = input.peek() else { throw fail("an unterminated string") }
            input.advance()
            let scalar: UInt32
            switch e {
            case 34, 92, 47: scalar = UInt32(e)
            case 98: scalar = 8
            case 102: scalar = 12
            case 110: scalar = 10
            case 114: scalar = 13
            case 116: scalar = 9
            case 117:
                let u = try hex4()
                if (0xD800..<0xDC00).contains(u) {
                    guard input.peek() == 92 else { throw fail("a lone surrogate in a \\u escape") }
                    input.advance()
                    guard input.peek() == 117 else { throw fail("a lone surrogate in a \\u escape") }
                    input.advance()
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in a \\u escape") }
                    scalar = 0x10000 + (u - 0xD800) << 10 + (low - 0xDC00)
                } else {
                    guard !(0xDC00..<0xE000).contains(u) else { throw fail("a lone surrogate in a \\u escape") }
                    scalar = u
                }
            default: throw fail("an unknown escape '\\\(Character(Unicode.Scalar(e)))'")
            }
            if keep { out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8) }
        }
        guard keep else { return "" }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string that is not UTF-8") }
        return s
    }
}

private extension String {
    init(format byte: UInt8) { self = "byte 0x" + String(byte, radix: 16, uppercase: true) }
}
