/// A JSON value as it was written: numbers keep their text (so `123456789012.345678` is exact and
/// `1e3` can be told from `1000`), objects keep their fields in order.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text as written (RFC 8259 grammar, already checked).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONField])

    /// The kind, as an error message says it.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

public struct JSONField: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON text that is not strict JSON, with the byte offset (from 0) where it went wrong.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    /// The field a duplicate names.
    public var field: String?
    public var description: String { "\(message) at column \(offset + 1)" }
}

/// A strict RFC 8259 parser for untrusted input. Unlike `JSONSerialization` it refuses what
/// changes meaning silently: trailing commas, duplicate keys (compared byte for byte), invalid
/// UTF-8, unescaped control characters in strings, lone surrogates, anything after the value,
/// and nesting deeper than `maxDepth`.
public enum StrictJSON {
    public static func parse(_ text: String, maxDepth: Int = 32) throws(JSONSyntaxError) -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8), maxDepth: maxDepth)
        return try parser.document()
    }

    /// Serialises a value: keys in the order given, strings escaped, numbers as their text.
    public static func serialise(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, f) in fields.enumerated() {
                if i > 0 { out += "," }
                writeString(f.key, to: &out)
                out += ":"
                write(f.value, to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Control characters, and the bidirectional controls and line separators that
                // would rearrange or break a line on a terminal, are written escaped.
                if scalar.value < 0x20 || scalar.value == 0x7f || (0x2028...0x2029).contains(scalar.value)
                    || (0x202a...0x202e).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var i = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: i) }

        mutating func document() throws(JSONSyntaxError) -> JSONValue {
            skipSpace()
            let v = try value(depth: 0)
            skipSpace()
            guard i == bytes.count else { throw fail("unexpected text after the JSON value") }
            return v
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0a || bytes[i] == 0x0d { i += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard i < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[i] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw fail("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(JSONSyntaxError) {
            for b in word.utf8 {
                guard i < bytes.count, bytes[i] == b else { throw fail("unexpected character") }
                i += 1
            }
        }

        mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            i += 1
            var fields: [JSONField] = []
            var seen = Set<[UInt8]>()
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object([]) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a field name in quotes") }
                let start = i
                let key = try string()
                guard seen.insert(Array(key.utf8)).inserted else {
                    i = start
                    var e = fail("duplicate field '\(OperationFields.printable(key))'")
                    e.field = key
                    throw e
                }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
                fields.append(JSONField(key, try value(depth: depth)))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input in an object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(fields) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array([]) }
            while true {
                skipSpace()
                items.append(try value(depth: depth))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of input in a list") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func number() throws(JSONSyntaxError) -> String {
            let start = i
            func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, digit(bytes[i]) else { throw fail("invalid number") }
            if bytes[i] == 0x30 {
                i += 1
                if i < bytes.count, digit(bytes[i]) { throw fail("invalid number (leading zero)") }
            } else {
                while i < bytes.count, digit(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard i < bytes.count, digit(bytes[i]) else { throw fail("invalid number") }
                while i < bytes.count, digit(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < bytes.count, digit(bytes[i]) else { throw fail("invalid number") }
                while i < bytes.count, digit(bytes[i]) { i += 1 }
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            i += 1
            // The common string has no escape: it is its bytes, validated once.
            var j = i
            while j < bytes.count, bytes[j] != UInt8(ascii: "\""), bytes[j] != UInt8(ascii: "\\"), bytes[j] >= 0x20 { j += 1 }
            if j < bytes.count, bytes[j] == UInt8(ascii: "\"") {
                guard let s = String(validating: bytes[i..<j], as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                i = j + 1
                return s
            }
            // Escapes: the bytes are collected, each escaped scalar as its UTF-8 encoding, and
            // validated once at the end. An escaped scalar's encoding never begins with a
            // continuation byte, so raw bytes that are invalid stay invalid beside one.
            var out: [UInt8] = Array(bytes[i..<j])
            i = j
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; break }
                if b < 0x20 { throw fail("control character in a string (escape it)") }
                if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
                i += 1
                guard i < bytes.count else { throw fail("unterminated string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5c)
                case UInt8(ascii: "/"): out.append(0x2f)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xd800...0xdbff).contains(v) {
                        guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("lone surrogate in a \\u escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xdc00...0xdfff).contains(low) else { throw fail("lone surrogate in a \\u escape") }
                        v = 0x10000 + ((v - 0xd800) << 10) + (low - 0xdc00)
                    } else if (0xdc00...0xdfff).contains(v) {
                        throw fail("lone surrogate in a \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(v) else { throw fail("invalid \\u escape") }
                    out.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    throw fail("invalid escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return s
        }
    }
}
