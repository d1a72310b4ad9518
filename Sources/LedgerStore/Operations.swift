import Foundation
import Ledger

/// The scripting contract of `burnrate ledger apply`: one JSON object per line in, one per line
/// out. Names (pools, identities) are resolved against the ledger when the command is applied;
/// amounts are decimal credits, exact to the micro-credit; durations carry a unit.
public struct LedgerOperation: Sendable {
    public var op: String
    public var key: String?
    /// Builds the ledger commands of this operation from the current state (nil with a reason
    /// when a name does not resolve).
    let build: @Sendable (Ledger, Int64) -> Result<[Request], OperationError>

    public struct OperationError: Error, Sendable { public var message: String }

    /// Parses one line. Throws a message for malformed input.
    public static func parse(_ line: String) throws(OperationError) -> LedgerOperation {
        guard let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data), let o = object as? [String: Any]
        else { throw OperationError(message: "not a JSON object") }
        func string(_ k: String) throws(OperationError) -> String {
            guard let v = o[k] as? String, !v.isEmpty else { throw OperationError(message: "'\(k)' is required (a string)") }
            return v
        }
        func amount(_ k: String) throws(OperationError) -> Int64 {
            let text: String
            if let s = o[k] as? String { text = s } else if let n = o[k] as? NSNumber { text = n.stringValue } else {
                throw OperationError(message: "'\(k)' is required (decimal credits, e.g. \"0.25\")")
            }
            guard let v = Money.parseCredits(text) else { throw OperationError(message: "'\(k)' is not an exact amount of credits: \(text)") }
            guard v >= 0 else { throw OperationError(message: "'\(k)' must not be negative: \(text)") }
            return v
        }
        func duration(_ k: String) throws(OperationError) -> Int64? {
            guard let text = o[k] as? String else { return nil }
            guard let ms = Millis.parse(text) else { throw OperationError(message: "'\(k)' is a duration such as 5m, got \(text)") }
            return ms
        }
        guard let op = o["op"] as? String else { throw OperationError(message: "'op' is required") }
        let key = o["key"] as? String
        let mutating = ["entitle", "fund", "debit", "authorize", "capture", "release"]
        if mutating.contains(op) && key == nil { throw OperationError(message: "'\(op)' needs an idempotency 'key'") }
        let tier = (o["tier"] as? Int) ?? 0
        switch op {
        case "create_pool":
            let name = try string("pool")
            let parent = o["parent"] as? String
            return LedgerOperation(op: op, key: key) { l, t in
                var spec = PoolSpec(name: name)
                if let parent { switch Self.poolID(l, parent) { case .success(let p): spec.parent = p; case .failure(let e): return .failure(e) } }
                return .success([Request(atMs: t, key: key, .createPool(spec))])
            }
        case "create_identity":
            let name = try string("identity")
            let pools = (o["pools"] as? [String]) ?? []
            return LedgerOperation(op: op, key: key) { l, t in
                // The identity gets the next dense id; its entitlements go in the same transaction.
                let id = IdentityID(Int32(l.identityCount))
                var requests = [Request(atMs: t, key: key, .createIdentity(IdentitySpec(name: name)))]
                for p in pools {
                    switch Self.poolID(l, p) {
                    case .success(let pool): requests.append(Request(atMs: t, .entitle(identity: id, pool: pool, Entitlement())))
                    case .failure(let e): return .failure(e)
                    }
                }
                return .success(requests)
            }
        case "entitle":
            // Replaces the identity's entitlement on the pool: tiers it may use, a spend cap per
            // period, a rate cap.
            let who = try string("identity"), pool = try string("pool")
            var e = Entitlement()
            if let tiers = o["tiers"] {
                guard let list = tiers as? [Int], list.allSatisfy({ $0 >= 0 && $0 < 64 }) else {
                    throw OperationError(message: "'tiers' is a list of tier numbers 0-63")
                }
                e.allowedTiers = Entitlement.tiers(list).allowedTiers
            }
            if o["cap"] != nil {
                e.capPerPeriodMicrocredits = try amount("cap")
                e.capPeriodMs = try duration("cap_period") ?? Millis.day
                guard e.capPeriodMs > 0 else { throw OperationError(message: "'cap_period' must be positive") }
            }
            if let r = o["rate_max"] {
                guard let n = r as? Int, n > 0 else { throw OperationError(message: "'rate_max' is a positive number of draws") }
                e.rateMaxDraws = n
                e.rateWindowMs = try duration("rate_window") ?? Millis.minute
                guard e.rateWindowMs > 0 else { throw OperationError(message: "'rate_window' must be positive") }
            }
            let entitlement = e
            return LedgerOperation(op: op, key: key) { l, t in
                Self.identityID(l, who).flatMap { i in
                    Self.poolID(l, pool).map { p in [Request(atMs: t, key: key, .entitle(identity: i, pool: p, entitlement))] }
                }
            }
        case "fund":
            let pool = try string("pool"), value = try amount("amount"), expiresIn = try duration("expires_in")
            guard value > 0 else { throw OperationError(message: "'amount' must be positive") }
            return LedgerOperation(op: op, key: key) { l, t in
                Self.poolID(l, pool).map { [Request(atMs: t, key: key, .fund(pool: $0, GrantSpec(amountMicrocredits: value, expiresAtMs: expiresIn.map { t + $0 })))] }
            }
        case "debit", "authorize":
            let who = try string("identity"), pool = try string("pool"), value = try amount("amount")
            let expiresIn = try duration("expires_in") ?? 5 * Millis.minute
            return LedgerOperation(op: op, key: key) { l, t in
                Self.identityID(l, who).flatMap { i in
                    Self.poolID(l, pool).map { p in
                        [Request(atMs: t, key: key, op == "debit"
                                 ? .debit(identity: i, pool: p, tier: tier, amountMicrocredits: value)
                                 : .authorize(identity: i, pool: p, tier: tier, amountMicrocredits: value, expiresAtMs: t + expiresIn))]
                    }
                }
            }
        case "capture", "release":
            let holdText = try string("hold")
            guard let raw = Int64(holdText), let hold = HoldID(raw: raw) else { throw OperationError(message: "'hold' is a hold id from an authorize answer") }
            let value = op == "capture" ? try amount("amount") : 0
            return LedgerOperation(op: op, key: key) { _, t in
                .success([Request(atMs: t, key: key, op == "capture" ? .capture(hold: hold, amountMicrocredits: value) : .release(hold: hold))])
            }
        default:
            throw OperationError(message: "unknown op '\(op)'; expected create_pool, create_identity, entitle, fund, debit, authorize, capture, release")
        }
    }

    static func poolID(_ l: Ledger, _ name: String) -> Result<PoolID, OperationError> {
        l.pool(named: name).map { .success($0) } ?? .failure(OperationError(message: "no pool '\(name)'"))
    }

    static func identityID(_ l: Ledger, _ name: String) -> Result<IdentityID, OperationError> {
        l.identity(named: name).map { .success($0) } ?? .failure(OperationError(message: "no identity '\(name)'"))
    }

    /// The answer line for this operation's outcomes (the last one decides; an entitlement that
    /// follows a create_identity is part of it).
    public func answer(_ outcomes: [Outcome]) -> String {
        var o: [String: Any] = ["op": op]
        if let key { o["key"] = key }
        if let refused = outcomes.first(where: { !$0.isAccepted }), let r = refused.refusal {
            o["status"] = "refused"
            o["reason"] = r.code
            if case .insufficientFunds(let available) = r { o["available_credits"] = Money.formatCredits(available) }
        } else if let a = outcomes.first?.acceptance {
            o["status"] = "accepted"
            o["seq"] = a.seq
            if let hold = a.hold { o["hold"] = String(hold.raw) }
            if a.chargedMicrocredits > 0 { o["charged_credits"] = Money.formatCredits(a.chargedMicrocredits) }
        }
        return Self.json(o)
    }

    public static func json(_ o: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension LedgerStore {
    /// Applies an operation durably at wall-clock time `nowMs` (never before the ledger's clock).
    public func apply(_ operation: LedgerOperation, nowMs: Int64) async throws -> Result<[Outcome], LedgerOperation.OperationError> {
        let failure = OperationBox()
        let outcomes = try await submit { ledger in
            let t = max(nowMs, ledger.nowMs)
            switch operation.build(ledger, t) {
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
