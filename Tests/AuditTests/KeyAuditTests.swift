import Audit
import Foundation
import Ledger
import LedgerStore
import Testing

@Suite("BR008 stale-credential: the API keys of a live ledger")
struct KeyAuditTests {
    static let day: Int64 = 86_400_000
    static let now: Int64 = 1_800_000_000_000

    static func key(_ id: String, identity: String? = "svc", createdDaysAgo: Int64, expiresInDays: Int64?, revoked: Bool = false) -> APIKeyRecord {
        APIKeyRecord(keyID: id, secretSHA256: String(repeating: "0", count: 64), identity: identity, admin: identity == nil,
                     createdAtMs: now - createdDaysAgo * day, expiresAtMs: expiresInDays.map { now + $0 * day },
                     revokedAtMs: revoked ? now - day : nil)
    }

    @Test func aKeyWithoutExpiryOrOlderThanNinetyDaysIsStale() {
        let keys = [
            Self.key("fresh", createdDaysAgo: 10, expiresInDays: 80),
            Self.key("forever", createdDaysAgo: 1, expiresInDays: nil),
            Self.key("old", createdDaysAgo: 91, expiresInDays: 30),
            Self.key("admin-forever", identity: nil, createdDaysAgo: 200, expiresInDays: nil),
            Self.key("revoked", createdDaysAgo: 300, expiresInDays: nil, revoked: true),
            Self.key("expired", createdDaysAgo: 300, expiresInDays: -1),
            Self.key("ninety", createdDaysAgo: 90, expiresInDays: 1),
        ]
        let findings = Audit.keyFindings(keys, asOfMs: Self.now, locator: Locator(database: "live.db"))
        #expect(findings.map(\.location.subject) == ["key 'forever' (identity 'svc')", "key 'old' (identity 'svc')",
                                                     "key 'admin-forever' (an admin)"])
        #expect(findings.allSatisfy { $0.rule.id == "BR008" && $0.level == .warning && $0.location.file == "live.db" })
        #expect(findings[0].message.contains("never expires"))
        #expect(findings[1].message.contains("91 days ago"))
        #expect(findings[2].message.contains("never expires and was created 200 days ago"))
    }

    @Test func theDatabaseAuditReadsTheStoresKeys() async throws {
        let path = NSTemporaryDirectory() + "burnrate-audit-keys-\(UUID().uuidString).db"
        defer { for s in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + s) } }
        do {
            let store = try await LedgerStore(path: path)
            try await store.insertKey(Self.key("forever", createdDaysAgo: 1, expiresInDays: nil))
            try await store.insertKey(Self.key("fresh", createdDaysAgo: 1, expiresInDays: 30))
            try await store.close()
        }
        let report = try await AuditRun(scenarioPaths: [], databases: [path], asOfMs: Self.now).run()
        #expect(report.findings.map(\.rule.id) == ["BR008"])
        #expect(report.findings[0].location.subject == "key 'forever' (identity 'svc')")
    }
}
