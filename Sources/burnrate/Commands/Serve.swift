import ArgumentParser
import Foundation
import Ledger
import LedgerStore
import Service

/// `burnrate serve`: the ledger over HTTP. A thin command: open the store, run the service.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a ledger over HTTP (JSON; API keys from `burnrate ledger key create`).",
        discussion: """
            Writes `listening on http://HOST:PORT` to standard error once it accepts connections \
            (--listen with port 0 picks a free port). SIGTERM and SIGINT stop it gracefully: \
            requests in flight are answered, the ledger is closed, and it exits 0. The README's \
            "The ledger as a service" lists the routes. With --store postgresql://… several \
            instances serve one ledger; a command that could not be committed (a lock wait timed \
            out, the database went away) is a 503 storage_failure with Retry-After, never a \
            refusal: retry it with the same Idempotency-Key, on any instance.
            """
    )
    @OptionGroup var database: DatabaseOption
    @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8080"

    func validate() throws {
        _ = try address()
    }

    func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port),
              colon > listen.startIndex else { throw ValidationError("--listen: expected HOST:PORT, got '\(listen)'") }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        let (host, port) = try address()
        let store = try await database.open()
        let service = LedgerService(store: store)
        do {
            try await service.run(host: host, port: port) { bound in writeStandardError("listening on http://\(host):\(bound)\n") }
        } catch {
            writeStandardError("error: \(error)\n")
            try? await store.close()
            throw ExitCode(2)
        }
        try await store.close()
    }
}
