import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// How long the PostgreSQL store waits, for each thing it waits on.
public struct PostgresTimeouts: Sendable, Equatable {
    /// How long a write waits for the journal's lock (held by another process's transaction)
    /// before its commands get a retryable error instead of waiting on (`lock_timeout`).
    public var lockMs: Int64
    /// The client-side deadline of every round trip to the server (connecting, each statement,
    /// each chunk of rows read, closing): a server or network that stops answering fails the
    /// commands in flight with a retryable error after this long, instead of stalling the
    /// process until TCP gives up. The lock statement gets `lockMs` more.
    public var queryMs: Int64
    /// A transaction left idle this long (its process stopped or cut off in the middle of one,
    /// holding the journal's lock) is ended by the server (`idle_in_transaction_session_timeout`),
    /// which lets the other instances write again.
    public var idleTransactionMs: Int64

    public init(lockMs: Int64 = 5_000, queryMs: Int64 = 10_000, idleTransactionMs: Int64 = 10_000) {
        self.lockMs = lockMs
        self.queryMs = queryMs
        self.idleTransactionMs = idleTransactionMs
    }
}

/// A PostgreSQL connection whose every round trip has a deadline.
///
/// The driver's calls are awaited in a task of their own and raced against a timer; the caller
/// is resumed by whichever ends first. On the deadline the connection is closed without waiting
/// (the server ends its transaction, releasing its locks) and the caller gets
/// `StoreError.unavailable`: its commands were not acknowledged, a retry is safe. The caller is
/// never left waiting on the driver: a call the driver never answers (a statement sent on a
/// connection the server is ending was seen never to be answered) is abandoned, not awaited.
/// What the body returns is decoded inside it, so an abandoned call touches nothing of the caller's.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let location: String
    let timeouts: PostgresTimeouts
    let logger: Logger

    var isClosed: Bool { connection.isClosed }

    /// Runs `body` on the connection within `extraMs` + the query deadline.
    func run<T: Sendable>(_ doing: @autoclosure () -> String, extraMs: Int64 = 0,
                          _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let connection = self.connection, logger = self.logger
        let deadline = Duration.milliseconds(timeouts.queryMs + extraMs)
        let what = doing()
        return try await Self.race(deadline, onTimeout: { Self.drop(connection) },
                                   timeoutError: StoreError.unavailable(path: location, reason: "\(what): no answer from PostgreSQL within \(Self.text(ms: timeouts.queryMs + extraMs))")) {
            try await body(connection, logger)
        }
    }

    /// One statement whose rows (if any) are not wanted.
    func execute(_ query: PostgresQuery, extraMs: Int64 = 0) async throws {
        try await run(Self.brief(query), extraMs: extraMs) { connection, logger in
            for try await _ in try await connection.query(query, logger: logger) {}
        }
    }

    /// One statement, its rows decoded by `decode` (all of them: keep such reads bounded, e.g. by LIMIT).
    func rows<T: Sendable>(_ query: PostgresQuery, _ decode: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await run(Self.brief(query)) { connection, logger in
            var out: [T] = []
            for try await row in try await connection.query(query, logger: logger) { out.append(try decode(row)) }
            return out
        }
    }

    /// A statement as an error names it: its first words.
    static func brief(_ query: PostgresQuery) -> String {
        let sql = query.sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return sql.count > 60 ? String(sql.prefix(60)) + "…" : sql
    }

    /// Closes the connection, waiting at most the query deadline for the server to let it go.
    func close() async {
        let connection = self.connection
        _ = try? await Self.race(.milliseconds(timeouts.queryMs), onTimeout: {}, timeoutError: CancellationError()) {
            try await connection.close()
        }
    }

    /// Closes a connection without waiting for it (kept alive by its close future until done).
    static func drop(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in _ = connection }
    }

    /// The sessions' `application_name`: `burnrate pid N`.
    static let applicationName = "burnrate pid \(ProcessInfo.processInfo.processIdentifier)"

    /// Connects and sets up the session (synchronous_commit on, lock_timeout, idle_in_transaction_session_timeout,
    /// application_name), each step within the deadline.
    static func connect(_ endpoint: PostgresEndpoint, timeouts: PostgresTimeouts, id: Int, logger: Logger) async throws -> PostgresSession {
        var configuration = PostgresConnection.Configuration(host: endpoint.host, port: endpoint.port, username: endpoint.user,
                                                             password: endpoint.password, database: endpoint.database, tls: .disable)
        configuration.options.connectTimeout = .milliseconds(timeouts.queryMs)
        let settings = configuration
        let location = endpoint.displayURL
        let opened = Mutex<PostgresConnection?>(nil)
        let connection: PostgresConnection
        do {
            connection = try await race(.milliseconds(timeouts.queryMs), onTimeout: { if let c = opened.withLock({ $0 }) { drop(c) } },
                                        timeoutError: StoreError.unavailable(path: location, reason: "no answer from PostgreSQL within \(Self.text(ms: timeouts.queryMs))")) {
                let c = try await PostgresConnection.connect(configuration: settings, id: id, logger: logger)
                opened.withLock { $0 = c }
                return c
            }
        } catch let error as StoreError {
            throw StoreError.unavailable(path: location, reason: "cannot connect: \(error.reason)")
        } catch {
            throw StoreError.unavailable(path: location, reason: "cannot connect: \(PostgresLedgerStore.describe(error))")
        }
        let session = PostgresSession(connection: connection, location: location, timeouts: timeouts, logger: logger)
        do {
            try await session.execute("SET synchronous_commit = on")
            try await session.execute(PostgresQuery(unsafeSQL: "SET lock_timeout = \(max(1, timeouts.lockMs))"))
            try await session.execute(PostgresQuery(unsafeSQL: "SET idle_in_transaction_session_timeout = \(max(1, timeouts.idleTransactionMs))"))
            // pg_stat_activity then says which process a session (and a lock it holds) is.
            try await session.execute(PostgresQuery(unsafeSQL: "SET application_name = '\(applicationName)'"))
        } catch {
            drop(connection)
            throw StoreError.unavailable(path: location, reason: "cannot set up the session: \(PostgresLedgerStore.describe(error))")
        }
        return session
    }

    /// `body` in a task of its own against a timer: the first to end resumes the caller; the
    /// timer runs `onTimeout` when it wins. The loser is not awaited.
    static func race<T: Sendable>(_ deadline: Duration, onTimeout: @escaping @Sendable () -> Void, timeoutError: any Error,
                                  _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let slot = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let take: @Sendable () -> CheckedContinuation<T, any Error>? = { slot.withLock { s in defer { s = nil }; return s } }
        return try await withCheckedThrowingContinuation { continuation in
            slot.withLock { $0 = continuation }
            let timer = Task {
                try? await Task.sleep(for: deadline)
                guard !Task.isCancelled, let c = take() else { return }
                onTimeout()
                c.resume(throwing: timeoutError)
            }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                timer.cancel()
                take()?.resume(with: result)
            }
        }
    }
}

extension PostgresSession {
    /// `1500 ms`, `10 s`.
    static func text(ms: Int64) -> String { ms % 1_000 == 0 ? "\(ms / 1_000) s" : "\(ms) ms" }
}

extension StoreError {
    /// The reason of an `unavailable` error (the description otherwise).
    var reason: String {
        if case .unavailable(_, let reason) = self { return reason }
        return description
    }
}
