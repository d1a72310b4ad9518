import Foundation
import LedgerStore
import Testing

@testable import Service

/// API keys: secrets shown once, stored as SHA-256, checked in constant time, durable.
@Suite struct APIKeyTests {
    func withStore(_ body: (LedgerStore, String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString).db").path
        defer { LedgerStore.remove(path: path) }
        let store = try await LedgerStore(path: path)
        try await body(store, path)
        try? await store.close()
    }

    @Test func anIssuedSecretAuthenticatesAndOnlyItsHashIsStored() async throws {
        try await withStore { store, _ in
            let issued = APIKeys.issue(identity: "alice", admin: false, nowMs: 1_000, expiresInMs: nil)
            #expect(issued.secret.hasPrefix("brk_\(issued.record.keyID)_"))
            // "brk_", the 20-character key id, "_", 32 random bytes in 43 base64url characters.
            #expect(issued.secret.utf8.count == 68)
            try await store.insertKey(issued.record)
            let stored = try #require(try store.keys().first)
            #expect(stored.secretSHA256 == APIKeys.sha256Hex(issued.secret))
            #expect(stored.secretSHA256.count == 64)
            #expect(try await APIKeys.authenticate(issued.secret, in: store, nowMs: 2_000)?.identity == "alice")
            var wrong = issued.secret
            wrong.removeLast()
            wrong.append(issued.secret.last == "A" ? "B" : "A")
            #expect(try await APIKeys.authenticate(wrong, in: store, nowMs: 2_000) == nil)
            #expect(try await APIKeys.authenticate("brk_key_0000000000000000_x", in: store, nowMs: 2_000) == nil)
        }
    }

    @Test func twoIssuedKeysShareNothing() {
        let a = APIKeys.issue(identity: nil, admin: true, nowMs: 0, expiresInMs: nil)
        let b = APIKeys.issue(identity: nil, admin: true, nowMs: 0, expiresInMs: nil)
        #expect(a.record.keyID != b.record.keyID)
        #expect(a.secret != b.secret)
        #expect(a.record.secretSHA256 != b.record.secretSHA256)
    }

    @Test func revokedAndExpiredKeysAuthenticateNothing() async throws {
        try await withStore { store, _ in
            let expiring = APIKeys.issue(identity: "alice", admin: false, nowMs: 1_000, expiresInMs: 500)
            let revoked = APIKeys.issue(identity: nil, admin: true, nowMs: 1_000, expiresInMs: nil)
            try await store.insertKey(expiring.record)
            try await store.insertKey(revoked.record)
            #expect(try await APIKeys.authenticate(expiring.secret, in: store, nowMs: 1_499) != nil)
            #expect(try await APIKeys.authenticate(expiring.secret, in: store, nowMs: 1_500) == nil)
            #expect(try await store.revokeKey(id: revoked.record.keyID, atMs: 2_000))
            #expect(try await store.revokeKey(id: revoked.record.keyID, atMs: 3_000))
            #expect(try store.key(id: revoked.record.keyID)?.revokedAtMs == 2_000)
            #expect(try await APIKeys.authenticate(revoked.secret, in: store, nowMs: 2_001) == nil)
            #expect(try await store.revokeKey(id: "key_nope", atMs: 2_000) == false)
        }
    }

    @Test func keysAreDurableAcrossAReopen() async throws {
        try await withStore { store, path in
            let issued = APIKeys.issue(identity: nil, admin: true, nowMs: 1_000, expiresInMs: nil)
            try await store.insertKey(issued.record)
            try await store.close()
            let reopened = try await LedgerStore(path: path)
            #expect(try await APIKeys.authenticate(issued.secret, in: reopened, nowMs: 2_000)?.admin == true)
            try await reopened.close()
        }
    }

    /// FIPS 180-2's vectors, through the system's libcrypto.
    @Test func sha256IsSHA256() {
        #expect(APIKeys.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(APIKeys.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKeys.sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func digestsCompareWithoutShortcuts() {
        #expect(APIKeys.constantTimeEqual("abc", "abc"))
        #expect(!APIKeys.constantTimeEqual("abc", "abd"))
        #expect(!APIKeys.constantTimeEqual("abc", "abcd"))
        #expect(!APIKeys.constantTimeEqual("abc", "bbc"))
        #expect(APIKeys.constantTimeEqual("", ""))
    }
}
