import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore
import Testing

@testable import Service

/// Delegations over HTTP (DESIGN.md, "The ledger service" and "Delegation"): an identity key acts
/// only as its identity, the delegator to delegate and close, the holder to spend.
@Suite struct ServiceDelegationTests {
    @Test func aPlannerDelegatesASubAgentSpendsThroughItAndThePlannerClosesIt() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            let made = try await client.post("/v1/delegations", alice, #"{"child":"researcher","pool":"eng","amount":"10","expires_in":"1h"}"#)
            expect(made, .created)
            let id = try #require(made.json["delegation"] as? Int)
            #expect(made.json["status"] as? String == "accepted")
            #expect(try await h.available(client) == "90")

            let researcher = try await h.key(for: "researcher")
            // The holder spends through it; the child has no pool of its own.
            expect(try await client.post("/v1/debits", researcher, #"{"pool":"eng","amount":"1"}"#), .forbidden, reason: "not_entitled")
            let debit = try await client.post("/v1/debits", researcher, #"{"delegation":\#(id),"amount":"2.5"}"#)
            expect(debit, .created)
            #expect(debit.json["charged_credits"] as? String == "2.5" && debit.json["delegation"] as? Int == id)
            // Beyond the delegation's amount: 402 with what it has left.
            let short = try await client.post("/v1/debits", researcher, #"{"delegation":\#(id),"amount":"8"}"#)
            expect(short, .paymentRequired, reason: "insufficient_funds")
            #expect(short.json["available_credits"] as? String == "7.5")
            // A hold through it, captured.
            let hold = try await client.post("/v1/holds", researcher, #"{"delegation":\#(id),"amount":"2"}"#)
            expect(hold, .created)
            let holdID = try #require(hold.json["hold"] as? String)
            expect(try await client.post("/v1/holds/\(holdID)/capture", researcher, #"{"amount":"1.5","delegation":\#(id)}"#), .ok)

            // Another identity may neither spend through it nor close it.
            let bob = try await h.key(for: "bob")
            expect(try await client.post("/v1/debits", bob, #"{"delegation":\#(id),"amount":"1"}"#), .forbidden, reason: "delegation_not_owned")
            expect(try await client.post("/v1/delegations/\(id)/close", bob, "{}"), .forbidden, reason: "delegation_not_owned")
            // An identity key acts only as its identity, here too.
            expect(try await client.post("/v1/delegations/\(id)/close", researcher, #"{"identity":"alice"}"#), .forbidden)
            // The holder does not close what it was given.
            expect(try await client.post("/v1/delegations/\(id)/close", researcher, "{}"), .forbidden, reason: "delegation_not_owned")

            let closed = try await client.post("/v1/delegations/\(id)/close", alice, "{}")
            expect(closed, .ok)
            #expect(closed.json["released_credits"] as? String == "6")
            #expect(try await h.available(client) == "96")
            expect(try await client.post("/v1/debits", researcher, #"{"delegation":\#(id),"amount":"1"}"#), .conflict, reason: "delegation_closed")
            expect(try await client.post("/v1/delegations/\(id + 7)/close", alice, "{}"), .notFound, reason: "unknown_delegation")
        }
    }

    @Test func subDelegationsStopAtTheDepthLimitAndAnAdminClosesWithoutNamingAnyone() async throws {
        try await Harness.withServer { h, client in
            let alice = try await h.key(for: "alice")
            var parent = try #require(try await client.post("/v1/delegations", alice, #"{"child":"a1","pool":"eng","amount":"10"}"#).json["delegation"] as? Int)
            let root = parent
            for level in 2...4 {
                let holder = try await h.key(for: "a\(level - 1)")
                let made = try await client.post("/v1/delegations", holder, #"{"child":"a\#(level)","delegation":\#(parent),"amount":"\#(10 - level)"}"#)
                expect(made, .created)
                parent = try #require(made.json["delegation"] as? Int)
            }
            let deepest = try await h.key(for: "a4")
            expect(try await client.post("/v1/delegations", deepest, #"{"child":"a5","delegation":\#(parent),"amount":"1"}"#),
                   .forbidden, reason: "delegation_depth_exceeded")
            // Strict body: both sources, or a negative amount, are malformed.
            expect(try await client.post("/v1/delegations", alice, #"{"child":"x","pool":"eng","delegation":0,"amount":"1"}"#), .badRequest)
            expect(try await client.post("/v1/delegations", alice, #"{"child":"x","pool":"eng","amount":"-1"}"#), .badRequest)
            expect(try await client.post("/v1/delegations", alice, #"{"child":"x","pool":"eng","amount":"1","ttl":"1h"}"#), .badRequest)
            // Suspending alice closes everything she handed down.
            expect(try await client.post("/v1/identities/alice/suspend", h.admin, "{}"), .ok)
            #expect(try await h.available(client) == "100")
            expect(try await client.post("/v1/debits", deepest, #"{"delegation":\#(parent),"amount":"1"}"#), .conflict, reason: "delegation_closed")
            // An admin closes without naming an identity.
            expect(try await client.post("/v1/identities/alice/resume", h.admin, "{}"), .ok)
            let again = try #require(try await client.post("/v1/delegations", alice, #"{"child":"a1","pool":"eng","amount":"3"}"#).json["delegation"] as? Int)
            #expect(again != root)
            let closed = try await client.post("/v1/delegations/\(again)/close", h.admin, "{}")
            expect(closed, .ok)
            #expect(closed.json["released_credits"] as? String == "3")
        }
    }
}
