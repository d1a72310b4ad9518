import Ledger

/// Reads the fields of one operation's JSON object strictly: each field at most once (the parser
/// refuses duplicates), of its exact type, and, at ``finish()``, no field the operation does not
/// know. Every value read is also written down in a canonical form (amounts in micro-credits,
/// durations in milliseconds, defaults filled in), from which the request's fingerprint is made:
/// two sends of the same request have the same fingerprint however they spell it.
struct OperationFields {
    let op: String
    private let fields: [JSONField]
    private var known: Set<String>
    private(set) var canonical: [(String, String)] = []

    init(op: String, _ fields: [JSONField], framing: Set<String>) {
        self.op = op
        self.fields = fields
        self.known = framing
    }

    func error(_ field: String, _ message: String) -> LedgerOperation.OperationError {
        LedgerOperation.OperationError(message: "'\(field)': \(message)", field: field)
    }

    /// The raw value of `name`, marking it known.
    mutating func raw(_ name: String) -> JSONValue? {
        known.insert(name)
        return fields.first { $0.key.utf8.elementsEqual(name.utf8) }?.value
    }

    private mutating func note(_ name: String, _ value: String) { canonical.append((name, value)) }

    /// Refuses fields the operation did not read: a typo (`expires` for `expires_in`) must not
    /// silently make a grant that never expires.
    func finish() throws(LedgerOperation.OperationError) {
        for f in fields where !known.contains(f.key) {
            throw LedgerOperation.OperationError(
                message: "unknown field '\(Self.printable(f.key))' for '\(op)' (known: \(known.sorted().joined(separator: ", ")))",
                field: f.key)
        }
    }

    static func printable(_ s: String) -> String {
        let t = StrictJSON.serialise(.string(String(s.prefix(64))))
        return String(t.dropFirst().dropLast())
    }

    // MARK: Typed readers

    mutating func string(_ name: String) throws(LedgerOperation.OperationError) -> String? {
        guard let v = raw(name), v != .null else { return nil }
        guard case .string(let s) = v else { throw error(name, "expected a string, got \(v.kind)") }
        note(name, s)
        return s
    }

    mutating func requiredString(_ name: String) throws(LedgerOperation.OperationError) -> String {
        guard let s = try string(name) else { throw error(name, "is required (a string)") }
        return s
    }

    /// A pool or identity name, under the ledger's one rule for names.
    mutating func name(_ name: String) throws(LedgerOperation.OperationError) -> String? {
        guard let s = try string(name) else { return nil }
        if let problem = LedgerName.problem(s) { throw error(name, "'\(Self.printable(s))' is not a valid name: \(problem)") }
        return s
    }

    mutating func requiredName(_ name: String) throws(LedgerOperation.OperationError) -> String {
        guard let s = try self.name(name) else { throw error(name, "is required (a name)") }
        return s
    }

