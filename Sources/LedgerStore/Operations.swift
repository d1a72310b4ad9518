import Foundation
import Ledger

/// The scripting contract of `burnrate ledger apply` and of the journal interchange format: one
/// JSON object per line. Names (pools, identities) are resolved against the ledger when the
/// command is applied; amounts are decimal credits, exact to the micro-credit; durations carry a
/// unit. Input is decoded strictly (``StrictJSON``, ``OperationFields``): known fields only, exact
/// types, no duplicates; a bad line is an error that names the field and changes nothing.
public struct LedgerOperation: Sendable {
    public var op: String
    public var key: String?
    /// The fingerprint of the request as sent (see ``Request/fingerprint``): a retry that spells
    /// the same request, relative times included, is recognised as the same request.
    public var fingerprint: UInt64
    /// In an imported history: the command's time, its sequence number and its answer, when given.
    public var atMs: Int64?
    public var seq: UInt64?
    public var expectedAnswer: [JSONField]?
    let body: Body

    public struct OperationError: Error, Sendable, CustomStringConvertible {
        public var message: String
        /// The field at fault, when one is.
        public var field: String?
        public init(message: String, field: String? = nil) {
            self.message = message
            self.field = field
        }
        public var description: String { message }
    }

    /// Where a line comes from: `apply` (the ledger's clock is the wall clock; `at`, `seq` and
    /// `answer` are unknown fields) or an imported history (`at` required, `seq` and `answer`
    /// optional, keys optional).
    public enum Mode: Sendable { case apply, history }

    enum Body: Sendable {
        case createPool(name: String, parent: String?, policies: [Policy], periodMs: Int64, refill: Refill?, environment: String?)
        case createIdentity(name: String, pools: [String], stop: StopCondition?, environment: String?)
        case entitle(identity: String, pool: String, Entitlement)
        case setStatus(identity: String, IdentityStatus)
        case fund(pool: String, amount: Int64, expiresInMs: Int64?, effectiveInMs: Int64?, priority: Int32,
                  category: GrantCategory, priceMicrocreditsPerCredit: Int64)
        case debit(identity: String, pool: String, amount: Int64, tier: Int)
        case authorize(identity: String, pool: String, amount: Int64, tier: Int, expiresInMs: Int64)
        /// The identity is required from `apply`; a history written before captures named it may
        /// leave it out.
        case capture(identity: String?, hold: HoldID, amount: Int64)
        case release(identity: String?, hold: HoldID)
        case transfer(from: String, to: String, amount: Int64)
        case adjust(pool: String, amount: Int64, against: AdjustmentAccount, memo: String)
        case advanceTime
        /// From a pool (a root delegation) or from a delegation the identity holds.
        case delegate(identity: String, child: String, pool: String?, delegation: DelegationID?, amount: Int64, expiresInMs: Int64?)
        /// Without an identity: an admin's close.
        case closeDelegation(identity: String?, delegation: DelegationID)
        case delegatedDebit(identity: String, delegation: DelegationID, amount: Int64, tier: Int)
        case delegatedAuthorize(identity: String, delegation: DelegationID, amount: Int64, tier: Int, expiresInMs: Int64)
        case delegatedCapture(identity: String?, delegation: DelegationID, hold: HoldID, amount: Int64)
    }

    /// The ops, in the order the help lists them.
    public static let ops = ["create_pool", "create_identity", "entitle", "suspend", "resume", "revoke", "fund", "debit",
                             "authorize", "capture", "release", "transfer", "adjust", "advance_time", "delegate", "close_delegation"]
    /// Ops that change balances or rights: a retry must be recognisable, so they carry a key.
    static let keyed: Set<String> = ["entitle", "suspend", "resume", "revoke", "fund", "debit", "authorize", "capture",
                                     "release", "transfer", "adjust", "delegate", "close_delegation"]
    /// The longest line `apply` and `import` read (bytes); a longer one is an error.
    public static let maxLineBytes = 65_536
    /// The longest idempotency key, in UTF-8 bytes.
    public static let maxKeyBytes = 255
    /// The default lifetime of a hold.
    public static let defaultHoldMs = 5 * Millis.minute

