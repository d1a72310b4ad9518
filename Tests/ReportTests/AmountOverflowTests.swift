import Testing
@testable import Scenario

/// A scenario amount one micro-credit beyond `Int64` is a located error, never a trap (SIGILL in
/// `Money` before the fix).
@Suite("Scenario amounts that overflow")
struct AmountOverflowTests {
    static let yaml = """
        name: overflow
        horizon: 1d
        prices:
          m: { input: 1, output: 1 }
        pools:
          - id: eng
            grants: [ { amount: 9223372036854.775808 } ]
        identities:
          - id: bot
            pool: eng
            workload:
              arrivals: { poisson: { rate: 1/h } }
              model: m
              input_tokens: 10
              output_tokens: 10
        """

    @Test func aGrantBeyondInt64IsALocatedError() {
        let found = errors(Self.yaml, file: "overflow.yaml")
        #expect(found.contains { $0.hasPrefix("overflow.yaml:7:") }, "\(found)")
    }
}

/// A file of many unknown keys is reported in bounded output (the first problems, then a count).
@Suite("Scenario errors are bounded")
struct BoundedErrorTests {
    @Test func manyUnknownKeysGiveAtMostAHundredAndOneLines() {
        var yaml = AmountOverflowTests.yaml.replacingOccurrences(of: "9223372036854.775808", with: "10") + "\n"
        for i in 0..<5_000 { yaml += "k\(i): \(i)\n" }
        let found = errors(yaml, file: "keys.yaml")
        #expect(found.count == 101, "\(found.count)")
        #expect(found.last?.contains("and 4900 more problems") == true, "\(found.last ?? "")")
    }
}
