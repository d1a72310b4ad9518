import Ledger
import Stochastic

/// A leaked credential in one replication: what the attacker's loop got and when detection
/// revoked the identity.
public struct LeakOutcome: Sendable, Hashable, Codable {
    /// From the leak's start to the revocation; the time to the horizon when detection falls after it.
    public var revokeAfterMs: Int64
    /// Whether detection came before the horizon.
    public var revoked: Bool
    public var spendMicrocredits: Int64 = 0
    public var requestsServed: Int64 = 0
    /// The leak's requests refused for good, by ``RejectionReason`` (raw value). The attacker's
    /// requests are booked here and in `requestsServed`, not in the identity's counts: they are
    /// not its demand (their spend is counted as spend).
    public var refusedBy: [Int64] = Array(repeating: 0, count: RejectionReason.allCases.count)

    public init(revokeAfterMs: Int64, revoked: Bool) {
        self.revokeAfterMs = revokeAfterMs
        self.revoked = revoked
    }

    /// What bounded the leak's spend before detection: the control that refused most of its
    /// requests, or the pool (refusals for lack of credit), or nothing (every request was served).
    public var bound: LeakBound {
        func n(_ r: RejectionReason) -> Int64 { refusedBy[r.rawValue] }
        // Ties go to the control listed first: the one an operator set on purpose.
        let candidates: [(LeakBound, Int64)] = [
            (.stopCondition, n(.identitySuspended)), (.spendCap, n(.spendCapExceeded)),
            (.rateCap, n(.rateCapExceeded) + n(.throttled)), (.pool, n(.insufficientFunds) + n(.noDegradeTier)),
        ]
        let best = candidates.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.rank > $1.0.rank) }!
        return best.1 > 0 ? best.0 : .nothing
    }
}

/// What bounded a leak (``LeakOutcome/bound``), in the words of report.md.
public enum LeakBound: String, Sendable, Hashable, Codable, CaseIterable {
    case stopCondition = "stop_condition", spendCap = "spend_cap", rateCap = "rate_cap", pool, nothing

    var rank: Int { LeakBound.allCases.firstIndex(of: self)! }

    /// As report.md says it.
    public var phrase: String {
        switch self {
        case .stopCondition: "a stop condition (the identity was suspended)"
        case .spendCap: "a spend cap"
        case .rateCap: "a rate cap or throttle"
        case .pool: "nothing but the pool (refused for lack of credit)"
        case .nothing: "nothing but detection (every request was served)"
        }
    }
}

extension ReplicationRun {
    /// Draws each leak's detection delay (once per replication, from its own stream: common
    /// random numbers across variants) and schedules the revocation. A revocation runs before
    /// requests at its instant (class 0), so the attacker's request at that instant is refused.
    mutating func scheduleLeakDetections() {
        for (w, workload) in model.workloads.enumerated() {
            guard let leak = workload.leak, workload.startMs < model.horizonMs else { continue }
            let stream = RandomStream(seed: model.seed, replication: replication, name: "workload/\(workload.name)/detection",
                                      generator: model.generator)
            let delay = max(0, leak.detectedAfterMs.count(stream))
            let (revokeAt, overflow) = workload.startMs.addingReportingOverflow(delay)
            let revoked = !overflow && revokeAt < model.horizonMs
            result.identities[workload.identity].leak = LeakOutcome(
                revokeAfterMs: revoked ? delay : model.horizonMs - workload.startMs, revoked: revoked)
            if revoked { queue.push(revokeAt, .revoke, Int32(w), cls: 0) }
        }
    }

    /// Detection: the identity is revoked (its legitimate work ends too) and the loop stops.
    mutating func revoke(_ w: Int) {
        stopped[w] = true
        _ = apply(Request(atMs: now, .setIdentityStatus(identity: identityIDs[Int(hot[w].identity)], .revoked)))
    }
}
