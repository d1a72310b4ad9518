import Foundation
import Synchronization
import Testing

@testable import LedgerStore

/// The deadline every round trip to PostgreSQL has (`PostgresSession.race`), without a server: a
/// call that never ends is abandoned at the deadline, not awaited.
@Suite(.timeLimit(.minutes(1)))
struct QueryDeadlineTests {
    struct Late: Error {}

    /// A call the driver never answers (here: a continuation no one resumes, as a statement sent
    /// on a connection the server was ending once was) resumes its caller with the timeout error
    /// at the deadline, and `onTimeout` (which closes the connection) runs once.
    @Test func aCallThatNeverEndsIsAbandonedAtTheDeadline() async throws {
        let parked = Mutex<CheckedContinuation<Int, Never>?>(nil)
        let timeouts = Atomic<Int>(0)
        let clock = ContinuousClock(), start = clock.now
        await #expect(throws: Late.self) {
            _ = try await PostgresSession.race(.milliseconds(200), onTimeout: { timeouts.add(1, ordering: .relaxed) }, timeoutError: Late()) {
                await withCheckedContinuation { c in parked.withLock { $0 = c } }
            }
        }
        let waited = clock.now - start
        #expect(waited >= .milliseconds(200) && waited < .seconds(5), "resumed after \(waited)")
        #expect(timeouts.load(ordering: .relaxed) == 1)
        // Let the abandoned call end now: nothing resumes the caller a second time.
        for _ in 0..<100 where parked.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        parked.withLock { $0?.resume(returning: 1); $0 = nil }
        try await Task.sleep(for: .milliseconds(20))
        #expect(timeouts.load(ordering: .relaxed) == 1)
    }

    /// A call that ends in time gives its value or its error, and the timer does nothing.
    @Test func aCallThatEndsInTimeGivesItsOwnResult() async throws {
        let timeouts = Atomic<Int>(0)
        let value = try await PostgresSession.race(.seconds(5), onTimeout: { timeouts.add(1, ordering: .relaxed) }, timeoutError: Late()) {
            try await Task.sleep(for: .milliseconds(10))
            return 42
        }
        #expect(value == 42)
        struct Own: Error {}
        await #expect(throws: Own.self) {
            try await PostgresSession.race(.seconds(5), onTimeout: { timeouts.add(1, ordering: .relaxed) }, timeoutError: Late()) { throw Own() }
        }
        #expect(timeouts.load(ordering: .relaxed) == 0)
    }
}
