import Foundation
import HTTPTypes
import Ledger
import LedgerStore
import NIOCore
import Testing

@testable import Service

/// Bad input on every write route and at the HTTP level: each is a 4xx problem (or, below the
/// service, a 4xx status line), nothing is journaled or stored, and the server keeps serving.
@Suite struct ServiceInputTests {
    /// What "nothing changed" compares: the journal's last sequence number, the pool's balance
    /// and the number of keys.
    func fingerprint(_ h: Harness, _ client: HTTPClient) async throws -> String {
        "\(await h.store.state.lastSeq) \(try await h.available(client) ?? "?") \(try h.store.keys().count)"
    }

    @Test func badBodiesOnEveryWriteRouteAre4xxAndChangeNothing() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let hold = try #require(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"1"}"#).json["hold"] as? String)
            let before = try await fingerprint(h, client)
            let routes: [(String, String, String)] = [  // path, key, a valid body to spoil
                ("/v1/pools", h.admin, #"{"pool":"p2""#),
                ("/v1/identities", h.admin, #"{"identity":"carol","pools":["eng"]"#),
                ("/v1/identities/alice/entitlements", h.admin, #"{"pool":"eng""#),
                ("/v1/identities/alice/suspend", h.admin, #"{"#),
                ("/v1/pools/eng/grants", h.admin, #"{"amount":"1""#),
                ("/v1/debits", alice, #"{"pool":"eng","amount":"1""#),
                ("/v1/holds", alice, #"{"pool":"eng","amount":"1""#),
                ("/v1/holds/\(hold)/capture", alice, #"{"amount":"1""#),
                ("/v1/holds/\(hold)/release", alice, #"{"#),
                ("/v1/keys", h.admin, #"{"identity":"alice""#),
            ]
            for (path, key, open) in routes {
                let separator = open.hasSuffix("{") ? "" : ","
                let bodies = [
                    open,  // unterminated
                    open + separator + #""surplus":1}"#,  // unknown field
                    open + separator + #""amount":-1}"#,  // negative, or a duplicate / unknown field
                    open + separator + #""amount":"0.0000001"}"#,
                    open + "}}",
                    "[" + open + "}]",
                    open + separator + #""nested":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}"#,
                    "\u{FEFF}" + open + "}",
                    open + separator + "\"bad\u{0001}\":1}",
                    "null", "1", #""text""#, "{\"pool\":\"e\u{0}ng\"}",
                ]
                for body in bodies {
                    let r = try await client.post(path, key, body)
                    #expect((400..<500).contains(r.status.code), "\(path) \(body) → \(r.status) \(r.text)")
                    #expect(r.headers[.contentType] == "application/problem+json", "\(path) \(body)")
                }
                // Invalid UTF-8 is refused, not repaired.
                var bytes = ByteBuffer(string: open + separator + #""x":""#)
                bytes.writeBytes([0xC3, 0x28])
                bytes.writeString(#""}"#)
                let r = try await client.send(path, .post, [.authorization: "Bearer \(key)", HTTPField.Name("Idempotency-Key")!: freshKey()], bytes)
                expect(r, .badRequest, reason: "malformed_request")
            }
            // Wrong types and inexact amounts, one field at a time (an exact JSON number is an
            // amount too, as in `ledger apply`).
            for body in [#"{"pool":1,"amount":"1"}"#, #"{"pool":"eng","amount":1.0000001}"#, #"{"pool":"eng","amount":-1}"#, #"{"pool":"eng","amount":"1.1.1"}"#, #"{"pool":"eng","amount":"1","tier":"0"}"#,
                         #"{"pool":"eng","amount":"1","tier":0.5}"#, #"{"pool":"eng","amount":"1","tier":64}"#, #"{"pool":["eng"],"amount":"1"}"#,
                         #"{"pool":"eng","amount":null}"#, #"{"pool":"eng","amount":"1.5e2"}"#, #"{"pool":"eng","amount":" 1"}"#,
                         #"{"pool":"eng","amount":"99999999999999999999"}"#, #"{"pool":"eng","amount":"0"}"#] {
                let r = try await client.post("/v1/debits", alice, body)
                #expect(r.status == .badRequest, "\(body) → \(r.text)")
            }
            #expect(try await fingerprint(h, client) == before)
            expect(try await client.post("/v1/debits", alice, #"{"pool":"eng","amount":"1"}"#), .created)
        }
    }

    @Test func aBodyOverTheLimitIs413AndTheServerKeepsServing() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let before = try await fingerprint(h, client)
            let huge = #"{"pool":"eng","amount":"1","tier":0"# + String(repeating: " ", count: LedgerService.maxBodyBytes) + "}"
            expect(try await client.post("/v1/debits", alice, huge), .contentTooLarge, reason: "body_too_large")
            expect(try await client.post("/v1/keys", h.admin, #"{"admin":true"# + String(repeating: " ", count: 4 * LedgerService.maxBodyBytes) + "}"),
                   .contentTooLarge, reason: "body_too_large")
            // Chunked, with no length given up front.
            let chunks = (0..<40).map { _ in String(repeating: " ", count: 1024) }.joined()
            let head = "POST /v1/debits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(alice)\r\nIdempotency-Key: chunked-1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            let body = String(chunks.utf8.count, radix: 16) + "\r\n" + chunks + "\r\n0\r\n\r\n"
            let answer = try await client.raw(Array((head + body).utf8))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
            #expect(try await fingerprint(h, client) == before)
            expect(try await client.get("/healthz", nil), .ok)
        }
    }

    @Test func headerAbuseIs4xxAndTheServerKeepsServing() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let before = try await fingerprint(h, client)
            let debit = #"{"pool":"eng","amount":"1"}"#
            func request(_ headers: [String], body: String = debit) -> [UInt8] {
                Array(("POST /v1/debits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers.map { $0 + "\r\n" }.joined()
                       + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
            }
            let auth = "Authorization: Bearer \(alice)"
            let cases: [(String, [UInt8])] = [
                ("two Authorization headers", request([auth, auth, "Idempotency-Key: h-1"])),
                ("two Idempotency-Key headers", request([auth, "Idempotency-Key: h-2", "Idempotency-Key: h-3"])),
                ("an Idempotency-Key of 256 characters", request([auth, "Idempotency-Key: " + String(repeating: "k", count: 256)])),
                ("an Idempotency-Key with a control character", request([auth, "Idempotency-Key: a\u{1}b"])),
                ("a basic scheme", request(["Authorization: Basic YWxpY2U6cGFzcw==", "Idempotency-Key: h-4"])),
                ("a 16 KiB secret", request(["Authorization: Bearer brk_key_" + String(repeating: "a", count: 16 * 1024), "Idempotency-Key: h-5"])),
                ("a 100 KiB header", request([auth, "Idempotency-Key: h-6", "X-Filler: " + String(repeating: "x", count: 100 * 1024)])),
                ("10,000 headers", request([auth, "Idempotency-Key: h-7"] + (0..<10_000).map { "X-\($0): y" })),
                ("a Content-Length that is not a number",
                 Array("POST /v1/debits HTTP/1.1\r\nHost: x\r\n\(auth)\r\nIdempotency-Key: h-8\r\nContent-Length: abc\r\n\r\n\(debit)".utf8)),
                ("Content-Length and Transfer-Encoding together",
                 Array("POST /v1/debits HTTP/1.1\r\nHost: x\r\n\(auth)\r\nIdempotency-Key: h-9\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8)),
                ("a header without a colon", request([auth, "Idempotency-Key: h-10", "NoColonHere"])),
                ("a bare LF in a header value", request([auth, "Idempotency-Key: h-11\nX-Injected: 1"])),
                ("a request line of garbage", Array("\u{1}\u{2}GARBAGE / HTTP/9.9\r\n\r\n".utf8)),
            ]
            for (name, bytes) in cases {
                let answer = try await client.raw(bytes)
                let status = answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
                #expect(status.map { (400..<500).contains($0) } == true, "\(name) → \(answer.prefix(300))")
                expect(try await client.get("/healthz", nil), .ok)
            }
            #expect(try await fingerprint(h, client) == before)
            expect(try await client.post("/v1/debits", alice, debit), .created)
        }
    }

    // MARK: Identity before balance, holds, retries

    /// An admin acting for another identity cannot capture or release a hold that is not that
    /// identity's; nor can an identity key name another identity in the body.
    @Test func aHoldIsSettledOnlyAsItsOwnIdentityEvenByAnAdmin() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice"), bob = try await h.key(for: "bob")
            let id = try #require(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10"}"#).json["hold"] as? String)
            expect(try await client.post("/v1/holds/\(id)/capture", h.admin, #"{"identity":"bob","amount":"1"}"#), .forbidden, reason: "hold_not_owned")
            expect(try await client.post("/v1/holds/\(id)/capture", bob, #"{"identity":"alice","amount":"1"}"#), .forbidden, reason: "forbidden")
            expect(try await client.post("/v1/holds/\(id)/release", h.admin, #"{"identity":"bob"}"#), .forbidden, reason: "hold_not_owned")
            #expect(try await client.get("/v1/pools/eng/balance", h.admin).json["held_credits"] as? String == "10")
            expect(try await client.post("/v1/holds/\(id)/capture", h.admin, #"{"identity":"alice","amount":"3"}"#), .ok)
            #expect(try await h.available(client) == "97")
        }
    }

    /// A suspended identity asking beyond the balance of a pool it is not entitled to, with a
    /// tier it may not use: the identity is refused first, whatever else is wrong.
    @Test func identityRefusalsComeBeforeEveryBalanceRefusal() async throws {
        try await Harness.withServer(fundCredits: "1") { h, client in
            let bob = try await h.key(for: "bob")
            expect(try await client.post("/v1/identities/bob/entitlements", h.admin, #"{"pool":"eng","cap":"0.5"}"#), .ok)
            expect(try await client.post("/v1/identities/bob/suspend", h.admin, "{}"), .ok)
            for body in [#"{"pool":"eng","amount":"1000"}"#, #"{"pool":"eng","amount":"0.75"}"#] {
                expect(try await client.post("/v1/debits", bob, body), .forbidden, reason: "identity_suspended")
                expect(try await client.post("/v1/holds", bob, body), .forbidden, reason: "identity_suspended")
            }
            expect(try await client.post("/v1/identities/bob/resume", h.admin, "{}"), .ok)
            expect(try await client.post("/v1/debits", bob, #"{"pool":"eng","amount":"0.75"}"#), .paymentRequired, reason: "spend_cap_exceeded")
            expect(try await client.post("/v1/debits", bob, #"{"pool":"eng","amount":"1000"}"#), .paymentRequired)
            #expect(try await h.available(client) == "1")
        }
    }

    /// The retry of an authorize with `expires_in` comes later than the first, but it is the same
    /// request: the same hold, the same expiry, nothing held twice; a different expires_in is 422.
    @Test func aRetriedAuthorizeWithExpiresInIsTheSameHold() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let body = #"{"pool":"eng","amount":"10","expires_in":"2s"}"#
            let first = try await client.post("/v1/holds", alice, body, idempotencyKey: "auth-exp")
            expect(first, .created)
            try await Task.sleep(for: .milliseconds(1_100))
            let retry = try await client.post("/v1/holds", alice, body, idempotencyKey: "auth-exp")
            expect(retry, .created)
            #expect(retry.text == first.text)
            #expect(retry.headers[LedgerService.replayed] == "true")
            expect(try await client.post("/v1/holds", alice, #"{"pool":"eng","amount":"10","expires_in":"3s"}"#, idempotencyKey: "auth-exp"),
                   .unprocessableContent, reason: "idempotency_key_reused")
            #expect(try await client.get("/v1/pools/eng/balance", alice).json["held_credits"] as? String == "10")
        }
    }
}
