import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

@testable import Service

/// A ledger service on a fresh database, served on a free loopback port, with an admin key and,
/// after `setUp`, a pool `eng` funded with `fundCredits`, identities `alice` and `bob` entitled
/// to it and a key for each.
struct Harness {
    let store: LedgerStore
    let service: LedgerService
    let path: String
    let admin: String

    static func withServer(fundCredits: String? = "100", _ test: @Sendable (Harness, HTTPClient) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("service-\(UUID().uuidString).db").path
        defer { LedgerStore.remove(path: path) }
        let store = try await LedgerStore(path: path)
        let admin = try await Self.key(store, identity: nil)
        let harness = Harness(store: store, service: LedgerService(store: store), path: path, admin: admin)
        try await serve(harness.service) { client in
            if let fundCredits { try await harness.setUp(client, fundCredits: fundCredits) }
            try await test(harness, client)
        }
        try await store.close()
    }

    /// Runs `service` on 127.0.0.1, port 0, for the length of `body`, then stops it gracefully.
    static func serve(_ service: LedgerService, _ body: @Sendable (HTTPClient) async throws -> Void) async throws {
        let (ports, ready) = AsyncStream.makeStream(of: Int.self)
        let quiet = Logger(label: "service-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = service.application(host: "127.0.0.1", port: 0, logger: quiet, onReady: { ready.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { ready.finish() }
                try await group.run()
            }
            var outcome: Result<Void, any Error> = .success(())
            var iterator = ports.makeAsyncIterator()
            if let port = await iterator.next() {
                do { try await body(HTTPClient(host: "127.0.0.1", port: port)) } catch { outcome = .failure(error) }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try outcome.get()
        }
    }

    /// A new key's secret, stored as the CLI stores it.
    static func key(_ store: LedgerStore, identity: String?, nowMs: Int64 = LedgerService.wallClockMs(), expiresInMs: Int64? = nil) async throws -> String {
        let issued = APIKeys.issue(identity: identity, admin: identity == nil, nowMs: nowMs, expiresInMs: expiresInMs)
        try await store.insertKey(issued.record)
        return issued.secret
    }

    func key(for identity: String) async throws -> String { try await Self.key(store, identity: identity) }

    func setUp(_ client: HTTPClient, fundCredits: String) async throws {
        expect(try await client.post("/v1/pools", admin, #"{"pool":"eng"}"#), .created)
        expect(try await client.post("/v1/identities", admin, #"{"identity":"alice","pools":["eng"]}"#), .created)
        expect(try await client.post("/v1/identities", admin, #"{"identity":"bob","pools":["eng"]}"#), .created)
        expect(try await client.post("/v1/pools/eng/grants", admin, #"{"amount":"\#(fundCredits)"}"#), .created)
    }

    func available(_ client: HTTPClient, pool: String = "eng") async throws -> String? {
        let r = try await client.get("/v1/pools/\(pool)/balance", admin)
        return r.json["available_credits"] as? String
    }
}

func expect(_ response: Reply, _ status: HTTPResponse.Status, reason: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "body: \(response.text)", sourceLocation: sourceLocation)
    if let reason {
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(response.json["reason"] as? String == reason, "body: \(response.text)", sourceLocation: sourceLocation)
        #expect(response.json["status"] as? Int == Int(status.code), sourceLocation: sourceLocation)
        for member in ["type", "title", "detail"] { #expect(response.json[member] is String, "\(member) in \(response.text)", sourceLocation: sourceLocation) }
    }
}

/// A response as the tests read it.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var text: String
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

/// A counter for fresh idempotency keys.
let idempotencyCounter = Mutex(0)
func freshKey() -> String { "k-\(idempotencyCounter.withLock { $0 += 1; return $0 })-\(UUID().uuidString)" }

/// What sends the tests' requests.
protocol Requester: Sendable {
    func send(_ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer?) async throws -> Reply
}

extension Requester {
    /// A POST with `Authorization: Bearer secret` and an `Idempotency-Key` (fresh unless given;
    /// `idempotencyKey: ""` sends none).
    func post(_ uri: String, _ secret: String?, _ body: String, idempotencyKey: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let secret { headers[.authorization] = "Bearer \(secret)" }
        let key = idempotencyKey ?? freshKey()
        if !key.isEmpty { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await send(uri, .post, headers, ByteBuffer(string: body))
    }

    func get(_ uri: String, _ secret: String?) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let secret { headers[.authorization] = "Bearer \(secret)" }
        return try await send(uri, .get, headers, nil)
    }

    func delete(_ uri: String, _ secret: String?) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let secret { headers[.authorization] = "Bearer \(secret)" }
        return try await send(uri, .delete, headers, nil)
    }
}
