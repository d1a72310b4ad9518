import Foundation
import Ledger

/// The text of one journal row: `OUTCOME \t REQUEST`.
///
/// The journal keeps each command and the answer it got; the transfers a command made are a
/// deterministic function of the commands before it (that is the ledger's contract), so they are
/// rebuilt by replay rather than stored. The frequent commands have a compact tab-separated form
/// (JSON encoding was 72% of the writer's time under group commit); everything else falls back to
/// JSON. Outcome: `A` accepted, `R:<code>` refused.
enum JournalCodec {
    static func encode(_ request: Request, _ outcome: Outcome) throws -> String {
        let answer = outcome.refusal.map { "R:" + $0.code } ?? "A"
        if let key = request.key, key.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            return answer + "\tJ\t" + (try json(request))
        }
        // A fingerprint (of the request as the caller sent it) follows the key as `F` and 16 hex
        // digits; rows written before fingerprints existed have none.
        let head = "\(request.atMs)\t\(request.key.map { "k" + $0 } ?? "-")" + (request.fingerprint.map { "\tF" + LedgerStore.hex($0) } ?? "")
        let body: String
        switch request.command {
        case .debit(let i, let p, let tier, let amount):
            body = "d\t\(i.index)\t\(p.index)\t\(tier)\t\(amount)"
        case .authorize(let i, let p, let tier, let amount, let expires):
            body = "a\t\(i.index)\t\(p.index)\t\(tier)\t\(amount)\t\(expires)"
        case .capture(let hold, let amount, let identity):
            body = "c\t\(hold.raw)\t\(amount)" + (identity.map { "\t\($0.index)" } ?? "")
        case .release(let hold, let identity):
            body = "r\t\(hold.raw)" + (identity.map { "\t\($0.index)" } ?? "")
        case .delegatedDebit(let d, let i, let tier, let amount):
            // The frequent command of an agent chain: compact, as a plain debit.
            body = "D\t\(d.raw)\t\(i.index)\t\(tier)\t\(amount)"
        case .advanceTime:
            body = "v"
        default:
            return answer + "\tJ\t" + (try json(request))
        }
        return answer + "\t" + head + "\t" + body
    }

    /// The request and the recorded answer of a row, or nil when the text is not a row. Every
    /// number is range-checked: a damaged row is unreadable, never a trap.
    static func decode(_ text: String) -> (request: Request, answer: String)? {
        let f = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 2 else { return nil }
        let answer = f[0]
        guard answer == "A" || answer.hasPrefix("R:") else { return nil }
        if f[1] == "J" {
            guard f.count == 3, let r = try? JSONDecoder().decode(Request.self, from: Data(f[2].utf8)) else { return nil }
            return (r, answer)
        }
        guard f.count >= 4, let at = Int64(f[1]) else { return nil }
        let key: String? = f[2] == "-" ? nil : (f[2].hasPrefix("k") ? String(f[2].dropFirst()) : nil)
        if f[2] != "-" && key == nil { return nil }
        var b = 3
        var fingerprint: UInt64?
        if f[3].hasPrefix("F") {
            guard f[3].utf8.count == 17, let v = UInt64(f[3].dropFirst(), radix: 16) else { return nil }
            fingerprint = v
            b = 4
        }
        guard b < f.count else { return nil }
        let n = f.count - b  // fields of the command, its letter included
        func int(_ i: Int) -> Int64? { b + i < f.count ? Int64(f[b + i]) : nil }
        func int32(_ i: Int) -> Int32? { int(i).flatMap { Int32(exactly: $0) } }
        func tier(_ i: Int) -> Int? { int(i).flatMap { Int(exactly: $0) } }
        let command: Command
        switch f[b] {
        case "d":
            guard n == 5, let i = int32(1), let p = int32(2), let t = tier(3), let a = int(4) else { return nil }
            command = .debit(identity: IdentityID(i), pool: PoolID(p), tier: t, amountMicrocredits: a)
        case "a":
            guard n == 6, let i = int32(1), let p = int32(2), let t = tier(3), let a = int(4), let e = int(5) else { return nil }
            command = .authorize(identity: IdentityID(i), pool: PoolID(p), tier: t, amountMicrocredits: a, expiresAtMs: e)
        case "c":
            guard n == 3 || n == 4, let h = int(1).flatMap(HoldID.init(raw:)), let a = int(2) else { return nil }
            var identity: IdentityID?
            if n == 4 { guard let i = int32(3) else { return nil }; identity = IdentityID(i) }
            command = .capture(hold: h, amountMicrocredits: a, identity: identity)
        case "r":
            guard n == 2 || n == 3, let h = int(1).flatMap(HoldID.init(raw:)) else { return nil }
            var identity: IdentityID?
            if n == 3 { guard let i = int32(2) else { return nil }; identity = IdentityID(i) }
            command = .release(hold: h, identity: identity)
        case "D":
            guard n == 5, let d = int(1).flatMap(DelegationID.init(raw:)), let i = int32(2), let t = tier(3), let a = int(4) else { return nil }
            command = .delegatedDebit(delegation: d, identity: IdentityID(i), tier: t, amountMicrocredits: a)
        case "v":
            guard n == 1 else { return nil }
            command = .advanceTime
        default:
            return nil
        }
        return (Request(atMs: at, key: key, fingerprint: fingerprint, command), answer)
    }

    static func answer(_ outcome: Outcome) -> String { outcome.refusal.map { "R:" + $0.code } ?? "A" }

    static func json(_ request: Request) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(request), as: UTF8.self)
    }
}
