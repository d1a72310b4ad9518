import Ledger

/// The journal interchange format (`ledger export` / `ledger import`): JSON lines in the
/// vocabulary of `ledger apply`, each with its time (`at`), its sequence number (`seq`) and, on
/// export, its answer. A first header line names the format version:
///
/// ```json
/// {"format":"burnrate.journal/1"}
/// {"seq":5,"at":"2026-03-02T09:15:00.250Z","op":"debit","key":"req-2","identity":"coding-agent","pool":"eng","amount":"1.5","answer":{"status":"accepted","charged_credits":"1.5"}}
/// ```
///
/// Relative times are written relative to `at` (`expires_in`), so that importing a line and
/// sending the same line to `apply` make the same request.
public enum JournalInterchange {
    public static let format = "burnrate.journal/1"

    public static var header: String { StrictJSON.serialise(.object([JSONField("format", .string(format))])) }

    /// Whether `line` is a header line; throws when it names another format.
    public static func isHeader(_ line: String) throws(LedgerOperation.OperationError) -> Bool {
        guard case .object(let fields)? = try? StrictJSON.parse(line), let f = fields.first(where: { $0.key == "format" }) else { return false }
        guard f.value == .string(format) else {
            throw LedgerOperation.OperationError(message: "unsupported format \(StrictJSON.serialise(f.value).prefix(60)); this version reads \(format)",
                                                 field: "format")
        }
        guard fields.count == 1 else {
            throw LedgerOperation.OperationError(message: "a header line holds only \"format\"", field: fields.first { $0.key != "format" }?.key)
        }
        return true
    }

