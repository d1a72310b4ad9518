/// A small JSON value with a deterministic writer: keys sorted, numbers in Swift's shortest
/// round-trip form, two-space indentation. Same value → same bytes, on every machine.
public indirect enum JSON: Equatable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    public func rendered(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent)
        let inner = String(repeating: "  ", count: indent + 1)
        switch self {
        case .number(let x): return JSON.format(x)
        case .string(let s): return JSON.quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let xs):
            if xs.isEmpty { return "[]" }
            if xs.allSatisfy({ if case .number = $0 { true } else { false } }) {
                return "[" + xs.map { $0.rendered() }.joined(separator: ", ") + "]"
            }
            return "[\n" + xs.map { inner + $0.rendered(indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "]"
        case .object(let o):
            if o.isEmpty { return "{}" }
            return "{\n" + o.keys.sorted().map { inner + JSON.quote($0) + ": " + o[$0]!.rendered(indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + pad + "}"
        }
    }

    /// Integers without a decimal point; other numbers rounded to 10 significant digits (enough
    /// for any metric, and free of last-digit noise in diffs); NaN and infinity as null.
    static func format(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        let magnitude = x == 0 ? 0 : Int((abs(x)).log10Floor)
        let scale = pow10(9 - magnitude)
        let rounded = (x * scale).rounded() / scale
        return "\(rounded)"
    }

    static func pow10(_ n: Int) -> Double {
        var r = 1.0
        if n >= 0 { for _ in 0..<n { r *= 10 } } else { for _ in 0..<(-n) { r /= 10 } }
        return r
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16) }
                else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}

extension Double {
    var log10Floor: Double {
        var e = 0.0
        var v = self
        if v >= 1 { while v >= 10 { v /= 10; e += 1 } } else { while v < 1 { v *= 10; e -= 1 } }
        return e
    }
}
