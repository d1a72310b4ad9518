import Foundation
import Ledger
import LedgerStore
import Stochastic
import Testing
@testable import Reports
import Simulation

/// `burnrate forecast` against the Erlang law. A pool with A credits left is drawn by one identity
/// whose history is a Poisson process of 1-credit debits; the forecast fits the rate λ̂ = n / window
/// and runs the ledger forward. The pool refuses the (A+1)-th request after `as of`, whose time is
/// Erlang(A+1, λ̂): the forecast's P10, P50 and P90 must be that law's.
@Suite("Forecast")
struct ForecastTests {
    /// A ledger whose identity `agent` debited 1 credit at Poisson(10/h) times for 28 days, and
    /// whose pool `eng` has `left` credits at the end.
    func history(left: Int64, seed: UInt64 = 5) -> (records: [JournalRecord], requests: Int, endMs: Int64) {
        var ledger = Ledger()
        var sink = RecordingSink()
        let stream = RandomStream(seed: seed, replication: 0, name: "forecast-history")
        var times: [Int64] = []
        var t = 0.0
        while true {
            t += stream.exponential(mean: 3_600_000 / 10)
            if t >= Double(28 * Millis.day) { break }
            times.append(Int64(t))
        }
        let pool = ledger.apply(Request(atMs: 0, .createPool(PoolSpec(name: "eng"))), sink: &sink).acceptance!.pool!
        ledger.apply(Request(atMs: 0, .fund(pool: pool, GrantSpec(amountMicrocredits: (Int64(times.count) + left) * 1_000_000))), sink: &sink)
        let agent = ledger.apply(Request(atMs: 0, .createIdentity(IdentitySpec(name: "agent"))), sink: &sink).acceptance!.identity!
        ledger.apply(Request(atMs: 0, .entitle(identity: agent, pool: pool, Entitlement())), sink: &sink)
        for time in times {
            let o = ledger.apply(Request(atMs: time, .debit(identity: agent, pool: pool, tier: 0, amountMicrocredits: 1_000_000)), sink: &sink)
            precondition(o.isAccepted)
        }
        ledger.apply(Request(atMs: 28 * Millis.day, .advanceTime), sink: &sink)
        return (sink.records, times.count, 28 * Millis.day)
    }

    @Test func theRunOutFollowsTheErlangLawOfTheFittedRate() throws {
        let left: Int64 = 500
        let h = history(left: left)
        var options = Forecast.Options(pool: "eng")
        options.horizonMs = 5 * Millis.day
        options.replications = 400
        let f = try Forecast.run(records: h.records, options: options)
        #expect(f.asOfMs == h.endMs && f.availableMicrocredits == left * 1_000_000)
        #expect(f.demand.count == 1 && f.demand[0].requests == h.requests)
        let rate = Double(h.requests) / (28 * 24)                 // λ̂ per hour
        #expect(abs(f.demand[0].ratePerHour - rate) < 1e-9)
        // The refused request is the (A+1)-th: Erlang(A+1, λ̂) = Gamma(shape A+1, scale 1/λ̂).
        let k = Double(left + 1)
        for (i, q) in [0.1, 0.5, 0.9].enumerated() {
            let exact = Distributions.gammaQuantile(q, shape: k, scale: 1 / rate)
            let got = try #require(f.runOutHours[i])
            #expect(abs(got - exact) / exact < 0.02, "P\(Int(q * 100)): forecast \(got) h, Erlang \(exact) h")
        }
        #expect(f.probabilityDry == 1)
        // Every replication spends exactly what was left, then is refused.
        #expect(f.spendMicrocredits == [Double(left) * 1e6, Double(left) * 1e6, Double(left) * 1e6])
        // The fan starts at what is left and falls.
        #expect(f.fan.first?.p50 == Double(left) * 1e6 && f.fan.last?.p50 == 0)
    }

    @Test func aPoolThatOutlastsTheHorizonHasNoRunOut() throws {
        let h = history(left: 1_000_000)
        var options = Forecast.Options(pool: "eng")
        options.horizonMs = 2 * Millis.day
        options.replications = 20
        let f = try Forecast.run(records: h.records, options: options)
        #expect(f.runOutHours == [nil, nil, nil] && f.probabilityDry == 0)
    }

    @Test func badQuestionsAreClearErrors() throws {
        let h = history(left: 10)
        var unknown = Forecast.Options(pool: "research")
        unknown.replications = 1
        #expect(throws: Forecast.ForecastError.self) { try Forecast.run(records: h.records, options: unknown) }
        var early = Forecast.Options(pool: "eng")
        early.asOfMs = -1
        do { _ = try Forecast.run(records: h.records, options: early); Issue.record("an as-of before the journal was accepted") } catch {
            #expect(error.description.contains("before the journal's first command"))
        }
        #expect(throws: Forecast.ForecastError.self) { try Forecast.run(records: [], options: Forecast.Options(pool: "eng")) }
    }

    @Test func theCommandSaysWhenAndWritesTheFan() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = dir + "/ledger.db"
        let h = history(left: 50)
        do {
            let store = try await LedgerStore(path: db)
            let requests = h.records.map(\.request)
            _ = try await store.submit { _ in requests }
        }
        let out = try burnrate(["forecast", "--db", db, "--pool", "eng", "--horizon", "2d", "--replications", "50", "--json",
                                "--chart", dir + "/fan.svg"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(object["pool"] as? String == "eng" && object["available_credits"] as? String == "50")
        #expect(object["as_of"] as? String == "1970-01-29T00:00:00.000Z")
        let runOut = try #require(object["run_out_hours"] as? [String: Any])
        let p50 = try #require(runOut["p50"] as? Double)
        #expect(abs(p50 - 5.1) < 1, "51 requests at 10/h: about 5.1 h, got \(p50)")
        #expect(try String(contentsOfFile: dir + "/fan.svg", encoding: .utf8).hasPrefix("<svg"))
        let text = try burnrate(["forecast", "--db", db, "--pool", "eng", "--horizon", "2d", "--replications", "50"], in: dir)
        #expect(text.status == 0 && text.stdout.hasPrefix("eng runs dry in ") && text.stdout.contains("on Thursday 29 January 1970"), "\(text.stdout)")
        // Bad input: exit 2 with the reason.
        let unknown = try burnrate(["forecast", "--db", db, "--pool", "research"], in: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("no pool 'research'"))
        let horizon = try burnrate(["forecast", "--db", db, "--pool", "eng", "--horizon", "soon"], in: dir)
        #expect(horizon.status == 2 && horizon.stderr.contains("--horizon"))
        let missing = try burnrate(["forecast", "--db", dir + "/none.db", "--pool", "eng"], in: dir)
        #expect(missing.status == 2)
    }
}
