import CCrypto
import Foundation
import LedgerStore
import Synchronization

/// Issuing and checking the service's API keys. A secret reads `brk_<key id>_<43 base64url
/// characters>`: 32 bytes from the system's CSPRNG, and the key id so that a check finds its
/// record without comparing against every stored hash. Only SHA-256 of the secret is stored; a
/// check hashes what the caller sent and compares the two digests in constant time. Both come
/// from the system's OpenSSL libcrypto (`SHA256`, `CRYPTO_memcmp`).
public enum APIKeys {
    public struct Issued: Sendable {
        public var record: APIKeyRecord
        /// Shown once, at creation; it cannot be recovered from the store.
        public var secret: String
    }

    /// A new key for `identity` (nil with `admin`), valid for `expiresInMs` from `nowMs` (nil: no expiry).
    /// `keyID`: given by the caller (`POST /v1/keys` derives it from the Idempotency-Key), else random.
    public static func issue(keyID: String? = nil, identity: String?, admin: Bool, nowMs: Int64, expiresInMs: Int64?) -> Issued {
        var rng = SystemRandomNumberGenerator()
        let id = keyID ?? "key_" + hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let random = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secret = "brk_\(id)_" + base64url(random)
        let record = APIKeyRecord(keyID: id, secretSHA256: sha256Hex(secret), identity: identity, admin: admin, createdAtMs: nowMs,
                                  expiresAtMs: expiresInMs.map { nowMs &+ $0 })
        return Issued(record: record, secret: secret)
    }

    /// The key id `POST /v1/keys` gives the key it makes for an Idempotency-Key: 64 bits of
    /// SHA-256 over it, so that a retry finds the key its first request made.
    static func keyID(forIdempotencyKey key: String) -> String {
        "key_" + hex(Array(sha256(Array("burnrate POST /v1/keys\u{0}\(key)".utf8)).prefix(8)))
    }

    /// The key id a secret names, or nil when it is not shaped as one of ours.
    static func keyID(ofSecret secret: String) -> String? {
        let parts = secret.split(separator: "_", omittingEmptySubsequences: false)
        // "brk", "key", <16 hex>, <43 base64url>; base64url may itself contain "_", so re-join the tail.
        guard parts.count >= 4, parts[0] == "brk", parts[1] == "key", parts[2].utf8.count == 16 else { return nil }
        return "key_" + parts[2]
    }

    /// The record of a secret that is a usable key at `nowMs`, or nil (unknown, wrong secret,
    /// revoked or expired: the caller answers all four with 401). Records found are kept in
    /// `cache` (when given: a SQLite ledger, whose server holds the writer lock, so no other
    /// process can revoke a key meanwhile, and the service's own revocation removes it from the
    /// cache; a shared PostgreSQL ledger is given none).
    static func authenticate(_ secret: String, in store: any DurableLedger, nowMs: Int64, cache: KeyRecordCache? = nil) async throws -> APIKeyRecord? {
        guard secret.utf8.count <= 128, let id = keyID(ofSecret: secret) else { return nil }
        let record: APIKeyRecord
        if let cached = cache?.record(id) { record = cached } else {
            guard let stored = try await store.apiKey(id: id) else { return nil }
            cache?.insert(stored)
            record = stored
        }
        guard constantTimeEqual(sha256Hex(secret), record.secretSHA256), record.isUsable(atMs: nowMs) else { return nil }
        return record
    }

    static func sha256Hex(_ text: String) -> String { hex(sha256(Array(text.utf8))) }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        // One byte more than hashed, so that the pointer exists for an empty input too.
        let input = bytes + [0]
        input.withUnsafeBufferPointer { data in
            digest.withUnsafeMutableBufferPointer { out in _ = SHA256(data.baseAddress, bytes.count, out.baseAddress) }
        }
        return digest
    }

    /// Compares two strings without an early exit (`CRYPTO_memcmp`), so the time taken says
    /// nothing about where they differ; only a difference in length (public: digests are 64
    /// hex digits) returns early.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8) + [0], y = Array(b.utf8) + [0]
        guard x.count == y.count else { return false }
        return x.withUnsafeBytes { p in y.withUnsafeBytes { q in CRYPTO_memcmp(p.baseAddress, q.baseAddress, x.count - 1) == 0 } }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Key records by id, read once from the store (a SQLite read per request cost more than the
/// rest of a balance request). At most `limit` records; past that the cache starts afresh.
final class KeyRecordCache: Sendable {
    private let records = Mutex<[String: APIKeyRecord]>([:])
    let limit = 10_000
    func record(_ id: String) -> APIKeyRecord? { records.withLock { $0[id] } }
    func insert(_ record: APIKeyRecord) {
        records.withLock { map in
            if map.count >= limit { map = [:] }
            map[record.keyID] = record
        }
    }
    func remove(_ id: String) { _ = records.withLock { $0.removeValue(forKey: id) } }
}