    /// Parses one line. Throws an error naming the field for malformed input.
    public static func parse(_ line: String, mode: Mode = .apply) throws(OperationError) -> LedgerOperation {
        guard line.utf8.count <= maxLineBytes else { throw OperationError(message: "line longer than \(maxLineBytes) bytes") }
        let value: JSONValue
        do { value = try StrictJSON.parse(line) } catch {
            throw OperationError(message: "not valid JSON: \(error)", field: error.field)
        }
        guard case .object(let object) = value else { throw OperationError(message: "expected a JSON object, got \(value.kind)") }
        return try parse(object: object, mode: mode)
    }

    /// An operation from the fields of a JSON object already parsed (the service's request body
    /// with the fields its route adds), by the rules of ``parse(_:mode:)``; a field given twice is
    /// an error, as it is in a line.
    public static func parse(object: [JSONField], mode: Mode = .apply) throws(OperationError) -> LedgerOperation {
        var seen = Set<String>()
        for field in object where !seen.insert(field.key).inserted {
            throw OperationError(message: "duplicate field '\(OperationFields.printable(field.key))'", field: field.key)
        }
        guard let opField = object.first(where: { $0.key == "op" }) else { throw OperationError(message: "'op' is required", field: "op") }
        guard case .string(let op) = opField.value, ops.contains(op) else {
            throw OperationError(message: "'op': unknown op \(StrictJSON.serialise(opField.value).prefix(40)); expected one of \(ops.joined(separator: ", "))",
                                 field: "op")
        }
        var f = OperationFields(op: op, object, framing: Set(["op", "key"] + (mode == .history ? ["at", "seq", "answer"] : [])))
        let key = try parseKey(object)
        if mode == .apply, keyed.contains(op), key == nil {
            throw OperationError(message: "'\(op)' needs an idempotency 'key'", field: "key")
        }
        let body = try parseBody(op, &f, mode: mode)
        try f.finish()
        var operation = LedgerOperation(op: op, key: key, fingerprint: f.fingerprint, body: body)
        if mode == .history { try operation.readHistory(object) }
        return operation
    }

    /// Checks an idempotency key given outside a line (the service's `Idempotency-Key` header) by
    /// the rules of the line's `key`.
    public static func checkKey(_ key: String) throws(OperationError) {
        _ = try parseKey([JSONField("key", .string(key))])
    }

    static func parseKey(_ object: [JSONField]) throws(OperationError) -> String? {
        guard let v = object.first(where: { $0.key == "key" })?.value, v != .null else { return nil }
        guard case .string(let key) = v else { throw OperationError(message: "'key': expected a string, got \(v.kind)", field: "key") }
        guard !key.isEmpty, key.utf8.count <= maxKeyBytes else {
            throw OperationError(message: "'key': an idempotency key is 1–\(maxKeyBytes) bytes", field: "key")
        }
        guard !key.unicodeScalars.contains(where: Self.isInvisibleControl) else {
            throw OperationError(message: "'key': control characters, bidirectional controls and line separators are not allowed in a key",
                                 field: "key")
        }
        return key
    }

