import LedgerStore

extension Rule {
    public static let staleCredential = Rule(
        id: "BR008", name: "stale-credential", level: .warning,
        summary: "(Live ledger) an API key with no expiry, or older than 90 days: a leaked one works until someone notices.",
        fix: "Issue keys with an expiry (ledger key create --expires-in 90d) and rotate older ones: create a new key, move the caller, revoke the old one.",
        owaspAgentic: [asi03], nistCSF: ["PR.AA-01"], nist800207: [tenet6])
}

extension Audit {
    /// The age beyond which a key is stale (BR008).
    public static let maxKeyAgeMs: Int64 = 90 * 86_400_000

    /// BR008 over a ledger's API keys, judged at `asOfMs` (wall-clock milliseconds): every usable
    /// key (not revoked, not expired) that never expires or was created more than 90 days ago.
    public static func keyFindings(_ keys: [APIKeyRecord], asOfMs: Int64, locator: Locator) -> [Finding] {
        var out: [Finding] = []
        for key in keys where key.isUsable(atMs: asOfMs) {
            let whose = key.identity.map { "identity '\($0)'" } ?? "an admin"
            let subject = "key '\(AuditReport.cell(key.keyID))' (\(whose))"
            let ageDays = (asOfMs - key.createdAtMs) / 86_400_000
            var problems: [String] = []
            if key.expiresAtMs == nil { problems.append("never expires") }
            if asOfMs - key.createdAtMs > maxKeyAgeMs { problems.append("was created \(ageDays) days ago (more than 90)") }
            guard !problems.isEmpty else { continue }
            out.append(Finding(rule: .staleCredential, message: "\(subject) \(problems.joined(separator: " and ")): rotate it",
                               location: Location(file: locator.file, subject: subject)))
        }
        return out
    }
}