    /// The line of one journal record. `ledger` is the state right after the record was applied
    /// (names are resolved from it: a name, once given, never changes).
    public static func line(for record: JournalRecord, ledger: Ledger) -> String {
        let r = record.request
        var o: [JSONField] = [JSONField("seq", .number(String(record.seq))), JSONField("at", .string(Timestamp.format(r.atMs)))]
        if let key = r.key { o.append(JSONField("key", .string(key))) }
        func pool(_ p: PoolID) -> JSONValue { .string(ledger.name(of: p) ?? "#\(p.index)") }
        func identity(_ i: IdentityID) -> JSONValue { .string(ledger.name(of: i) ?? "#\(i.index)") }
        func op(_ name: String) { o.append(JSONField("op", .string(name))) }
        func add(_ k: String, _ v: JSONValue) { o.append(JSONField(k, v)) }
        func relative(_ absolute: Int64) -> JSONValue { .string(Timestamp.duration(max(0, absolute &- r.atMs))) }
        switch r.command {
        case .createPool(let spec):
            op("create_pool")
            add("pool", .string(spec.name))
            if let parent = spec.parent { add("parent", pool(parent)) }
            if !spec.policies.isEmpty { add("policies", .array(spec.policies.map(PolicyCoding.json))) }
            add("period", .string(Timestamp.duration(spec.periodMs)))
            if let refill = spec.refill { add("refill", PolicyCoding.json(refill)) }
            if let e = spec.environment { add("environment", .string(e)) }
        case .createIdentity(let spec):
            op("create_identity")
            add("identity", .string(spec.name))
            if let stop = spec.stopCondition { add("stop", PolicyCoding.json(stop)) }
            if let e = spec.environment { add("environment", .string(e)) }
        case .entitle(let i, let p, let e):
            op("entitle")
            add("identity", identity(i))
            add("pool", pool(p))
            o += PolicyCoding.fields(e)
        case .setIdentityStatus(let i, let status):
            op(status == .active ? "resume" : status == .suspended ? "suspend" : "revoke")
            add("identity", identity(i))
        case .fund(let p, let spec):
            op("fund")
            add("pool", pool(p))
            add("amount", PolicyCoding.credits(spec.amountMicrocredits))
            if let e = spec.expiresAtMs { add("expires_in", relative(e)) }
            if let e = spec.effectiveAtMs { add("effective_in", relative(e)) }
            if spec.priority != 0 { add("priority", PolicyCoding.int(spec.priority)) }
            if spec.category != .paid { add("category", .string(spec.category.rawValue)) }
            if spec.priceMicrocreditsPerCredit != Money.microcreditsPerCredit { add("price", PolicyCoding.credits(spec.priceMicrocreditsPerCredit)) }
        case .debit(let i, let p, let tier, let amount):
            op("debit")
            add("identity", identity(i))
            add("pool", pool(p))
            add("amount", PolicyCoding.credits(amount))
            if tier != 0 { add("tier", PolicyCoding.int(tier)) }
        case .authorize(let i, let p, let tier, let amount, let expiresAt):
            op("authorize")
            add("identity", identity(i))
            add("pool", pool(p))
            add("amount", PolicyCoding.credits(amount))
            if tier != 0 { add("tier", PolicyCoding.int(tier)) }
            add("expires_in", relative(expiresAt))
        case .capture(let hold, let amount, let i):
            op("capture")
            if let i { add("identity", identity(i)) }
            add("hold", .string(String(hold.raw)))
            add("amount", PolicyCoding.credits(amount))
        case .release(let hold, let i):
            op("release")
            if let i { add("identity", identity(i)) }
            add("hold", .string(String(hold.raw)))
        case .transfer(let from, let to, let amount):
            op("transfer")
            add("from", pool(from))
            add("to", pool(to))
            add("amount", PolicyCoding.credits(amount))
        case .adjust(let p, let amount, let against, let memo):
            op("adjust")
            add("pool", pool(p))
            add("amount", PolicyCoding.credits(amount))
            add("against", .string(against.rawValue))
            if !memo.isEmpty { add("memo", .string(memo)) }
        case .advanceTime:
            op("advance_time")
        case .delegate(let i, let child, let source, let amount, let expiresAt):
            op("delegate")
            add("identity", identity(i))
            add("child", .string(child))
            switch source {
            case .pool(let p): add("pool", pool(p))
            case .delegation(let d): add("delegation", .number(String(d.raw)))
            }
            add("amount", PolicyCoding.credits(amount))
            if let e = expiresAt { add("expires_in", relative(e)) }
        case .closeDelegation(let d, let i):
            op("close_delegation")
            if let i { add("identity", identity(i)) }
            add("delegation", .number(String(d.raw)))
        case .delegatedDebit(let d, let i, let tier, let amount):
            op("debit")
            add("identity", identity(i))
            add("delegation", .number(String(d.raw)))
            add("amount", PolicyCoding.credits(amount))
            if tier != 0 { add("tier", PolicyCoding.int(tier)) }
        case .delegatedAuthorize(let d, let i, let tier, let amount, let expiresAt):
            op("authorize")
            add("identity", identity(i))
            add("delegation", .number(String(d.raw)))
            add("amount", PolicyCoding.credits(amount))
            if tier != 0 { add("tier", PolicyCoding.int(tier)) }
            add("expires_in", relative(expiresAt))
        case .delegatedCapture(let d, let hold, let amount, let i):
            op("capture")
            if let i { add("identity", identity(i)) }
            add("delegation", .number(String(d.raw)))
            add("hold", .string(String(hold.raw)))
            add("amount", PolicyCoding.credits(amount))
        }
        add("answer", .object(LedgerOperation.answerFields([record.outcome])))
        // `seq` and `at` first, then the operation, then its answer: a line reads as a sentence.
        let order = ["seq", "at", "op", "key"]
        let head = order.compactMap { k in o.first { $0.key == k } }
        let answer = o.filter { $0.key == "answer" }
        let rest = o.filter { !order.contains($0.key) && $0.key != "answer" }.sorted { $0.key < $1.key }
        return StrictJSON.serialise(.object(head + rest + answer))
    }
}
