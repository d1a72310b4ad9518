import Yams

/// A way to buy the scenario's usage (`plans:`, DESIGN.md "Buying plans"). Prices are in the
/// buyer's currency; amounts of usage in credits.
public struct Plan: Sendable, Hashable {
    public var id: String
    public var kind: Kind

    public enum Kind: Sendable, Hashable {
        /// Every credit used at this price.
        case payAsYouGo(pricePerCredit: Double)
        case prepaid(Prepaid)
        case licence(Licence)
        case commit(Commit)
    }

    /// Credit packs bought whole, each expiring `expiresMs` after purchase.
    public struct Prepaid: Sendable, Hashable {
        public var packCredits: Double
        /// The price of a pack; nil when `tiers` price it.
        public var packPrice: Double?
        /// Graduated volume pricing: a credit costs the price of the tier its rank among all credits
        /// bought so far falls in (tiers sorted by `fromCredits`, the first from 0).
        public var tiers: [Tier]
        public var expiresMs: Int64?
        public var whenExhausted: WhenExhausted
        /// The price of usage beyond the packs with `pay_as_you_go` (default: a pack's price per credit).
        public var overagePricePerCredit: Double?

        public enum WhenExhausted: String, Sendable, Hashable, CaseIterable {
            case buyPack = "buy_pack", payAsYouGo = "pay_as_you_go", stop
        }
    }

    public struct Tier: Sendable, Hashable {
        public var fromCredits: Double
        public var pricePerCredit: Double
    }

    /// Seats per period; `includedCredits` (for all seats, per period) used first, then overage.
    public struct Licence: Sendable, Hashable {
        public var seats: Int
        public var pricePerSeat: Double
        public var periodMs: Int64
        public var includedCredits: Double
        public var overagePricePerCredit: Double
    }

    /// `amount` paid each period buys amount / (1 − discount) credits; up to `rollover` of the
    /// unused share carries into the next period; use beyond is overage.
    public struct Commit: Sendable, Hashable {
        public var amount: Double
        public var periodMs: Int64
        public var discount: Double
        public var rollover: Double
        public var overagePricePerCredit: Double
    }
}

extension ModelBuilder {
    func plans(_ node: Node?) -> [Plan] {
        guard let node else { return [] }
        guard node.sequence != nil else { d.error(node, "plans must be a list"); return [] }
        var out: [Plan] = []
        for p in list(node, "plans") {
            let kinds = ["pay_as_you_go", "prepaid", "licence", "commit"]
            let f = fields(p, "plan", allowed: ["id"] + kinds)
            guard let id = validName(f["id"], "plan id") else { if f["id"] == nil { d.error(p, "a plan needs an 'id'") }; continue }
            if out.contains(where: { $0.id == id }) { d.error(f["id"], "plan '\(id)' is defined twice") }
            let given = kinds.filter { f[$0] != nil }
            guard given.count == 1, let body = f[given[0]] else {
                d.error(p, "plan '\(id)' needs exactly one of \(kinds.joined(separator: ", "))")
                continue
            }
            let errors = d.errorCount
            var kind: Plan.Kind?
            switch given[0] {
            case "pay_as_you_go":
                let b = fields(body, "pay_as_you_go", allowed: ["price_per_credit"])
                if let price = required(b, body, "price_per_credit", id) { kind = .payAsYouGo(pricePerCredit: price) }
            case "prepaid":
                kind = prepaid(body, id).map(Plan.Kind.prepaid)
            case "licence":
                let b = fields(body, "licence", allowed: ["seats", "price_per_seat", "period", "included_credits", "overage_price_per_credit"])
                let seats = integer(b["seats"], "seats", min: 1)
                if b["seats"] == nil { d.error(body, "plan '\(id)': licence needs 'seats'") }
                let price = required(b, body, "price_per_seat", id)
                let period = duration(b["period"], "period") ?? 30 * 86_400_000
                if let s = seats, let price, period > 0 {
                    kind = .licence(Plan.Licence(seats: s, pricePerSeat: price, periodMs: period,
                                                 includedCredits: number(b["included_credits"], "included_credits", min: 0) ?? 0,
                                                 overagePricePerCredit: required(b, body, "overage_price_per_credit", id) ?? 0))
                }
            default:
                let b = fields(body, "commit", allowed: ["amount", "period", "discount", "rollover", "overage_price_per_credit"])
                let amount = required(b, body, "amount", id)
                let period = duration(b["period"], "period") ?? 365 * 86_400_000
                let discount = number(b["discount"], "discount", min: 0, max: 0.99) ?? 0
                let rollover = number(b["rollover"], "rollover", min: 0, max: 1) ?? 0
                let overage = required(b, body, "overage_price_per_credit", id)
                if let amount, let overage, period > 0 {
                    kind = .commit(Plan.Commit(amount: amount, periodMs: period, discount: discount, rollover: rollover,
                                               overagePricePerCredit: overage))
                }
            }
            if let kind, d.errorCount == errors { out.append(Plan(id: id, kind: kind)) }
        }
        return out
    }

