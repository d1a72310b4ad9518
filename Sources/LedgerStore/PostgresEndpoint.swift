import Foundation

/// Where a PostgreSQL ledger is: `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB` (or `postgres://`).
/// The password may also come from `PGPASSWORD`. The connection is plain TCP (no TLS): a ledger
/// database on another machine belongs behind a private network or an SSH/TLS tunnel.
public struct PostgresEndpoint: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `url`; the error says which part is wrong.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        let scheme: String
        if url.hasPrefix("postgresql://") { scheme = "postgresql://" } else if url.hasPrefix("postgres://") { scheme = "postgres://" } else {
            throw Invalid(description: "expected postgresql://USER@HOST:PORT/DB, got '\(Self.printable(url))'")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        if let query = rest.firstIndex(of: "?") {
            throw Invalid(description: "'\(Self.printable(String(rest[query...])))': query parameters are not supported (the connection is plain TCP: no sslmode)")
        }
        guard let slash = rest.firstIndex(of: "/") else { throw Invalid(description: "no database name: expected postgresql://USER@HOST:PORT/DB") }
        let database = String(rest[rest.index(after: slash)...])
        rest = rest[..<slash]
        guard !database.isEmpty, !database.contains("/") else { throw Invalid(description: "no database name after the host: expected postgresql://USER@HOST:PORT/DB") }
        guard let at = rest.lastIndex(of: "@") else { throw Invalid(description: "no user: expected postgresql://USER@HOST:PORT/DB") }
        let credentials = rest[..<at], address = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            user = Self.decoded(String(credentials[..<colon]))
            password = Self.decoded(String(credentials[credentials.index(after: colon)...]))
        } else {
            user = Self.decoded(String(credentials))
            password = environment["PGPASSWORD"]
        }
        guard !user.isEmpty else { throw Invalid(description: "no user: expected postgresql://USER@HOST:PORT/DB") }
        if let colon = address.lastIndex(of: ":"), !address.hasSuffix("]") {
            host = String(address[..<colon])
            guard let p = Int(address[address.index(after: colon)...]), (1...65_535).contains(p) else {
                throw Invalid(description: "the port '\(Self.printable(String(address[address.index(after: colon)...])))' is not a number in 1–65535")
            }
            port = p
        } else {
            host = String(address)
            port = 5432
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Invalid(description: "no host: expected postgresql://USER@HOST:PORT/DB") }
        self.database = Self.decoded(database)
    }

    /// The URL without its password: what messages print.
    public var displayURL: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(h):\(port)/\(database)"
    }

    static func decoded(_ s: String) -> String { s.removingPercentEncoding ?? s }

    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(128).map { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) ? "?" : $0 }))
    }
}