    mutating func names(_ name: String) throws(LedgerOperation.OperationError) -> [String] {
        guard let v = raw(name), v != .null else { note(name, "[]"); return [] }
        guard case .array(let items) = v else { throw error(name, "expected a list of names, got \(v.kind)") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw error(name, "expected a list of names, found \(item.kind)") }
            if let problem = LedgerName.problem(s) { throw error(name, "'\(Self.printable(s))' is not a valid name: \(problem)") }
            out.append(s)
        }
        note(name, out.joined(separator: "\u{0}"))
        return out
    }

    /// Credits as a decimal string (`"0.25"`) or an exact JSON number (`0.25`), at most six
    /// decimals, no exponent, within `Int64` micro-credits.
    mutating func amount(_ name: String, allowNegative: Bool = false) throws(LedgerOperation.OperationError) -> Int64? {
        guard let v = raw(name), v != .null else { return nil }
        let text: String
        switch v {
        case .string(let s): text = s
        case .number(let n): text = n
        default: throw error(name, "expected credits as a decimal string such as \"0.25\", got \(v.kind)")
        }
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
              let micro = Money.parseCredits(text)
        else {
            throw error(name, "'\(Self.printable(text))' is not an exact amount of credits (decimal, at most 6 decimals, at most \(Money.formatCredits(.max)))")
        }
        if micro < 0 && !allowNegative { throw error(name, "must not be negative: \(text)") }
        note(name, String(micro))
        return micro
    }

    mutating func requiredAmount(_ name: String, allowNegative: Bool = false) throws(LedgerOperation.OperationError) -> Int64 {
        guard let a = try amount(name, allowNegative: allowNegative) else {
            throw error(name, "is required (credits as a decimal string, e.g. \"0.25\")")
        }
        return a
    }

    /// A duration with its unit (`"5m"`, `"1.5h"`); a bare number is refused, the unit is part
    /// of the value.
    mutating func duration(_ name: String) throws(LedgerOperation.OperationError) -> Int64? {
        guard let v = raw(name), v != .null else { return nil }
        guard case .string(let s) = v else {
            throw error(name, "expected a duration with its unit such as \"5m\", got \(v.kind)")
        }
        guard let ms = Millis.parse(s) else { throw error(name, "'\(Self.printable(s))' is not a duration such as 5m, 12h or 30d") }
        note(name, String(ms))
        return ms
    }

    /// Whether the object has field `name` (not null), without reading it.
    func has(_ name: String) -> Bool {
        guard let v = fields.first(where: { $0.key.utf8.elementsEqual(name.utf8) })?.value else { return false }
        return v != .null
    }

    /// A delegation id from a `delegate` answer: a whole JSON number (`3`) or its digits as a
    /// string (`"3"`), as hold ids are written.
    mutating func delegation(_ name: String) throws(LedgerOperation.OperationError) -> DelegationID? {
        guard let v = raw(name), v != .null else { return nil }
        let text: String
        switch v {
        case .number(let n): text = n
        case .string(let s): text = s
        default: throw error(name, "expected a delegation id from a delegate answer, got \(v.kind)")
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let raw = Int64(text), let id = DelegationID(raw: raw) else {
            throw error(name, "expected a delegation id from a delegate answer, got '\(Self.printable(text))'")
        }
        note(name, String(raw))
        return id
    }

    mutating func requiredDelegation(_ name: String) throws(LedgerOperation.OperationError) -> DelegationID {
        guard let d = try delegation(name) else { throw error(name, "is required (a delegation id)") }
        return d
    }

    /// An integer in `range`, as a JSON number without fraction or exponent.
    mutating func integer(_ name: String, in range: ClosedRange<Int64>) throws(LedgerOperation.OperationError) -> Int64? {
        guard let v = raw(name), v != .null else { return nil }
        guard case .number(let text) = v, let n = Int64(text) else {
            throw error(name, "expected a whole number in \(range.lowerBound)…\(range.upperBound), got \(v.kind == "a number" ? text(v) : v.kind)")
        }
        guard range.contains(n) else { throw error(name, "must be in \(range.lowerBound)…\(range.upperBound), got \(n)") }
        note(name, String(n))
        return n
    }

    private func text(_ v: JSONValue) -> String { if case .number(let n) = v { return n } else { return v.kind } }

    /// Writes down a default for a field the request left out, so that the fingerprint of a request
    /// that spells the default out equals that of one that leaves it.
    mutating func noteDefault(_ name: String, _ value: String) {
        if !canonical.contains(where: { $0.0 == name }) { note(name, value) }
    }

    /// Replaces a value already written down by its canonical form.
    mutating func replaceCanonical(_ name: String, _ value: String) {
        canonical.removeAll { $0.0 == name }
        note(name, value)
    }

    var fingerprint: UInt64 {
        var f = RequestFingerprint()
        f.add(op)
        for (k, v) in canonical.sorted(by: { $0.0 < $1.0 }) {
            f.add(k)
            f.add(v)
        }
        return f.value
    }
}