    func required(_ f: [String: Node], _ body: Node, _ key: String, _ id: String) -> Double? {
        guard let n = f[key] else { d.error(body, "plan '\(id)' needs '\(key)'"); return nil }
        return number(n, key, min: 0)
    }

    func prepaid(_ body: Node, _ id: String) -> Plan.Prepaid? {
        // `tiers` is accepted here only to say where it belongs: beside `pack` it would otherwise
        // read as a pack without a price, and the docs once showed it there.
        let b = fields(body, "prepaid", allowed: ["pack", "expires", "when_exhausted", "overage_price_per_credit", "tiers"])
        if let misplaced = b["tiers"] {
            d.error(misplaced, "plan '\(id)': 'tiers' belongs inside 'pack' (pack: { credits: N, tiers: [ { from_credits: 0, price_per_credit: P }, … ] }), not beside it")
        }
        guard let packNode = b["pack"] else { d.error(body, "plan '\(id)': prepaid needs a 'pack'"); return nil }
        let pf = fields(packNode, "pack", allowed: ["credits", "price", "tiers"])
        guard let credits = number(pf["credits"], "pack credits", min: 0), credits > 0 else {
            if pf["credits"] == nil { d.error(packNode, "plan '\(id)': a pack needs 'credits'") } else { d.error(pf["credits"], "a pack's credits must be positive") }
            return nil
        }
        let price = number(pf["price"], "pack price", min: 0)
        var tiers: [Plan.Tier] = []
        for t in list(pf["tiers"], "tiers") {
            let tf = fields(t, "tier", allowed: ["from_credits", "price_per_credit"])
            guard let from = number(tf["from_credits"], "from_credits", min: 0), let p = number(tf["price_per_credit"], "price_per_credit", min: 0) else {
                d.error(t, "a tier is { from_credits, price_per_credit }"); continue
            }
            tiers.append(Plan.Tier(fromCredits: from, pricePerCredit: p))
        }
        tiers.sort { $0.fromCredits < $1.fromCredits }
        if (price == nil) == tiers.isEmpty && !(price == nil && b["tiers"] != nil) { d.error(packNode, "plan '\(id)': a pack has a 'price' or 'tiers', one of them") }
        if let first = tiers.first, first.fromCredits != 0 { d.error(pf["tiers"], "plan '\(id)': the first tier starts at from_credits: 0") }
        var when = Plan.Prepaid.WhenExhausted.buyPack
        if let w = string(b["when_exhausted"], "when_exhausted") {
            if let v = Plan.Prepaid.WhenExhausted(rawValue: w) { when = v } else {
                d.error(b["when_exhausted"], "when_exhausted is \(Plan.Prepaid.WhenExhausted.allCases.map(\.rawValue).joined(separator: ", ")), got '\(w)'")
            }
        }
        return Plan.Prepaid(packCredits: credits, packPrice: price, tiers: tiers, expiresMs: duration(b["expires"], "expires"),
                            whenExhausted: when, overagePricePerCredit: number(b["overage_price_per_credit"], "overage_price_per_credit", min: 0))
    }
}