    /// C0, DEL, C1, zero-width and bidirectional controls, line and paragraph separators: what
    /// would rearrange, hide or break the line a key is printed on.
    static func isInvisibleControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<0x20, 0x7f...0x9f, 0x200b...0x200f, 0x2028...0x202e, 0x2060...0x2069, 0xfeff: true
        default: false
        }
    }

    mutating func readHistory(_ object: [JSONField]) throws(OperationError) {
        guard let at = object.first(where: { $0.key == "at" })?.value else {
            throw OperationError(message: "'at' is required in a history (ISO 8601 UTC, e.g. 2026-03-02T09:15:00.250Z)", field: "at")
        }
        guard case .string(let text) = at, let ms = Timestamp.parse(text) else {
            throw OperationError(message: "'at': expected an ISO 8601 UTC time such as 2026-03-02T09:15:00.250Z", field: "at")
        }
        atMs = ms
        if let s = object.first(where: { $0.key == "seq" })?.value {
            guard case .number(let text) = s, let n = UInt64(text), n > 0 else {
                throw OperationError(message: "'seq': expected a positive whole number", field: "seq")
            }
            seq = n
        }
        if let a = object.first(where: { $0.key == "answer" })?.value {
            guard case .object(let fields) = a else { throw OperationError(message: "'answer': expected an object", field: "answer") }
            expectedAnswer = fields
        }
    }

    static func parseBody(_ op: String, _ f: inout OperationFields, mode: Mode) throws(OperationError) -> Body {
        switch op {
        case "create_pool":
            let name = try f.requiredName("pool")
            let parent = try f.name("parent")
            let policies = try PolicyCoding.policies(&f)
            let period = try f.duration("period") ?? 30 * Millis.day
            f.noteDefault("period", String(period))
            guard period > 0 else { throw f.error("period", "must be positive") }
            let refill = try PolicyCoding.refill(&f)
            // Absent: no canonical field is noted, so a line without it keeps its fingerprint.
            let environment = try f.name("environment")
            return .createPool(name: name, parent: parent, policies: policies, periodMs: period, refill: refill, environment: environment)
        case "create_identity":
            let name = try f.requiredName("identity")
            let pools = try f.names("pools")
            let stop = try PolicyCoding.stop(&f)
            let environment = try f.name("environment")
            return .createIdentity(name: name, pools: pools, stop: stop, environment: environment)
        case "entitle":
            // Replaces the identity's entitlement on the pool: tiers it may use, a spend cap per
            // period, a rate cap.
            let who = try f.requiredName("identity"), pool = try f.requiredName("pool")
            return .entitle(identity: who, pool: pool, try PolicyCoding.entitlement(&f))
        case "suspend", "resume", "revoke":
            let who = try f.requiredName("identity")
            return .setStatus(identity: who, op == "suspend" ? .suspended : op == "resume" ? .active : .revoked)
        case "fund":
            let pool = try f.requiredName("pool"), value = try f.requiredAmount("amount")
            guard value > 0 else { throw f.error("amount", "must be positive") }
            let expiresIn = try f.duration("expires_in"), effectiveIn = try f.duration("effective_in")
            f.noteDefault("effective_in", "0")  // omitted: effective at once, as "0s" says
            let priority = try f.integer("priority", in: Int64(Int32.min)...Int64(Int32.max)) ?? 0
            f.noteDefault("priority", String(priority))
            let categoryText = try f.string("category") ?? "paid"
            f.noteDefault("category", categoryText)
            guard let category = GrantCategory(rawValue: categoryText) else {
                throw f.error("category", "expected paid, promotional or rollover, got '\(OperationFields.printable(categoryText))'")
            }
            let price = try f.amount("price") ?? Money.microcreditsPerCredit
            f.noteDefault("price", String(price))
            return .fund(pool: pool, amount: value, expiresInMs: expiresIn, effectiveInMs: effectiveIn, priority: Int32(priority),
                         category: category, priceMicrocreditsPerCredit: price)
        case "debit", "authorize":
            // Against a delegation (`"delegation": ID` instead of `"pool"`), or against a pool.
            if f.has("delegation") {
                if f.has("pool") { throw f.error("pool", "give either 'pool' or 'delegation', not both") }
                let who = try f.requiredName("identity"), delegation = try f.requiredDelegation("delegation")
                let value = try f.requiredAmount("amount")
                guard value > 0 else { throw f.error("amount", "must be positive") }
                let tier = Int(try f.integer("tier", in: 0...63) ?? 0)
                f.noteDefault("tier", String(tier))
                if op == "debit" { return .delegatedDebit(identity: who, delegation: delegation, amount: value, tier: tier) }
                let expiresIn = try f.duration("expires_in") ?? defaultHoldMs
                f.noteDefault("expires_in", String(expiresIn))
                return .delegatedAuthorize(identity: who, delegation: delegation, amount: value, tier: tier, expiresInMs: expiresIn)
            }
            let who = try f.requiredName("identity"), pool = try f.requiredName("pool"), value = try f.requiredAmount("amount")
            // As for fund: a zero amount is bad input, refused before the ledger (which would journal its refusal).
            guard value > 0 else { throw f.error("amount", "must be positive") }
            let tier = Int(try f.integer("tier", in: 0...63) ?? 0)
            f.noteDefault("tier", String(tier))
            if op == "debit" { return .debit(identity: who, pool: pool, amount: value, tier: tier) }
            let expiresIn = try f.duration("expires_in") ?? defaultHoldMs
            f.noteDefault("expires_in", String(expiresIn))
            return .authorize(identity: who, pool: pool, amount: value, tier: tier, expiresInMs: expiresIn)
        case "capture", "release":
            let who = mode == .history ? try f.name("identity") : try f.requiredName("identity")
            let holdText = try f.requiredString("hold")
            guard holdText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let raw = Int64(holdText), let hold = HoldID(raw: raw) else {
                throw f.error("hold", "expected a hold id from an authorize answer, got '\(OperationFields.printable(holdText))'")
            }
            f.replaceCanonical("hold", String(raw))  // "00" is hold 0, the same request as "0"
            if op == "release" { return .release(identity: who, hold: hold) }
            // A capture may name the delegation its hold was placed through (checked by the ledger).
            if let delegation = try f.delegation("delegation") {
                return .delegatedCapture(identity: who, delegation: delegation, hold: hold, amount: try f.requiredAmount("amount"))
            }
            return .capture(identity: who, hold: hold, amount: try f.requiredAmount("amount"))
        case "delegate":
            // From a pool (a root delegation, held on it) or from a delegation the identity holds.
            let who = try f.requiredName("identity"), child = try f.requiredName("child")
            let pool = try f.name("pool"), delegation = try f.delegation("delegation")
            guard (pool == nil) != (delegation == nil) else {
                throw f.error(pool == nil ? "pool" : "delegation", "give either 'pool' (a root delegation) or 'delegation' (a sub-delegation)")
            }
            let value = try f.requiredAmount("amount")
            guard value > 0 else { throw f.error("amount", "must be positive") }
            let expiresIn = try f.duration("expires_in")
            if let expiresIn, expiresIn <= 0 { throw f.error("expires_in", "must be positive") }
            return .delegate(identity: who, child: child, pool: pool, delegation: delegation, amount: value, expiresInMs: expiresIn)
        case "close_delegation":
            let who = try f.name("identity")
            return .closeDelegation(identity: who, delegation: try f.requiredDelegation("delegation"))
        case "transfer":
            let from = try f.requiredName("from"), to = try f.requiredName("to"), value = try f.requiredAmount("amount")
            return .transfer(from: from, to: to, amount: value)
        case "adjust":
            let pool = try f.requiredName("pool"), value = try f.requiredAmount("amount", allowNegative: true)
            let againstText = try f.requiredString("against")
            guard let against = AdjustmentAccount(rawValue: againstText) else {
                throw f.error("against", "expected funding or usage, got '\(OperationFields.printable(againstText))'")
            }
            let memo = try f.string("memo") ?? ""
            f.noteDefault("memo", memo)
            guard memo.utf8.count <= 1_000 else { throw f.error("memo", "at most 1000 bytes") }
            return .adjust(pool: pool, amount: value, against: against, memo: memo)
        default:  // advance_time
            return .advanceTime
        }
    }

    // MARK: Resolving names

    static func poolID(_ l: Ledger, _ name: String, field: String = "pool") -> Result<PoolID, OperationError> {
        l.pool(named: name).map { .success($0) } ?? .failure(OperationError(message: "'\(field)': no pool '\(name)'", field: field))
    }

    static func identityID(_ l: Ledger, _ name: String) -> Result<IdentityID, OperationError> {
        l.identity(named: name).map { .success($0) } ?? .failure(OperationError(message: "'identity': no identity '\(name)'", field: "identity"))
    }

    /// The ledger commands of this operation at time `t`, names resolved against `l`.
    public func requests(in l: Ledger, at t: Int64) -> Result<[Request], OperationError> {
        func one(_ c: Command) -> Result<[Request], OperationError> { .success([Request(atMs: t, key: key, fingerprint: fingerprint, c)]) }
        func pool(_ n: String, field: String = "pool") -> Result<PoolID, OperationError> { Self.poolID(l, n, field: field) }
        func identity(_ n: String) -> Result<IdentityID, OperationError> { Self.identityID(l, n) }
        switch body {
        case .createPool(let name, let parent, let policies, let periodMs, let refill, let environment):
            var spec = PoolSpec(name: name, policies: policies, periodMs: periodMs, refill: refill, environment: environment)
            if let parent {
                switch pool(parent, field: "parent") { case .success(let p): spec.parent = p; case .failure(let e): return .failure(e) }
            }
            return one(.createPool(spec))
        case .createIdentity(let name, let pools, let stop, let environment):
            // The identity gets the next dense id; its entitlements go in the same transaction.
            let id = IdentityID(Int32(l.identityCount))
            let spec = IdentitySpec(name: name, stopCondition: stop, environment: environment)
            var requests = [Request(atMs: t, key: key, fingerprint: fingerprint, .createIdentity(spec))]
            // An identity of that name exists: this is a retry (answered from its key's memory) or a
            // duplicate (refused). Either way the first made its entitlements; entitling "the next
            // id" again would refuse the retry with unknown_identity.
            if l.identity(named: name) != nil { return .success(requests) }
            for p in pools {
                switch pool(p, field: "pools") {
                case .success(let pool): requests.append(Request(atMs: t, .entitle(identity: id, pool: pool, Entitlement())))
                case .failure(let e): return .failure(e)
                }
            }
            return .success(requests)
        case .entitle(let who, let p, let e):
            return identity(who).flatMap { i in pool(p).flatMap { one(.entitle(identity: i, pool: $0, e)) } }
        case .setStatus(let who, let status):
            return identity(who).flatMap { one(.setIdentityStatus(identity: $0, status)) }
        case .fund(let p, let amount, let expiresIn, let effectiveIn, let priority, let category, let price):
            let spec = GrantSpec(amountMicrocredits: amount, effectiveAtMs: effectiveIn.map { t &+ $0 },
                                 expiresAtMs: expiresIn.map { t &+ $0 }, priority: priority, category: category,
                                 priceMicrocreditsPerCredit: price)
            return pool(p).flatMap { one(.fund(pool: $0, spec)) }
        case .debit(let who, let p, let amount, let tier):
            return identity(who).flatMap { i in pool(p).flatMap { one(.debit(identity: i, pool: $0, tier: tier, amountMicrocredits: amount)) } }
        case .authorize(let who, let p, let amount, let tier, let expiresIn):
            guard let expiresAt = Money.add(t, expiresIn) else { return .failure(OperationError(message: "'expires_in' is too far in the future", field: "expires_in")) }
            return identity(who).flatMap { i in
                pool(p).flatMap { one(.authorize(identity: i, pool: $0, tier: tier, amountMicrocredits: amount, expiresAtMs: expiresAt)) }
            }
        case .capture(let who, let hold, let amount):
            guard let who else { return one(.capture(hold: hold, amountMicrocredits: amount)) }
            return identity(who).flatMap { one(.capture(hold: hold, amountMicrocredits: amount, identity: $0)) }
        case .release(let who, let hold):
            guard let who else { return one(.release(hold: hold)) }
            return identity(who).flatMap { one(.release(hold: hold, identity: $0)) }
        case .transfer(let from, let to, let amount):
            return pool(from, field: "from").flatMap { f in pool(to, field: "to").flatMap { one(.transfer(from: f, to: $0, amountMicrocredits: amount)) } }
        case .adjust(let p, let amount, let against, let memo):
            return pool(p).flatMap { one(.adjust(pool: $0, amountMicrocredits: amount, against: against, memo: memo)) }
        case .advanceTime:
            return one(.advanceTime)
        case .delegate(let who, let child, let p, let delegation, let amount, let expiresIn):
            var expiresAt: Int64?
            if let expiresIn {
                guard let e = Money.add(t, expiresIn) else { return .failure(OperationError(message: "'expires_in' is too far in the future", field: "expires_in")) }
                expiresAt = e
            }
            return identity(who).flatMap { i in
                let source: Result<DelegationSource, OperationError> = delegation.map { .success(.delegation($0)) } ?? pool(p!).map { .pool($0) }
                return source.flatMap { one(.delegate(identity: i, child: child, from: $0, amountMicrocredits: amount, expiresAtMs: expiresAt)) }
            }
        case .closeDelegation(let who, let delegation):
            guard let who else { return one(.closeDelegation(delegation, identity: nil)) }
            return identity(who).flatMap { one(.closeDelegation(delegation, identity: $0)) }
        case .delegatedDebit(let who, let delegation, let amount, let tier):
            return identity(who).flatMap { one(.delegatedDebit(delegation: delegation, identity: $0, tier: tier, amountMicrocredits: amount)) }
        case .delegatedAuthorize(let who, let delegation, let amount, let tier, let expiresIn):
            guard let expiresAt = Money.add(t, expiresIn) else { return .failure(OperationError(message: "'expires_in' is too far in the future", field: "expires_in")) }
            return identity(who).flatMap {
                one(.delegatedAuthorize(delegation: delegation, identity: $0, tier: tier, amountMicrocredits: amount, expiresAtMs: expiresAt))
            }
        case .delegatedCapture(let who, let delegation, let hold, let amount):
            guard let who else { return one(.delegatedCapture(delegation: delegation, hold: hold, amountMicrocredits: amount, identity: nil)) }
            return identity(who).flatMap { one(.delegatedCapture(delegation: delegation, hold: hold, amountMicrocredits: amount, identity: $0)) }
        }
    }

    // MARK: Answers

    /// What an outcome says, without the op, key and sequence number: `status`, and `reason`,
    /// `available_credits`, `hold`, `charged_credits` where they apply (the `answer` of the
    /// interchange format).
    public static func answerFields(_ outcomes: [Outcome]) -> [JSONField] {
        var o: [JSONField] = []
        if let refused = outcomes.first(where: { !$0.isAccepted }), let r = refused.refusal {
            o.append(JSONField("status", .string("refused")))
            o.append(JSONField("reason", .string(r.code)))
            if case .insufficientFunds(let available) = r { o.append(JSONField("available_credits", .string(Money.formatCredits(available)))) }
        } else if let a = outcomes.first?.acceptance {
            o.append(JSONField("status", .string("accepted")))
            if let hold = a.hold { o.append(JSONField("hold", .string(String(hold.raw)))) }
            if let d = a.delegation {
                o.append(JSONField("delegation", .number(String(d.raw))))
                // What went back: to the pool on a close, to the delegation on a capture below its hold.
                if a.releasedMicrocredits > 0 { o.append(JSONField("released_credits", .string(Money.formatCredits(a.releasedMicrocredits)))) }
            }
            if a.chargedMicrocredits > 0 { o.append(JSONField("charged_credits", .string(Money.formatCredits(a.chargedMicrocredits)))) }
        }
        return o.sorted { $0.key < $1.key }
    }

    /// The answer line for this operation's outcomes (the first refusal decides; an entitlement
    /// that follows a create_identity is part of it).
    public func answer(_ outcomes: [Outcome]) -> String {
        var o = Self.answerFields(outcomes)
        o.append(JSONField("op", .string(op)))
        if let key { o.append(JSONField("key", .string(key))) }
        if let a = outcomes.first?.acceptance, outcomes.allSatisfy(\.isAccepted) { o.append(JSONField("seq", .number(String(a.seq)))) }
        return StrictJSON.serialise(.object(o.sorted { $0.key < $1.key }))
    }

    /// An error line: `{"status":"error","line":N,"field":…,"message":…}`.
    public static func errorLine(line: Int, _ error: OperationError, reason: String? = nil) -> String {
        var o = [JSONField("status", .string("error")), JSONField("line", .number(String(line))),
                 JSONField("message", .string(error.message))]
        if let field = error.field { o.append(JSONField("field", .string(field))) }
        if let reason { o.append(JSONField("reason", .string(reason))) }
        return StrictJSON.serialise(.object(o.sorted { $0.key < $1.key }))
    }

    /// A flat JSON object of strings, numbers and lists, keys sorted (for the CLI's one-shot commands).
    public static func json(_ o: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension DurableLedger {
    /// Applies an operation durably at wall-clock time `nowMs` (never before the ledger's clock),
    /// or, for a history line, at its own time (which must not be before the ledger's clock).
    public func apply(_ operation: LedgerOperation, nowMs: Int64) async throws -> Result<[Outcome], LedgerOperation.OperationError> {
        let failure = OperationBox()
        let outcomes = try await submit { ledger in
            let t: Int64
            if let at = operation.atMs {
                guard at >= ledger.nowMs else {
                    failure.set(LedgerOperation.OperationError(message: "'at' is earlier than the command before it (times must not decrease)", field: "at"))
                    return []
                }
                t = at
            } else {
                t = max(nowMs, ledger.nowMs)
            }
            switch operation.requests(in: ledger, at: t) {
            case .success(let requests): return requests
            case .failure(let e): failure.set(e); return []
            }
        }
        if let e = failure.get() { return .failure(e) }
        return .success(outcomes)
    }
}

/// Carries a name-resolution failure out of the builder closure.
final class OperationBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: LedgerOperation.OperationError?
    func set(_ e: LedgerOperation.OperationError) { lock.lock(); error = e; lock.unlock() }
    func get() -> LedgerOperation.OperationError? { lock.lock(); defer { lock.unlock() }; return error }
}
