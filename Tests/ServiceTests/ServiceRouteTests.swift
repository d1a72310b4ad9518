import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore
import Testing
import Yams

@testable import Service

/// The routes beyond the write routes: metrics, the OpenAPI document, statements, entitlements
/// and keys over HTTP.
@Suite struct ServiceRouteTests {
    // MARK: /metrics

    @Test func metricsCountRequestsByRouteAndStatusCommitsAndPoolsAvailableCredits() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"2.5"}"#), .created)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"500"}"#), .paymentRequired, reason: "insufficient_funds")
            expect(try await client.get("/nowhere", nil), .notFound, reason: "no_such_route")
            let r = try await client.get("/metrics", nil)
            expect(r, .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/plain") == true)
            let lines = Set(r.text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"burnrate_http_requests_total{route="/v1/debits",method="POST",status="201"} 1"#), "\(r.text)")
            #expect(lines.contains(#"burnrate_http_requests_total{route="/v1/debits",method="POST",status="402"} 1"#))
            // set-up: one pool, two identities, one grant
            #expect(lines.contains(#"burnrate_http_requests_total{route="/v1/identities",method="POST",status="201"} 2"#))
            #expect(lines.contains(#"burnrate_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
            #expect(lines.contains(#"burnrate_http_request_duration_seconds_count{route="/v1/debits"} 2"#))
            #expect(lines.contains { $0.hasPrefix(#"burnrate_http_request_duration_seconds_bucket{route="/v1/debits",le="+Inf"} 2"#) })
            #expect(lines.contains(#"burnrate_pool_available_credits{pool="eng"} 97.5"#))
            // Six commands were committed (four of the set-up, two debits), in at most six commits.
            let commits = try #require(lines.first { $0.hasPrefix("burnrate_ledger_commits_total ") }.flatMap { Int($0.split(separator: " ")[1]) })
            #expect((1...6).contains(commits))
            #expect(lines.contains("burnrate_ledger_commit_batch_size_sum 6.0") || lines.contains("burnrate_ledger_commit_batch_size_sum 6"), "\(r.text)")
        }
    }

    // MARK: /openapi.yaml

    @Test func theOpenAPIDocumentListsExactlyTheRoutesServed() async throws {
        try await Harness.withServer(fundCredits: nil) { h, client in
            let r = try await client.get("/openapi.yaml", nil)
            expect(r, .ok)
            #expect(r.headers[.contentType] == "application/yaml")
            let document = try #require(try Yams.load(yaml: r.text) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: Any])
            var documented = Set<String>()
            for (path, item) in paths {
                for method in (item as? [String: Any] ?? [:]).keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            let served = Set(h.service.router().routes.map { "\($0.method.rawValue) \(ServiceMetrics.template($0.path.description))" })
            #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
            #expect(served.count == 21, "the table of DESIGN.md")
            // Every reference resolves inside the document.
            let refs = r.text.matches(of: /\$ref: "#\/([^"]+)"/).map { String($0.output.1) }
            #expect(!refs.isEmpty)
            for ref in Set(refs) {
                var node: Any? = document
                for part in ref.split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
                #expect(node != nil, "unresolved $ref #/\(ref)")
            }
        }
    }

    // MARK: Statement

    @Test func aStatementListsThePoolsMovementsInPages() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"2.5"}"#), .created)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#), .created)
            let all = try await client.get("/v1/pools/eng/statement", alice)
            expect(all, .ok)
            let lines = try #require(all.json["lines"] as? [[String: Any]])
            #expect(lines.map { $0["amount_credits"] as? String } == ["100", "-2.5", "-1"])
            #expect(lines.map { $0["balance_credits"] as? String } == ["100", "97.5", "96.5"])
            #expect(lines.map { $0["counterparty"] as? String } == ["funding", "usage", "usage"])
            #expect(lines.allSatisfy { ($0["at"] as? String)?.hasSuffix("Z") == true })
            #expect(all.json["closing_credits"] as? String == "96.5")
            #expect(all.json["next_after"] == nil)
            let seqs = lines.compactMap { $0["seq"] as? Int }
            #expect(seqs.count == 3 && seqs == seqs.sorted())

            let first = try await client.get("/v1/pools/eng/statement?limit=2", alice)
            #expect((first.json["lines"] as? [[String: Any]])?.count == 2)
            let next = try #require(first.json["next_after"] as? Int)
            #expect(next == seqs[1])
            let second = try await client.get("/v1/pools/eng/statement?after=\(next)&limit=2", alice)
            #expect((second.json["lines"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int } == [seqs[2]])
            #expect(second.json["next_after"] == nil)
            expect(try await client.get("/v1/pools/eng/statement?after=\(seqs[2])", h.admin), .ok)
        }
    }

    @Test func aStatementIsReadAsTheBalanceIsAndItsQueryIsStrict() async throws {
        try await Harness.withServer { h, client in
            expect(try await client.post("/v1/pools", h.admin, #"{"pool":"ops"}"#), .created)
            let alice = try await h.key(for: "alice")
            expect(try await client.get("/v1/pools/ops/statement", alice), .forbidden, reason: "not_entitled")
            expect(try await client.get("/v1/pools/nowhere/statement", h.admin), .notFound, reason: "unknown_pool")
            expect(try await client.get("/v1/pools/eng/statement", nil), .unauthorized, reason: "unauthorized")
            for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("after=-1", "after"), ("after=1e3", "after"),
                                   ("after=", "after"), ("after=1&after=2", "after"), ("from=0", "from"), ("limit=99999999999999999999", "limit")] {
                let r = try await client.get("/v1/pools/eng/statement?\(query)", alice)
                expect(r, .badRequest, reason: "malformed_request")
                #expect(r.json["field"] as? String == field, "\(query) → \(r.text)")
            }
        }
    }

    // MARK: Entitlements

    @Test func anAdminReplacesAnIdentitysEntitlement() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let r = try await client.post("/v1/identities/alice/entitlements", h.admin, #"{"pool":"eng","cap":"5","cap_period":"1d"}"#)
            expect(r, .ok)
            #expect(r.json["status"] as? String == "accepted")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"4"}"#), .created)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"2"}"#), .paymentRequired, reason: "spend_cap_exceeded")
            expect(try await client.post("/v1/identities/alice/entitlements", h.admin, #"{"pool":"eng","tiers":[1]}"#), .ok)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#), .forbidden, reason: "tier_not_allowed")
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1","tier":1}"#), .created)
            expect(try await client.post("/v1/identities/alice/entitlements", alice, #"{"pool":"eng"}"#), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/identities/alice/entitlements", h.admin, #"{"pool":"nowhere"}"#), .notFound, reason: "unknown_pool")
            expect(try await client.post("/v1/identities/nobody/entitlements", h.admin, #"{"pool":"eng"}"#), .notFound, reason: "unknown_identity")
            expect(try await client.post("/v1/identities/alice/entitlements", h.admin, #"{"pool":"eng","cap_period":"1d"}"#), .badRequest,
                   reason: "malformed_request")
            expect(try await client.post("/v1/identities/alice/entitlements", h.admin, #"{"pool":"eng","identity":"bob"}"#), .badRequest,
                   reason: "malformed_request")
            #expect(try await h.available(client) == "95")
        }
    }

    // MARK: Keys

    @Test func anAdminIssuesAKeyOverHTTPAndRevokesIt() async throws {
        try await Harness.withServer { h, client in
            let created = try await client.post("/v1/keys", h.admin, #"{"identity":"alice","expires_in":"1h"}"#, idempotencyKey: "key-req-1")
            expect(created, .created)
            let secret = try #require(created.json["secret"] as? String)
            let id = try #require(created.json["key_id"] as? String)
            #expect(created.json["identity"] as? String == "alice")
            #expect(created.json["expires_at"] is String)
            #expect(try h.store.key(id: id)?.secretSHA256 == APIKeys.sha256Hex(secret), "only the hash is stored")
            expect(try await client.post("/v1/debits", secret, #"{"pool":"eng","amount":"1"}"#), .created)

            // An identical retry is the first answer; the same key for another request is 422.
            let retry = try await client.post("/v1/keys", h.admin, #"{"expires_in":"60m","identity":"alice"}"#, idempotencyKey: "key-req-1")
            expect(retry, .created)
            #expect(retry.text == created.text)
            #expect(retry.headers[LedgerService.replayed] == "true")
            expect(try await client.post("/v1/keys", h.admin, #"{"identity":"bob"}"#, idempotencyKey: "key-req-1"), .unprocessableContent,
                   reason: "idempotency_key_reused")
            #expect(try h.store.keys().count == 2, "the admin's and alice's: no second key for the retry")

            let adminKey = try await client.post("/v1/keys", h.admin, #"{"admin":true}"#)
            expect(adminKey, .created)
            #expect(adminKey.json["admin"] as? Bool == true)
            expect(try await client.get("/v1/pools/eng/balance", adminKey.json["secret"] as? String), .ok)

            expect(try await client.post("/v1/keys", secret, #"{"identity":"alice"}"#), .forbidden, reason: "forbidden")
            expect(try await client.delete("/v1/keys/\(id)", secret), .forbidden, reason: "forbidden")
            let revoked = try await client.delete("/v1/keys/\(id)", h.admin)
            expect(revoked, .ok)
            #expect(revoked.json["status"] as? String == "revoked")
            expect(try await client.post("/v1/debits", secret, #"{"pool":"eng","amount":"1"}"#), .unauthorized, reason: "unauthorized")
            expect(try await client.delete("/v1/keys/\(id)", h.admin), .ok)
            expect(try await client.delete("/v1/keys/key_0000000000000000", h.admin), .notFound, reason: "unknown_key")
            #expect(try await h.available(client) == "99")
        }
    }

    @Test func aKeyRequestIsStrict() async throws {
        try await Harness.withServer { h, client in
            for (body, status, reason) in [
                (#"{}"#, HTTPResponse.Status.badRequest, "malformed_request"),
                (#"{"identity":"alice","admin":true}"#, .badRequest, "malformed_request"),
                (#"{"identity":"alice","admin":false}"#, .created, nil),
                (#"{"identity":"alice","expires_in":"0s"}"#, .badRequest, "malformed_request"),
                (#"{"identity":"alice","expires_in":"90"}"#, .badRequest, "malformed_request"),
                (#"{"identity":"alice","expires_in":90}"#, .badRequest, "malformed_request"),
                (#"{"identity":"alice","scope":"all"}"#, .badRequest, "malformed_request"),
                (#"{"identity":"alice","identity":"bob"}"#, .badRequest, "malformed_request"),
                (#"{"admin":"yes"}"#, .badRequest, "malformed_request"),
                (#"{"identity":"nobody"}"#, .notFound, "unknown_identity"),
            ] as [(String, HTTPResponse.Status, String?)] {
                let r = try await client.post("/v1/keys", h.admin, body)
                expect(r, status, reason: reason)
            }
            expect(try await client.post("/v1/keys", h.admin, #"{"admin":true}"#, idempotencyKey: ""), .badRequest, reason: "malformed_request")
            #expect(try h.store.keys().count == 2)
        }
    }

    /// A retry that reaches a new server process cannot be shown the secret: it is told which
    /// key to revoke, and no second key is made.
    @Test func aKeyRetryAfterARestartIsToldTheSecretIsGone() async throws {
        try await Harness.withServer { h, client in
            expect(try await client.post("/v1/keys", h.admin, #"{"identity":"bob"}"#, idempotencyKey: "key-restart"), .created)
            // A second service on the same store: the memory of the first one's answers is gone.
            try await Harness.serve(LedgerService(store: h.store)) { restarted in
                let r = try await restarted.post("/v1/keys", h.admin, #"{"identity":"bob"}"#, idempotencyKey: "key-restart")
                expect(r, .conflict, reason: "secret_not_recoverable")
                expect(try await restarted.post("/v1/keys", h.admin, #"{"identity":"alice"}"#, idempotencyKey: "key-restart"),
                       .unprocessableContent, reason: "idempotency_key_reused")
            }
            #expect(try h.store.keys().count == 2)
        }
    }
}
