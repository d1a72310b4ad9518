import ArgumentParser
import Benchmarks
import Foundation

/// `burnrate bench store`: durable commands per second and acknowledgement latency.
struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Committed commands per second of the durable ledger (synchronous=FULL), and ack latency.",
        discussion: """
            one-per-transaction: one keyed debit at a time, each its own transaction. \
            group-commit: --tasks concurrent clients; the writer commits whatever has queued \
            in one transaction. Latency is from submit to acknowledgement (after commit).
            """
    )

    @Flag(name: .long, help: "Print one JSON object per case.") var json = false
    @Option(name: .long, help: "Commands for one-per-transaction.") var sequential = 2_000
    @Option(name: .long, help: "Concurrent clients for group commit.") var tasks = 64
    @Option(name: .long, help: "Commands per client for group commit.") var perTask = 1_000
    @Option(name: .long, help: "Directory for the temporary database.") var directory = NSTemporaryDirectory()

    func run() async throws {
        for line in try await StoreBenchmarks.run(sequential: sequential, tasks: tasks, perTask: perTask, directory: directory, json: json) {
            print(line)
        }
    }
}
