import Scenario
import Simulation

/// `--layout` of `burnrate size`: size the departments as one shared pool, one pool each, or both.
public enum SizeLayoutChoice: String, CaseIterable, Sendable {
    case shared, split, both
}

/// One `burnrate size` request: which pools, in which layouts, on which scenario. The command
/// parses it; this decides what is sized and answers.
public struct SizeRequest: Sendable {
    public var path: String
    public var variant: String?
    /// Size this pool alone (whether or not an identity draws on it: asked by name).
    public var pool: String?
    /// Size every department (the pools an identity draws on).
    public var all = false
    public var layout: SizeLayoutChoice?
    public var target: Expectation
    public var confidence = 0.95
    /// Replications per candidate (nil: the scenario's).
    public var replications: Int?
    public var maxReplications: Int?
    public var threads: Int?
    public var resolution: Double?
    public var confinedReads = false
    public var progress: (@Sendable (String) -> Void)?
    /// The shared pool's id in the shared layout.
    public static let sharedPool = "shared"

    public init(path: String, target: Expectation) {
        self.path = path
        self.target = target
    }

    /// What is wrong with the combination of options, if anything.
    public var problem: String? {
        if layout == nil && pool == nil && !all { return "say which pool: --pool ID, --all or --layout" }
        if pool != nil && (all || layout != nil) { return "--pool cannot be combined with --all or --layout" }
        if let r = replications, r < 2 { return "--replications must be at least 2" }
        if let r = resolution, !(r > 0) { return "--resolution must be positive" }
        if !(confidence > 0.5 && confidence < 1) { return "--confidence must be between 0.5 and 1" }
        return nil
    }

    func sizer(_ edits: ScenarioEdits, replications: Int) -> Sizer {
        var s = Sizer(path: path, baseEdits: edits, target: target, confidence: confidence, replications: replications,
                      maxReplications: maxReplications, threads: threads, resolution: resolution, progress: progress)
        s.confinedReads = confinedReads
        return s
    }

    /// Sizes what was asked. Throws ``DecisionError`` for a request it cannot answer and
    /// `ScenarioErrors` for a bad scenario (or departments one shared pool cannot stand for).
    public func answer() throws -> SizeAnswer {
        if let problem { throw DecisionError(problem) }
        let base = try Scenario.load(path: path, edits: ScenarioEdits(variant: variant), confined: confinedReads)
        let reps = replications ?? base.replications
        let departments = Sizer.departments(of: base)
        var notes: [String] = []
        var layouts: [(layout: SizeAnswer.Layout, sizes: [PoolSize])] = []
        if layout == .shared || layout == .both {
            let edits = ScenarioEdits(variant: variant, sharedPool: Self.sharedPool)
            let shared = try Scenario.load(path: path, edits: edits, confined: confinedReads)
            notes += shared.editNotes
            layouts.append((.shared, try sizer(edits, replications: reps).size(pools: [Self.sharedPool])))
        }
        if pool == nil {
            // --all and the split layout size the departments; the other pools keep their funding.
            let unsized = base.poolNames.filter { !departments.contains($0) }
            if !unsized.isEmpty && layout != .shared && layout != .both {
                notes.append("\(unsized.joined(separator: ", ")) not sized: no identity draws on \(unsized.count == 1 ? "it" : "them"); kept as written")
            }
        }
        if layout == .split || layout == .both {
            layouts.append((.split, try sizer(ScenarioEdits(variant: variant), replications: reps).size(pools: departments)))
        }
        if layout == nil {
            layouts.append((.asWritten, try sizer(ScenarioEdits(variant: variant), replications: reps).size(pools: all ? departments : [pool!])))
        }
        return SizeAnswer(scenario: base.name, target: target, confidence: confidence, replications: reps, layouts: layouts, notes: notes)
    }
}

extension SizeAnswer {
    /// What holds each unreached pool's target out of reach, one line each (empty when every pool
    /// reached it): for the console, the report and `size.json`.
    public var unreachedLines: [String] { unreachedLines(names: { $0 }) }

    /// The same, with pool and identity names passed through `names` (Markdown escapes them).
    func unreachedLines(names: (String) -> String) -> [String] {
        layouts.flatMap { entry in
            entry.sizes.compactMap { size in
                size.unreached.map {
                    Self.unreachedText(size.pool, $0, target: target, confidence: confidence,
                                       layout: layouts.count > 1 ? entry.layout : nil, names: names)
                }
            }
        }
    }

    /// Constraints by refusal code, as a person names them, and why funding does not lift them.
    static let bindingNames: [String: String] = [
        "spend_cap_exceeded": "identity spend caps (`caps:`), which refuse whatever the pool holds",
        "rate_cap_exceeded": "identity rate caps (`rate_cap:`), which refuse whatever the pool holds",
        "tier_not_allowed": "entitlement tiers (`models:`): requests for a model the identity may not use",
        "not_entitled": "entitlements: an identity not entitled to the pool",
        "identity_suspended": "a stop condition (`stop:`) that suspended an identity",
        "identity_revoked": "a revoked identity (a leaked key, once detected)",
        "throttled": "the pool's throttle: requests ran out of waits",
        "no_degrade_tier": "degrade with no tier left to go to",
        "degrade": "a degrade answer, which ends a runaway loop",
        "insufficient_funds": "lack of credit even there: the funding does not last (grants that expire without a refill, or a period longer than the horizon)",
        "other": "other refusals",
    ]

    static func unreachedText(_ pool: String, _ u: Unreached, target: Expectation, confidence: Double, layout: Layout?,
                              names: (String) -> String) -> String {
        let p = u.point
        var s = "\(target.text) is not reached for \(names(pool))\(layout.map { " in the \($0.rawValue) layout" } ?? "") at any funding up to \(credits(p.fundingCredits)) credits: "
        s += "there \(target.metric).\(target.statistic) is \(number(p.estimate)) (\(JSON.format(confidence * 100))% bound \(number(p.bound)))"
        guard let binding = u.binding else {
            return s + ", with no request rejected; \(target.metric) does not move towards the target with funding"
        }
        let total = p.rejectionsPerReplication.values.reduce(0, +)
        let share = p.rejectionsPerReplication[binding, default: 0]
        s += "; the binding constraint is \(bindingNames[binding] ?? binding): \(number(share)) of \(number(total)) rejections a replication end in \(binding)"
        let who = p.identityRejectionsPerReplication.compactMap { (name, reasons) in reasons[binding].map { (name, $0) } }
            .sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        if !who.isEmpty {
            s += " (" + who.prefix(3).map { "\(names($0.0)) \(number($0.1))" }.joined(separator: ", ") + (who.count > 3 ? ", …" : "") + ")"
        }
        return s
    }
}
