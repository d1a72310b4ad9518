import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Ledger
import LedgerStore
import Logging
import NIOCore
import Synchronization

/// The ledger over HTTP (DESIGN.md, "The ledger service"). Every request is authenticated before
/// anything of the ledger is read; write bodies are mapped onto the ops of `ledger apply` and
/// decoded by the same strict rules; an answer is sent only once its command is durable (the
/// store's group commit).
public struct LedgerService: Sendable {
    /// The ledger: one SQLite file, or a PostgreSQL database shared with other instances.
    public let store: any DurableLedger
    /// Idempotency keys whose first request has not been answered yet: a repeat meanwhile is 409.
    let inFlight = InFlightKeys()
    /// The wall clock in milliseconds (a parameter so that tests can move key expiry).
    let nowMs: @Sendable () -> Int64
    let metrics = ServiceMetrics()
    /// The answers of `POST /v1/keys`, secrets included, in memory only (never stored), so that an
    /// identical retry gets the same key while this process runs.
    let issuedKeys = IssuedKeyAnswers()
    /// The key records authenticated so far (see `APIKeys.authenticate`).
    let keyCache = KeyRecordCache()

    /// The largest request body read (bytes); a larger one is a 400 and is not read further.
    /// Well under the 64 KiB line limit of the op decoder, which also sees the added fields.
    public static let maxBodyBytes = 32 * 1024
    /// How long an answer of `POST /v1/keys` is remembered for a retry: the ledger's retention window.
    static let keyAnswerRetentionMs: Int64 = 24 * Millis.hour
    /// HTTP/1.1 limits: headers of at most 8 KiB each, 32 KiB and 100 fields in all (a request
    /// over them is answered 4xx and its connection closed), and idle connections closed after a minute.
    static let http1 = HTTP1Channel.Configuration(
        idleTimeout: .seconds(60),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    public init(store: any DurableLedger, nowMs: @escaping @Sendable () -> Int64 = LedgerService.wallClockMs) {
        self.store = store
        self.nowMs = nowMs
        store.commitObservers.add { [metrics] commands in metrics.recordCommit(commands: commands) }
    }

    public static func wallClockMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// The HTTP application on `host:port` (port 0: a free port); `onReady` gets the bound port.
    public func application(host: String, port: Int, logger: Logger = Logger(label: "burnrate.serve"),
                            onReady: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol
    {
        Application(router: router(), server: .http1(configuration: Self.http1), configuration: .init(address: .hostname(host, port: port)),
                    onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully: requests in flight are answered first.
    public func run(host: String, port: Int, onReady: @escaping @Sendable (Int) async -> Void) async throws {
        try await application(host: host, port: port, onReady: onReady).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: EdgeMiddleware(metrics: metrics))
        router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        // The store recovered its journal when it opened, before the server was started.
        router.get("/readyz") { _, _ in
            let seq = await self.store.state.lastSeq
            return Self.json(.ok, #"{"last_seq":\#(seq),"status":"ready"}"#)
        }
        router.get("/metrics") { _, _ in
            let text = self.metrics.exposition(await self.store.state)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.get("/v1/pools/:pool/balance") { request, context in
            await self.respond { try await self.balance(request, pool: context.parameters.get("pool") ?? "") }
        }
        router.get("/v1/pools/:pool/statement") { request, context in
            await self.respond { try await self.statement(request, pool: context.parameters.get("pool") ?? "") }
        }
        router.post("/v1/keys") { request, _ in
            await self.respond { try await self.createKey(request) }
        }
        router.delete("/v1/keys/:key_id") { request, context in
            await self.respond { try await self.revokeKey(request, id: context.parameters.get("key_id") ?? "") }
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
            // Never a refusal: the command was not acknowledged (for a shared ledger: the
            // transaction failed or its outcome is unknown), and a retry with the same
            // Idempotency-Key, on this instance or another, is answered exactly once.
            var response = Problem(status: .serviceUnavailable, reason: "storage_failure", detail: "the command could not be made durable: \(error)").response
            response.headers[.retryAfter] = "1"
            return response
        }
    }

    // MARK: Authentication

    func authenticate(_ request: Request) async throws -> APIKeyRecord {
        let values = request.headers[values: .authorization]
        guard values.count == 1, let value = values.first else {
            throw Problem.unauthorized(values.isEmpty ? "an API key is required: Authorization: Bearer <secret>" : "one Authorization header, not \(values.count)")
        }
        // A shared ledger's keys may be revoked by another instance at any moment: read each time.
        guard value.hasPrefix("Bearer "),
              let record = try await APIKeys.authenticate(String(value.dropFirst(7)), in: store, nowMs: nowMs(), cache: store.isShared ? nil : keyCache)
        else {
            throw Problem.unauthorized("the API key is unknown, expired or revoked")
        }
        return record
    }

    func requireAdmin(_ key: APIKeyRecord) throws {
        if !key.admin { throw Problem.forbidden("this route needs an admin key") }
    }

    /// The request's one `Idempotency-Key`, checked by the ledger's rules for keys.
    func idempotencyKey(_ request: Request) throws -> String {
        let values = request.headers[values: Self.idempotencyKey]
        guard values.count == 1, let key = values.first, !key.isEmpty else {
            throw Problem.malformed(values.count > 1 ? "one Idempotency-Key header, not \(values.count)"
                                                     : "every POST needs an Idempotency-Key header (1–255 characters)")
        }
        do throws(LedgerOperation.OperationError) { try LedgerOperation.checkKey(key) } catch {
            throw Problem.malformed("Idempotency-Key: \(error.message.replacingOccurrences(of: "'key': ", with: ""))")
        }
        return key
    }

    // MARK: Reads

    /// The pool `name`, if the key may read it: an admin key, or an identity key entitled to it.
    func readablePool(_ name: String, _ key: APIKeyRecord, _ ledger: Ledger) throws -> PoolID {
        guard let pool = ledger.pool(named: name), ledger.balance(of: pool) != nil else {
            throw Problem(status: .notFound, reason: "unknown_pool", detail: "no pool '\(OperationFieldsText.printable(name))'")
        }
        if let identity = key.identity {
            guard let id = ledger.identity(named: identity), ledger.isEntitled(id, to: pool) else {
                throw Problem.forbidden("identity '\(identity)' is not entitled to pool '\(name)'", reason: "not_entitled")
            }
        }
        return pool
    }

    func balance(_ request: Request, pool name: String) async throws -> Response {
        let key = try await authenticate(request)
        let ledger = try await store.committedState()
        let pool = try readablePool(name, key, ledger)
        guard let balance = ledger.balance(of: pool) else { throw Problem(status: .notFound, reason: "unknown_pool", detail: "no pool '\(name)'") }
        let body = StrictJSON.serialise(.object([
            JSONField("available_credits", .string(Money.formatCredits(balance.availableMicrocredits))),
            JSONField("held_credits", .string(Money.formatCredits(balance.heldMicrocredits))),
            JSONField("pool", .string(name)),
            JSONField("total_credits", .string(Money.formatCredits(balance.totalMicrocredits))),
        ]))
        return Self.json(.ok, body)
    }

    /// The most lines one statement page holds, and the default.
    static let statementMaxLimit = 1_000, statementDefaultLimit = 100

    /// `after` and `limit` of a statement query; any other parameter, a repeat or a value that is
    /// not a plain non-negative integer in range is a 400 naming it.
    func statementQuery(_ request: Request) throws -> (after: UInt64, limit: Int) {
        var after: UInt64 = 0, limit = Self.statementDefaultLimit
        var seen = Set<String>()
        for (name, value) in request.uri.queryParameters {
            let name = String(name), text = String(value)
            guard name == "after" || name == "limit" else { throw Problem.malformed("'\(OperationFieldsText.printable(name))': unknown query parameter; expected after, limit", field: OperationFieldsText.printable(name)) }
            guard seen.insert(name).inserted else { throw Problem.malformed("'\(name)' is given twice", field: name) }
            guard !text.isEmpty, text.utf8.count <= 19, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt64(text) else {
                throw Problem.malformed("'\(name)': expected a non-negative integer, got '\(OperationFieldsText.printable(text))'", field: name)
            }
            if name == "after" { after = n } else {
                guard (1...UInt64(Self.statementMaxLimit)).contains(n) else { throw Problem.malformed("'limit': expected 1–\(Self.statementMaxLimit)", field: "limit") }
                limit = Int(n)
            }
        }
        return (after, limit)
    }

    /// A pool's movements after journal sequence `after`, at most `limit` lines, in journal order.
    /// One record's lines (a debit drawn from several grants) are never split across pages; the
    /// statement is rebuilt from the journal, so its cost grows with the journal.
    func statement(_ request: Request, pool name: String) async throws -> Response {
        let key = try await authenticate(request)
        let (after, limit) = try statementQuery(request)
        let ledger = try await store.committedState()
        let pool = try readablePool(name, key, ledger)
        let records = try await store.journalRecords()
        let statement = Statement(records: records, pool: pool, fromMs: .min, toMs: .max)
        let rest = statement.lines.drop { $0.seq <= after }
        var end = rest.startIndex
        while end < rest.endIndex {
            var next = end
            while next < rest.endIndex, rest[next].seq == rest[end].seq { next += 1 }
            if end > rest.startIndex, next - rest.startIndex > limit { break }
            end = next
            if end - rest.startIndex >= limit { break }
        }
        let page = rest[rest.startIndex..<end]
        let lines: [JSONValue] = page.map { line in
            var fields = [
                JSONField("amount_credits", .string(Money.formatCredits(line.amountMicrocredits))),
                JSONField("at", .string(Timestamp.format(line.atMs))),
                JSONField("balance_credits", .string(Money.formatCredits(line.balanceMicrocredits))),
                JSONField("counterparty", .string(Self.accountName(line.counterparty, ledger))),
            ]
            if let grant = line.grant { fields.append(JSONField("grant", .number(String(grant.index)))) }
            fields.append(JSONField("seq", .number(String(line.seq))))
            return .object(fields)
        }
        var body = [JSONField("closing_credits", .string(Money.formatCredits(statement.closingMicrocredits))), JSONField("lines", .array(lines))]
        if end < rest.endIndex, let last = page.last { body.append(JSONField("next_after", .number(String(last.seq)))) }
        body.append(JSONField("pool", .string(name)))
        return Self.json(.ok, StrictJSON.serialise(.object(body)))
    }

    static func accountName(_ account: Account, _ ledger: Ledger) -> String {
        if case .pool(let p) = account, let name = ledger.name(of: p) { return "pool:\(name)" }
        return account.description
    }

    // MARK: Keys

    /// `POST /v1/keys`: an identity's key or an admin key. Its key id is derived from the
    /// Idempotency-Key, so that a retry finds the key it created even after a restart; its secret
    /// is shown once and kept only in this process's memory for a retry. A retry that reaches a
    /// later process cannot be shown the secret: it is a 409 `secret_not_recoverable` naming the
    /// key to revoke. These keys are a namespace of their own, apart from the ledger's.
    func createKey(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        try requireAdmin(caller)
        let idempotencyKey = try idempotencyKey(request)
        var identity: String?, admin = false, expiresInMs: Int64?
        var seen = Set<String>()
        for field in try await bodyFields(request) {
            guard seen.insert(field.key).inserted else { throw Problem.malformed("'\(field.key)' is given twice", field: field.key) }
            switch (field.key, field.value) {
            case ("identity", .string(let name)): identity = name
            case ("admin", .bool(let flag)): admin = flag
            case ("expires_in", .string(let text)):
                guard let ms = Millis.parse(text), ms > 0 else {
                    throw Problem.malformed("'expires_in': expected a positive duration such as 90d, got '\(OperationFieldsText.printable(text))'", field: "expires_in")
                }
                expiresInMs = ms
            case ("identity", let v), ("expires_in", let v):
                throw Problem.malformed("'\(field.key)': expected a string, got \(v.kind)", field: field.key)
            case ("admin", let v): throw Problem.malformed("'admin': expected true or false, got \(v.kind)", field: "admin")
            default: throw Problem.malformed("'\(OperationFieldsText.printable(field.key))': unknown field", field: OperationFieldsText.printable(field.key))
            }
        }
        guard (identity != nil) != admin else {
            throw Problem.malformed("give exactly one of 'identity' and \"admin\": true", field: identity == nil ? "identity" : "admin")
        }
        if let identity, try await store.committedState().identity(named: identity) == nil {
            throw Problem(status: .notFound, reason: "unknown_identity", detail: "no identity '\(OperationFieldsText.printable(identity))'")
        }
        guard inFlight.insert("keys\u{0}" + idempotencyKey) else {
            throw Problem(status: .conflict, reason: "request_in_flight", detail: "a request with this Idempotency-Key is still being answered")
        }
        defer { inFlight.remove("keys\u{0}" + idempotencyKey) }
        let keyID = APIKeys.keyID(forIdempotencyKey: idempotencyKey)
        let now = nowMs()
        if let existing = try await store.apiKey(id: keyID) {
            let sameRequest = existing.identity == identity && existing.admin == admin
                && existing.expiresAtMs.map({ $0 - existing.createdAtMs }) == expiresInMs
            guard sameRequest else { throw Problem.refused(.idempotencyKeyReused(idempotencyKey)) }
            guard let body = issuedKeys.answer(keyID: keyID, nowMs: now) else {
                throw Problem(status: .conflict, reason: "secret_not_recoverable",
                              detail: "key \(keyID) was issued for this Idempotency-Key before the server restarted, and a secret is shown only once: revoke it (DELETE /v1/keys/\(keyID)) and ask again with a new Idempotency-Key")
            }
            var response = Self.json(.created, body)
            response.headers[Self.replayed] = "true"
            return response
        }
        let issued = APIKeys.issue(keyID: keyID, identity: identity, admin: admin, nowMs: now, expiresInMs: expiresInMs)
        try await store.insertKey(issued.record)
        var fields = [JSONField("key_id", .string(keyID)), JSONField("secret", .string(issued.secret))]
        if let identity { fields.append(JSONField("identity", .string(identity))) } else { fields.append(JSONField("admin", .bool(true))) }
        if let expires = issued.record.expiresAtMs { fields.append(JSONField("expires_at", .string(Timestamp.format(expires)))) }
        fields.sort { $0.key < $1.key }
        let body = StrictJSON.serialise(.object(fields))
        issuedKeys.remember(keyID: keyID, body: body, untilMs: now + Self.keyAnswerRetentionMs, nowMs: now)
        return Self.json(.created, body)
    }

    /// `DELETE /v1/keys/{key_id}`: the key authenticates nothing from now on (again: 200).
    func revokeKey(_ request: Request, id: String) async throws -> Response {
        let caller = try await authenticate(request)
        try requireAdmin(caller)
        guard id.utf8.count <= 64, try await store.revokeKey(id: id, atMs: nowMs()) else {
            throw Problem(status: .notFound, reason: "unknown_key", detail: "no key '\(OperationFieldsText.printable(id))'")
        }
        keyCache.remove(id)
        return Self.json(.ok, StrictJSON.serialise(.object([JSONField("key_id", .string(id)), JSONField("status", .string("revoked"))])))
    }

    // MARK: Writes

    func write(_ route: WriteRoute, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let key = try await authenticate(request)
        if route.caller == .admin { try requireAdmin(key) }
        let idempotencyKey = try idempotencyKey(request)
        let fields = try await bodyFields(request)
        var object = [JSONField("op", .string(route.op)), JSONField("key", .string(idempotencyKey))]
        for (parameter, field) in route.pathFields {
            if fields.contains(where: { $0.key == field }) { throw Problem.malformed("'\(field)' is given by the path, not the body", field: field) }
            object.append(JSONField(field, .string(context.parameters.get(parameter) ?? "")))
        }
        for field in fields where field.key == "op" || field.key == "key" {
            throw Problem.malformed("'\(field.key)': unknown field", field: field.key)
        }
        if route.caller != .admin {
            let named = fields.first(where: { $0.key == "identity" })?.value
            if let identity = key.identity {
                if let named, named != .string(identity) {
                    throw Problem.forbidden("an identity key acts only as its identity ('\(identity)')")
                }
                if named == nil { object.append(JSONField("identity", .string(identity))) }
            } else if named == nil && route.caller == .actingIdentity {
                throw Problem.malformed("an admin key names the identity it acts for: 'identity' is required", field: "identity")
            }
        }
        object += fields
        let operation: LedgerOperation
        do throws(LedgerOperation.OperationError) { operation = try LedgerOperation.parse(object: object) } catch {
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
            throw Problem(status: .contentTooLarge, reason: "body_too_large", detail: "the body is larger than \(Self.maxBodyBytes) bytes")
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

/// The answers of `POST /v1/keys` (secrets included) for a retry, until they expire.
final class IssuedKeyAnswers: Sendable {
    private let answers = Mutex<[String: (body: String, untilMs: Int64)]>([:])
    func remember(keyID: String, body: String, untilMs: Int64, nowMs: Int64) {
        answers.withLock { map in
            map = map.filter { $0.value.untilMs > nowMs }
            map[keyID] = (body, untilMs)
        }
    }
    func answer(keyID: String, nowMs: Int64) -> String? {
        answers.withLock { map in map[keyID].flatMap { $0.untilMs > nowMs ? $0.body : nil } }
    }
}

enum OperationFieldsText {
    /// A name as it may be printed back: at most 128 characters, controls shown as `?`.
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(128).map { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) ? "?" : $0 }))
    }
}
