import Foundation
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server of the tests: `make test` (through scripts/with-postgres.sh) always starts
/// a private one and sets BURNRATE_TEST_POSTGRES_URL, so these tests always run there. Run by hand
/// without it (`swift test`), they are skipped, saying why; `scripts/with-postgres.sh swift test`
/// runs them.
public enum PostgresTestDatabase {
    public static let variable = "BURNRATE_TEST_POSTGRES_URL"
    public static var serverURL: String? { ProcessInfo.processInfo.environment[variable] }
    public static let skipReason: Comment = "BURNRATE_TEST_POSTGRES_URL is not set: run `make test` or `scripts/with-postgres.sh swift test` (make test always sets it)"
    public static var available: Bool { serverURL != nil }
    public static let logger = Logger(label: "tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A connection to the server's `postgres` database, as its superuser (the test server trusts loopback).
    public static func admin() async throws -> PostgresConnection {
        let url = try #require(serverURL, "\(variable) is not set")
        guard let rest = url.split(separator: "@").last, let hostPort = rest.split(separator: "/").first,
              let port = Int(hostPort.split(separator: ":").last ?? "") else { throw Failure(message: "cannot read \(url)") }
        let user = String(url.dropFirst("postgresql://".count).split(separator: "@").first ?? "postgres")
        let configuration = PostgresConnection.Configuration(host: String(hostPort.split(separator: ":").first ?? ""), port: port,
                                                             username: user, password: nil, database: "postgres", tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// Runs `body` with the URL of a new, empty database, dropped afterwards (whatever `body` did).
    public static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let url = try #require(serverURL, "\(variable) is not set")
        let name = "burnrate_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let connection = try await admin()
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        var outcome: Result<Void, any Error> = .success(())
        // The server's URL names the `postgres` database last: the new one takes its place.
        let databaseURL = url[..<(url.lastIndex(of: "/") ?? url.endIndex)] + "/" + name
        do { try await body(String(databaseURL)) } catch { outcome = .failure(error) }
        _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
        try? await connection.close()
        try outcome.get()
    }

    /// A plain connection to the database at `url` (for a test to act as another party: hold a lock, alter a row).
    public static func connect(_ url: String) async throws -> PostgresConnection {
        let database = String(url.split(separator: "/").last ?? "")
        let server = try #require(serverURL)
        guard let rest = server.split(separator: "@").last, let hostPort = rest.split(separator: "/").first,
              let port = Int(hostPort.split(separator: ":").last ?? "") else { throw Failure(message: "cannot read \(server)") }
        let configuration = PostgresConnection.Configuration(host: String(hostPort.split(separator: ":").first ?? ""), port: port,
                                                             username: "postgres", password: nil, database: database, tls: .disable)
        return try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
