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
        let head = "\(request.atMs)\t\(request.key.map { "k" + $0 } ?? "-")"
        let body: String
        switch request.command {
        case .debit(let i, let p, let tier, let amount):
            body = "d\t\(i.index)\t\(p.index)\t\(tier)\t\(amount)"
        case .authorize(let i, let p, let tier, let amount, let expires):
            body = "a\t\(i.index)\t\(p.index)\t\(tier)\t\(amount)\t\(expires)"
        case .capture(let hold, let amount):
            body = "c\t\(hold.raw)\t\(amount)"
        case .release(let hold):
            body = "r\t\(hold.raw)"
        case .advanceTime:
            body = "v"
        default:
            return answer + "\tJ\t" + (try json(request))
        }
        return answer + "\t" + head + "\t" + body
    }

    /// The request and the recorded answer of a row, or nil when the text is not a row.
    static func decode(_ text: String) -> (request: Request, answer: String)? {
        let f = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 2 else { return nil }
        let answer = f[0]
        if f[1] == "J" {
            guard f.count == 3, let r = try? JSONDecoder().decode(Request.self, from: Data(f[2].utf8)) else { return nil }
            return (r, answer)
        }
        guard f.count >= 4, let at = Int64(f[1]) else { return nil }
        let key: String? = f[2] == "-" ? nil : (f[2].hasPrefix("k") ? String(f[2].dropFirst()) : nil)
        if f[2] != "-" && key == nil { return nil }
        func int(_ i: Int) -> Int64? { i < f.count ? Int64(f[i]) : nil }
        let command: Command
        switch f[3] {
        case "d":
            guard f.count == 8, let i = int(4), let p = int(5), let t = int(6), let a = int(7) else { return nil }
            command = .debit(identity: IdentityID(Int32(i)), pool: PoolID(Int32(p)), tier: Int(t), amountMicrocredits: a)
        case "a":
            guard f.count == 9, let i = int(4), let p = int(5), let t = int(6), let a = int(7), let e = int(8) else { return nil }
            command = .authorize(identity: IdentityID(Int32(i)), pool: PoolID(Int32(p)), tier: Int(t), amountMicrocredits: a, expiresAtMs: e)
        case "c":
            guard f.count == 6, let h = int(4).flatMap(HoldID.init(raw:)), let a = int(5) else { return nil }
            command = .capture(hold: h, amountMicrocredits: a)
        case "r":
            guard f.count == 5, let h = int(4).flatMap(HoldID.init(raw:)) else { return nil }
            command = .release(hold: h)
        case "v":
            guard f.count == 4 else { return nil }
            command = .advanceTime
        default:
            return nil
        }
        return (Request(atMs: at, key: key, command), answer)
    }

    static func answer(_ outcome: Outcome) -> String { outcome.refusal.map { "R:" + $0.code } ?? "A" }

    static func json(_ request: Request) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(request), as: UTF8.self)
    }
}
