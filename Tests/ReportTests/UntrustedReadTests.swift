import Foundation
import Testing
@testable import Scenario

/// Issue #14, "reading what it should not": errors quote at most a short escaped excerpt, and in
/// `check` and notebooks a scenario reads only files in its own folder tree.
@Suite("Untrusted files: reads")
struct UntrustedReadTests {
    func replaying(_ trace: String, format: String = "generic") -> String {
        """
        name: r
        horizon: 1d
        prices: { m: { input: 1, output: 1 } }
        pools: [ { id: p, grants: [ { amount: 10 } ] } ]
        identities:
          - id: i
            pool: p
            workload: { replay: { trace: "\(trace)", format: \(format) } }
        """
    }

    /// Writes `yaml` as `dir/s.yaml` and loads it; the errors' text.
    func load(_ yaml: String, in dir: String, confined: Bool = false) -> String {
        try! yaml.write(toFile: dir + "/s.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try Scenario.load(path: dir + "/s.yaml", displayPath: "s.yaml", confined: confined)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func aTraceAtTheProcessEnvironmentPrintsNoneOfIt() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let message = load(replaying("/proc/self/environ"), in: dir)
        #expect(!message.isEmpty)
        for (key, value) in ProcessInfo.processInfo.environment where value.count >= 4 {
            #expect(!message.contains(key + "=") && !message.contains(value), "the error quotes the environment: \(message)")
        }
        #expect(message.count < 400)
    }

    @Test func aTraceOrPriceTableAtThePasswordFileQuotesAtMostAShortExcerpt() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        let secondLine = passwd.split(separator: "\n").dropFirst().first.map(String.init) ?? "daemon"
        let trace = load(replaying("/etc/passwd"), in: dir)
        #expect(trace.contains("needs a column") && !trace.contains(secondLine) && !trace.contains(":/bin/"), "\(trace)")
        let prices = load("name: r\nhorizon: 1d\nprices: { file: /etc/passwd }\npools: [ { id: p } ]\nidentities: []\n", in: dir)
        #expect(prices.contains("needs columns") && !prices.contains("root:"), "\(prices)")
    }

    @Test func aTraceThatNeverEndsIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(load(replaying("/dev/zero"), in: dir).contains("regular file"))
    }

    @Test func controlCharactersInAScenarioAreEscapedInItsErrors() {
        let found = errors("name: n\nhorizon: \"\u{1B}[2J\u{1B}]0;owned\u{07}\"\n")
        #expect(found.contains { $0.contains("\\u{1B}[2J") }, "\(found)")
        #expect(!found.joined().unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func confinedAScenarioReadsOnlyFilesInItsFolderTree() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/repo/traces", withIntermediateDirectories: true)
        let csv = "timestamp,identity,model,input_tokens,output_tokens\n0,,m,10,10\n1,,m,10,10\n"
        try csv.write(toFile: dir + "/repo/traces/t.csv", atomically: true, encoding: .utf8)
        try csv.write(toFile: dir + "/outside.csv", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir + "/repo/link.csv", withDestinationPath: dir + "/outside.csv")
        let repo = dir + "/repo"
        #expect(load(replaying("traces/t.csv"), in: repo, confined: true) == "")
        for outside in ["../outside.csv", dir + "/outside.csv", "link.csv", "/proc/self/environ"] {
            let message = load(replaying(outside), in: repo, confined: true)
            #expect(message.contains("lies outside the scenario's folder"), "\(outside): \(message)")
            #expect(load(replaying(outside), in: repo, confined: false).contains("lies outside") == false)
        }
        let prices = load("name: r\nhorizon: 1d\nprices: { file: ../outside.csv }\npools: [ { id: p } ]\nidentities: []\n", in: repo, confined: true)
        #expect(prices.contains("price table '../outside.csv' lies outside"), "\(prices)")
    }

    @Test func checkRefusesAScenarioReadingOutsideUnlessAllowed() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/scenarios", withIntermediateDirectories: true)
        try replaying("/etc/hostname").write(toFile: dir + "/scenarios/s.yaml", atomically: true, encoding: .utf8)
        let refused = try burnrate(["check", "scenarios"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("lies outside the scenario's folder"), "\(refused.stderr)")
        let allowed = try burnrate(["check", "scenarios", "--allow-outside"], in: dir)
        #expect(!allowed.stderr.contains("lies outside"))
    }

    @Test func aScenarioOrPriceTableThatNeverEndsIsNotRead() throws {
        let started = Date()
        #expect(throws: ScenarioErrors.self) { try Scenario.load(path: "/dev/zero") }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prices = load("name: r\nhorizon: 1d\nprices: { file: /dev/zero }\npools: [ { id: p } ]\nidentities: []\n", in: dir)
        #expect(prices.contains("cannot read the price table"), "\(prices)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func checkRefusesAScenarioLinkedFromOutsideItsFolder() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/scenarios", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/scenarios/s.yaml", withDestinationPath: "/etc/passwd")
        let refused = try burnrate(["check", "scenarios"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("a link to a file outside"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("root:"))
    }
}
