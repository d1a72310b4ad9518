import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import LedgerStore
import Logging
import Synchronization

/// The ledger over HTTP (DESIGN.md, "The ledger service"). Every request is authenticated before
/// anything of the ledger is read; write bodies are mapped onto the ops of `ledger apply` and
/// decoded by the same strict rules; an answer is sent only once its command is durable (the
/// store's group commit).
public struct LedgerService: Sendable {
    public let store: LedgerStore
    /// Idempotency keys whose first request has not been answered yet: a repeat meanwhile is 409.
    let inFlight = InFlightKeys()
    /// The wall clock in milliseconds (a parameter so that tests can move key expiry).
    let nowMs: @Sendable () -> Int64

    /// The largest request body read (bytes); a larger one is a 400 and is not read further.
    /// Well under the 64 KiB line limit of the op decoder, which also sees the added fields.
    public static let maxBodyBytes = 32 * 1024
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    public init(store: LedgerStore, nowMs: @escaping @Sendable () -> Int64 = LedgerService.wallClockMs) {
        self.store = store
        self.nowMs = nowMs
    }

    public static func wallClockMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The HTTP application on `host:port` (port 0: a free port); `onReady` gets the bound port.
    public func application(host: String, port: Int, logger: Logger = Logger(label: "burnrate.serve"),
                            onReady: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol
    {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port)),
                    onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: requests in flight are answered first.
    public func run(host: String, port: Int, onReady: @escaping @Sendable (Int) async -> Void) async throws {
        try await application(host: host, port: port, onReady: onReady).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        // The store recovered its journal when it opened, before the server was started.
        router.get("/readyz") { _, _ in
            let seq = await self.store.state.lastSeq
            return Self.json(.ok, #"{"last_seq":\#(seq),"status":"ready"}"#)
        }
        router.get("/v1/pools/:pool/balance") { request, context in
            await self.respond { try await self.balance(request, pool: context.parameters.get("pool") ?? "") }
        }
        for route in WriteRoute.all {
            router.post(RouterPath(route.path)) { request, context in
                await self.respond { try await self.write(route, request, context) }
            }
        }
        return router
    }

    func respond(_ work: () async throws -> Response) async -> Response {
        do { return try await work() } catch let problem as Problem {
            return problem.response
        } catch {
            return Problem(status: .serviceUnavailable, reason: "storage_failure", detail: "the command could not be made durable: \(error)").response
        }
    }

    // MARK: Authentication

    func authenticate(_ request: Request) throws -> APIKeyRecord {
        let values = request.headers[values: .authorization]
        guard values.count == 1, let value = values.first else {
            throw Problem.unauthorized(values.isEmpty ? "an API key is required: Authorization: Bearer <secret>" : "one Authorization header, not \(values.count)")
        }
        guard value.hasPrefix("Bearer "), let record = try APIKeys.authenticate(String(value.dropFirst(7)), in: store, nowMs: nowMs()) else {
            throw Problem.unauthorized("the API key is unknown, expired or revoked")
        }
        return record
    }

    // MARK: Reads

    func balance(_ request: Request, pool name: String) async throws -> Response {
        let key = try authenticate(request)
        let ledger = await store.state
        guard let pool = ledger.pool(named: name), let balance = ledger.balance(of: pool) else {
            throw Problem(status: .notFound, reason: "unknown_pool", detail: "no pool '\(OperationFieldsText.printable(name))'")
        }
        if let identity = key.identity {
            guard let id = ledger.identity(named: identity), ledger.isEntitled(id, to: pool) else {
                throw Problem.forbidden("identity '\(identity)' is not entitled to pool '\(name)'", reason: "not_entitled")
            }
        }
        let body = StrictJSON.serialise(.object([
            JSONField("available_credits", .string(Money.formatCredits(balance.availableMicrocredits))),
            JSONField("held_credits", .string(Money.formatCredits(balance.heldMicrocredits))),
            JSONField("pool", .string(name)),
            JSONField("total_credits", .string(Money.formatCredits(balance.totalMicrocredits))),
        ]))
        return Self.json(.ok, body)
    }

    // MARK: Writes

    func write(_ route: WriteRoute, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try authenticate(request)
        if route.caller == .admin, !key.admin { throw Problem.forbidden("this route needs an admin key") }
        let idempotencyKeys = request.headers[values: Self.idempotencyKey]
        guard idempotencyKeys.count == 1, let idempotencyKey = idempotencyKeys.first, !idempotencyKey.isEmpty else {
            throw Problem.malformed(idempotencyKeys.count > 1 ? "one Idempotency-Key header, not \(idempotencyKeys.count)"
                                                            : "every POST needs an Idempotency-Key header (1–255 characters)")
        }
        let fields = try await bodyFields(request)
        var object = [JSONField("op", .string(route.op)), JSONField("key", .string(idempotencyKey))]
        for (parameter, field) in route.pathFields {
            if fields.contains(where: { $0.key == field }) { throw Problem.malformed("'\(field)' is given by the path, not the body", field: field) }
            object.append(JSONField(field, .string(context.parameters.get(parameter) ?? "")))
        }
        for field in fields where field.key == "op" || field.key == "key" {
            throw Problem.malformed("'\(field.key)': unknown field", field: field.key)
        }
        if route.caller == .actingIdentity {
            let named = fields.first(where: { $0.key == "identity" })?.value
            if let identity = key.identity {
                if let named, named != .string(identity) {
                    throw Problem.forbidden("an identity key acts only as its identity ('\(identity)')")
                }
                if named == nil { object.append(JSONField("identity", .string(identity))) }
            } else if named == nil {
                throw Problem.malformed("an admin key names the identity it acts for: 'identity' is required", field: "identity")
            }
        }
        object += fields
        let operation: LedgerOperation
        do throws(LedgerOperation.OperationError) { operation = try LedgerOperation.parse(StrictJSON.serialise(.object(object))) } catch {
            if error.field == "key" { throw Problem.malformed("Idempotency-Key: \(error.message.replacingOccurrences(of: "'key': ", with: ""))") }
            throw Problem.malformed(error.message, field: error.field)
        }

        guard inFlight.insert(idempotencyKey) else {
            throw Problem(status: .conflict, reason: "request_in_flight", detail: "a request with this Idempotency-Key is still being answered")
        }
        defer { inFlight.remove(idempotencyKey) }
        let (outcomes, replayed) = try await apply(operation)
        if let refusal = outcomes.first(where: { !$0.isAccepted })?.refusal { throw Problem.refused(refusal) }
        var response = Self.json(route.created ? .created : .ok, operation.answer(outcomes))
        if replayed { response.headers[Self.replayed] = "true" }
        return response
    }

    /// The body as JSON fields: an object, decoded strictly; an empty body is `{}`.
    func bodyFields(_ request: Request) async throws -> [JSONField] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: Self.maxBodyBytes) } catch {
            throw Problem.malformed("the body is larger than \(Self.maxBodyBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { return [] }
        // Invalid UTF-8 is an error of its own, never repaired into U+FFFD.
        guard let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
              text.utf8.elementsEqual(buffer.readableBytesView) else { throw Problem.malformed("the body is not valid UTF-8") }
        let value: JSONValue
        do throws(JSONSyntaxError) { value = try StrictJSON.parse(text) } catch { throw Problem.malformed("not valid JSON: \(error)", field: error.field) }
        guard case .object(let fields) = value else { throw Problem.malformed("the body must be a JSON object, got \(value.kind)") }
        return fields
    }

    /// Applies an operation durably; `replayed` when the ledger answered it from its memory of
    /// the key (the first answer, nothing journaled), which the service tells with
    /// `Idempotent-Replayed: true`.
    func apply(_ operation: LedgerOperation) async throws -> ([Outcome], replayed: Bool) {
        let probe = ApplyProbe()
        let now = nowMs()
        let outcomes = try await store.submit { ledger in
            probe.state.withLock { $0.seqBefore = ledger.lastSeq }
            switch operation.requests(in: ledger, at: max(now, ledger.nowMs)) {
            case .success(let requests): return requests
            case .failure(let e): probe.state.withLock { $0.failure = e }; return []
            }
        }
        let (seqBefore, failure) = probe.state.withLock { ($0.seqBefore, $0.failure) }
        if let failure {
            // A name that resolves to nothing is an unknown resource; anything else is bad input.
            let unknown = ["pool", "parent", "pools", "identity", "from", "to"].contains(failure.field ?? "")
            if unknown {
                let reason = failure.field == "identity" ? "unknown_identity" : "unknown_pool"
                throw Problem(status: .notFound, reason: reason, detail: failure.message)
            }
            throw Problem.malformed(failure.message, field: failure.field)
        }
        let replayed = outcomes.first?.acceptance.map { $0.seq <= seqBefore } ?? false
        return (outcomes, replayed)
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// What the builder closure saw: the ledger's last sequence number before the command (a replay
/// answers with an older one), and a name that did not resolve.
final class ApplyProbe: Sendable {
    let state = Mutex<(seqBefore: UInt64, failure: LedgerOperation.OperationError?)>((0, nil))
}

/// The idempotency keys being answered now.
final class InFlightKeys: Sendable {
    private let keys = Mutex<Set<String>>([])
    /// False when the key is already in flight.
    func insert(_ key: String) -> Bool { keys.withLock { $0.insert(key).inserted } }
    func remove(_ key: String) { _ = keys.withLock { $0.remove(key) } }
}

enum OperationFieldsText {
    /// A name as it may be printed back: at most 128 characters, controls shown as `?`.
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(128).map { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) ? "?" : $0 }))
    }
}
