import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore
import Testing

@testable import Service

/// The contract of DESIGN.md "The ledger service", over real HTTP on loopback.
@Suite struct ServiceTests {
    @Test func healthAndReadinessAnswerWithoutAKey() async throws {
        try await Harness.withServer(fundCredits: nil) { _, client in
            expect(try await client.get("/healthz", nil), .ok)
            let ready = try await client.get("/readyz", nil)
            expect(ready, .ok)
            #expect(ready.json["status"] as? String == "ready")
        }
    }

    @Test func anIdentityDebitsItsPoolAndReadsTheBalance() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let debit = try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"2.5"}"#)
            expect(debit, .created)
            #expect(debit.json["status"] as? String == "accepted")
            #expect(debit.json["charged_credits"] as? String == "2.5")
            #expect(debit.json["seq"] is Int)
            let balance = try await client.get("/v1/pools/eng/balance", alice)
            expect(balance, .ok)
            #expect(balance.json["pool"] as? String == "eng")
            #expect(balance.json["total_credits"] as? String == "97.5")
            #expect(balance.json["available_credits"] as? String == "97.5")
            #expect(balance.json["held_credits"] as? String == "0")
        }
    }

    @Test func anAdminActsForAnIdentityByNamingIt() async throws {
        try await Harness.withServer { h, client in
            expect(try await client.post("/v1/debits", h.admin, #"{"identity":"bob","pool":"eng","amount":"1"}"#), .created)
            expect(try await client.post("/v1/debits", h.admin, #"{"pool":"eng","amount":"1"}"#), .badRequest, reason: "malformed_request")
            #expect(try await h.available(client) == "99")
        }
    }

    @Test func balanceNeedsAnEntitlementOrAnAdminKey() async throws {
        try await Harness.withServer { h, client in
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"ops"}"#), .created)
            let alice = try await h.key(for: "alice")
            expect(try await client.get("/v1/pools/ops/balance", alice), .forbidden, reason: "not_entitled")
            expect(try await client.get("/v1/pools/ops/balance", h.admin), .ok)
            expect(try await client.get("/v1/pools/nowhere/balance", h.admin), .notFound, reason: "unknown_pool")
        }
    }

    // MARK: 401

    @Test func aMissingUnknownExpiredOrRevokedKeyIs401() async throws {
        try await Harness.withServer { h, client in
            let body = #"{"pool":"eng","amount":"1"}"#
            expect(try await client.post("/v1/debits", nil, body), .unauthorized, reason: "unauthorized")
            expect(try await client.get("/v1/pools/eng/balance", nil), .unauthorized, reason: "unauthorized")
            let unknown = APIKeys.issue(identity: "alice", admin: false, nowMs: 0, expiresInMs: nil).secret
            expect(try await client.post("/v1/debits", unknown, body), .unauthorized, reason: "unauthorized")
            expect(try await client.post("/v1/debits", "not-a-key", body), .unauthorized, reason: "unauthorized")
            // The right key id with a wrong secret.
            let alice = try await h.key(for: "alice")
            let forged = String(alice.dropLast(4)) + "AAAA"
            expect(try await client.post("/v1/debits", forged, body), .unauthorized, reason: "unauthorized")
            let expired = try await Harness.key(h.store, identity: "alice", nowMs: LedgerService.wallClockMs() - 10_000, expiresInMs: 1_000)
            expect(try await client.post("/v1/debits", expired, body), .unauthorized, reason: "unauthorized")
            let revoked = try await h.key(for: "alice")
            let id = try #require(APIKeys.keyID(ofSecret: revoked))
            #expect(try await h.store.revokeKey(id: id, atMs: LedgerService.wallClockMs()))
            expect(try await client.post("/v1/debits", revoked, body), .unauthorized, reason: "unauthorized")
            // Nothing was debited by any of them.
            #expect(try await h.available(client) == "100")
            expect(try await client.post("/v1/debits", alice, body), .created)
        }
    }

    // MARK: 403

    @Test func identityKeysMayNotManageNorActAsAnotherIdentity() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/pools", alice, #"{"pool":"mine"}"#), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/pools/eng/grants", alice, #"{"amount":"1000"}"#), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/identities/bob/suspend", alice, "{}"), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/debits", alice, #"{"identity":"bob","pool":"eng","amount":"1"}"#), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/debits", alice, #"{"identity":"alice","pool":"eng","amount":"1"}"#), .created)
            #expect(try await h.available(client) == "99")
        }
    }

    @Test func aSuspendedIdentityAskingBeyondTheBalanceIs403Not402() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/identities/alice/suspend", h.admin, "{}"), .ok)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"500"}"#), .forbidden, reason: "identity_suspended")
            expect(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"500"}"#), .forbidden, reason: "identity_suspended")
            expect(try await client.post("/v1/identities/alice/resume", h.admin, "{}"), .ok)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"500"}"#), .paymentRequired, reason: "insufficient_funds")
            expect(try await client.post("/v1/identities/alice/revoke", h.admin, "{}"), .ok)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"500"}"#), .forbidden, reason: "identity_revoked")
            expect(try await client.post("/v1/identities/alice/resume", h.admin, "{}"), .conflict, reason: "status_change_not_allowed")
        }
    }

    @Test func anIdentityNotEntitledToThePoolIs403() async throws {
        try await Harness.withServer { h, client in
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"ops"}"#), .created)
            expect(try await client.post("/v1/pools/ops/grants", h.admin, #"{"amount":"10"}"#), .created)
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"ops","amount":"1"}"#), .forbidden, reason: "not_entitled")
        }
    }

    // MARK: 402

    @Test func exhaustionIs402WithTheAvailableCredits() async throws {
        try await Harness.withServer(fundCredits: "3") { h, client in
            let alice = try await h.key(for: "alice")
            let r = try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"3.5"}"#)
            expect(r, .paymentRequired, reason: "insufficient_funds")
            #expect(r.json["available_credits"] as? String == "3")
        }
    }

    // MARK: 404

    @Test func unknownPoolsIdentitiesAndHoldsAre404() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"nowhere","amount":"1"}"#), .notFound, reason: "unknown_pool")
            expect(try await client.post("/v1/pools/nowhere/grants", h.admin, #"{"amount":"1"}"#), .notFound, reason: "unknown_pool")
            expect(try await client.post("/v1/identities/nobody/suspend", h.admin, "{}"), .notFound, reason: "unknown_identity")
            expect(try await client.post("/v1/debits", h.admin, #"{"identity":"nobody","pool":"eng","amount":"1"}"#), .notFound,
                   reason: "unknown_identity")
            expect(try await client.post("/v1/holds/12345/capture", alice, #"{"amount":"1"}"#), .notFound, reason: "unknown_hold")
            expect(try await client.post("/v1/holds/12345/release", alice, "{}"), .notFound, reason: "unknown_hold")
        }
    }

    // MARK: 400

    @Test func malformedBodiesAre400AndChangeNothing() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let bad: [(String, String?)] = [
                (#"{"pool":"eng","amount":"1","amout":"2"}"#, "amout"),  // unknown field
                (#"{"pool":"eng","amount":true}"#, "amount"),  // wrong type
                (#"{"pool":"eng","amount":"-1"}"#, "amount"),  // negative
                (#"{"pool":"eng","amount":"0.0000001"}"#, "amount"),  // over-precise
                (#"{"pool":"eng","amount":"1e3"}"#, "amount"),
                (#"{"pool":"eng","amount":"1","tier":"1"}"#, "tier"),
                (#"{"pool":"eng","amount":"1",}"#, nil),  // not strict JSON
                (#"{"pool":"eng","amount":"1","pool":"eng"}"#, nil),  // duplicate field
                (#"["pool"]"#, nil),
                (#"{"pool":"eng","amount":"1","op":"fund"}"#, "op"),
                (#"{"pool":"eng","amount":"1","key":"other"}"#, "key"),
                ("not json", nil),
            ]
            for (body, field) in bad {
                let r = try await client.post("/v1/debits", alice, body)
                expect(r, .badRequest, reason: "malformed_request")
                if let field { #expect(r.json["field"] as? String == field, "\(body) → \(r.text)") }
            }
            let huge = #"{"pool":"eng","amount":"1","tier":0"# + String(repeating: " ", count: LedgerService.maxBodyBytes) + "}"
            expect(try await client.post("/v1/debits", alice, huge), .contentTooLarge, reason: "body_too_large")
            expect(try await client.post("/v1/pools/eng/grants", h.admin, #"{"pool":"eng","amount":"1"}"#), .badRequest, reason: "malformed_request")
            expect(try await client.post("/v1/holds/x1/release", alice, "{}"), .badRequest, reason: "malformed_request")
            #expect(try await h.available(client) == "100")
            // The server keeps serving.
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#), .created)
        }
    }

    @Test func everyPostNeedsAnIdempotencyKeyOf1To255Characters() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let body = #"{"pool":"eng","amount":"1"}"#
            expect(try await client.post("/v1/debits", alice, body, idempotencyKey: ""), .badRequest, reason: "malformed_request")
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"x"}"#, idempotencyKey: ""), .badRequest, reason: "malformed_request")
            expect(try await client.post("/v1/debits", alice, body, idempotencyKey: String(repeating: "k", count: 256)), .badRequest,
                   reason: "malformed_request")
            expect(try await client.post("/v1/debits", alice, body, idempotencyKey: String(repeating: "k", count: 255)), .created)
            #expect(try await h.available(client) == "99")
        }
    }

    // MARK: Idempotency

    @Test func anIdenticalRetryIsReplayedAndADifferentRequestIs422() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let first = try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"2"}"#, idempotencyKey: "req-1")
            expect(first, .created)
            #expect(first.headers[LedgerService.replayed] == nil)
            let again = try await client.post("/v1/debits", alice, #"{"amount":"2.0","pool":"eng"}"#, idempotencyKey: "req-1")
            expect(again, .created)
            #expect(again.headers[LedgerService.replayed] == "true")
            #expect(again.text == first.text)
            #expect(try await h.available(client) == "98")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"3"}"#, idempotencyKey: "req-1"), .unprocessableContent,
                   reason: "idempotency_key_reused")
            let bob = try await h.key(for: "bob")
            expect(try await client.post("/v1/debits", bob, #"{"pool":"eng","amount":"2"}"#, idempotencyKey: "req-1"), .unprocessableContent,
                   reason: "idempotency_key_reused")
            expect(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"2"}"#, idempotencyKey: "req-1"), .unprocessableContent,
                   reason: "idempotency_key_reused")
            #expect(try await h.available(client) == "98")
        }
    }

    @Test func aRepeatWhileTheFirstIsInFlightIs409() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            // The first request is held in flight by the test: the service has not answered it yet.
            #expect(h.service.inFlight.insert("slow-1"))
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "slow-1"), .conflict,
                   reason: "request_in_flight")
            h.service.inFlight.remove("slow-1")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#, idempotencyKey: "slow-1"), .created)
            #expect(try await h.available(client) == "99")
        }
    }

    // MARK: Holds

    @Test func aHoldIsCapturedOnlyByItsOwnIdentity() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice"), bob = try await h.key(for: "bob")
            let hold = try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10","expires_in":"1h"}"#)
            expect(hold, .created)
            let id = try #require(hold.json["hold"] as? String)
            #expect(try await client.get("/v1/pools/eng/balance", alice).json["held_credits"] as? String == "10")
            expect(try await client.post("/v1/holds/\(id)/capture", bob, #"{"amount":"4"}"#), .forbidden, reason: "hold_not_owned")
            expect(try await client.post("/v1/holds/\(id)/release", bob, "{}"), .forbidden, reason: "hold_not_owned")
            expect(try await client.post("/v1/holds/\(id)/capture", alice, #"{"hold":"1","amount":"4"}"#), .badRequest, reason: "malformed_request")
            let capture = try await client.post("/v1/holds/\(id)/capture", alice, #"{"amount":"4"}"#)
            expect(capture, .ok)
            #expect(capture.json["charged_credits"] as? String == "4")
            #expect(try await h.available(client) == "96")
            expect(try await client.post("/v1/holds/\(id)/release", alice, "{}"), .conflict, reason: "hold_settled")
        }
    }

    @Test func aHoldIsReleasedByItsIdentityOrForItByAnAdmin() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let first = try #require(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10"}"#).json["hold"] as? String)
            expect(try await client.post("/v1/holds/\(first)/release", alice, ""), .ok)
            let second = try #require(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10"}"#).json["hold"] as? String)
            expect(try await client.post("/v1/holds/\(second)/release", h.admin, #"{"identity":"alice"}"#), .ok)
            #expect(try await h.available(client) == "100")
        }
    }

    @Test func anIdenticalRetryOfAnAuthorizeWithExpiresInIsReplayed() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let body = #"{"pool":"eng","amount":"10","expires_in":"15m"}"#
            let first = try await client.post("/v1/holds", alice, body, idempotencyKey: "auth-1")
            expect(first, .created)
            try await Task.sleep(for: .milliseconds(20))  // the retry comes later: its hold would expire later
            let retry = try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10","expires_in":"900s"}"#, idempotencyKey: "auth-1")
            expect(retry, .created)
            #expect(retry.headers[LedgerService.replayed] == "true")
            #expect(retry.json["hold"] as? String == first.json["hold"] as? String)
            #expect(try await client.get("/v1/pools/eng/balance", alice).json["held_credits"] as? String == "10")
        }
    }

    // MARK: Admin routes

    @Test func adminRoutesCreatePoolsIdentitiesAndGrants() async throws {
        try await Harness.withServer(fundCredits: nil) { h, client in
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"org"}"#), .created)
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"team","parent":"org","policies":[{"hard_stop":{}}]}"#), .created)
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"team"}"#), .conflict, reason: "duplicate_name")
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"x","parent":"nowhere"}"#), .notFound, reason: "unknown_pool")
            expect(try await client.post("/v1/identities", h.admin, #"{"identity":"carol","pools":["team"]}"#), .created)
            expect(try await client.post("/v1/pools/team/grants", h.admin, #"{"amount":"50","expires_in":"30d","category":"promotional"}"#), .created)
            #expect(try await h.available(client, pool: "team") == "50")
            let carol = try await h.key(for: "carol")
            expect(try await client.post("/v1/debits", carol, #"{"pool":"team","amount":"5"}"#), .created)
            #expect(try await h.available(client, pool: "team") == "45")
        }
    }

    @Test func aRetriedIdentityCreationIsReplayed() async throws {
        try await Harness.withServer { h, client in
            let body = #"{"identity":"carol","pools":["eng"]}"#
            let first = try await client.post("/v1/identities", h.admin, body, idempotencyKey: "id-carol")
            expect(first, .created)
            let retry = try await client.post("/v1/identities", h.admin, body, idempotencyKey: "id-carol")
            expect(retry, .created)
            #expect(retry.headers[LedgerService.replayed] == "true")
            #expect(retry.text == first.text)
            expect(try await client.post("/v1/identities", h.admin, body), .conflict, reason: "duplicate_name")
        }
    }

    // MARK: Race

    @Test func thirtyTwoConcurrentClientsOnA100CreditPoolGetExactly100Debits() async throws {
        try await Harness.withServer(fundCredits: "100") { h, client in
            let alice = try await h.key(for: "alice")
            let clients = 32, debitsPerClient = 5
            let statuses = try await withThrowingTaskGroup(of: [HTTPResponse.Status].self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        // Each request on a connection of its own: 32 clients are 32 concurrent connections.
                        var seen: [HTTPResponse.Status] = []
                        for _ in 0..<debitsPerClient {
                            seen.append(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#).status)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.count == clients * debitsPerClient)
            #expect(statuses.filter { $0 == .created }.count == 100)
            #expect(statuses.filter { $0 == .paymentRequired }.count == clients * debitsPerClient - 100)
            #expect(try await h.available(client) == "0")
        }
    }
}
