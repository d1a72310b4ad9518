import Foundation
import Testing
@testable import Reports
@testable import Scenario

/// Issue #14, "outputs that destroy data": `--out` replaces only a folder Burnrate wrote itself.
@Suite("Untrusted files: outputs")
struct UntrustedOutputTests {
    let files: [(path: String, contents: String)] = [("summary.json", "{}\n"), ("charts/a.svg", "<svg/>\n")]

    @Test func outOntoAnExistingFileIsRefusedAndTheFileIsKept() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = dir + "/f"
        try "hi\n".write(toFile: f, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try ReportWriter.replaceDirectory(f, with: files) }
        #expect(try String(contentsOfFile: f, encoding: .utf8) == "hi\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"], "no staging folder is left behind")
    }

    @Test func outOntoAFolderBurnrateDidNotWriteIsRefusedAndLeftUntouched() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try "precious\n".write(toFile: victim + "/thesis.tex", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try ReportWriter.replaceDirectory(victim, with: files) }
        #expect(try String(contentsOfFile: victim + "/thesis.tex", encoding: .utf8) == "precious\n")
    }

    @Test func aSymlinkAtOutIsRefusedAndNotFollowed() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Even a link to a folder Burnrate wrote: replacing it would write where the link points.
        try ReportWriter.replaceDirectory(dir + "/real", with: files)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        #expect(throws: (any Error).self) { try ReportWriter.replaceDirectory(dir + "/link", with: files) }
        #expect(FileManager.default.fileExists(atPath: dir + "/real/summary.json"))
    }

    @Test func aFolderBurnrateWroteIsReplacedAtomicallyAndCarriesTheMarker() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/report"
        try ReportWriter.replaceDirectory(out, with: files)
        #expect(FileManager.default.fileExists(atPath: out + "/" + ".burnrate-report"))
        try ReportWriter.replaceDirectory(out, with: [("summary.json", "{\"v\":2}\n")])
        #expect(try String(contentsOfFile: out + "/summary.json", encoding: .utf8) == "{\"v\":2}\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/charts"), "the old report is replaced, not merged")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["report"])
    }

    @Test func anEmptyFolderMayBeWrittenInto() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ReportWriter.replaceDirectory(dir + "/", with: files)
        #expect(FileManager.default.fileExists(atPath: dir + "/summary.json"))
    }

    @Test func theCommittedReportFoldersCarryTheMarker() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        var folders: [String] = []
        for parent in ["reports", "notebooks-md/out"] {
            let path = url.appendingPathComponent(parent).path
            folders += try FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 }
        }
        #expect(folders.count >= 6)
        // Each marker lists exactly its folder (else `make reports` and `make notebooks` would refuse it).
        for f in folders { #expect(ReportWriter.matchesMarker(f), "\(f): no marker, or one that does not list the folder") }
    }

    // Names and ids: one rule (LedgerName), so that a name can never be a path.

    static let named = """
        name: NAME
        horizon: 1d
        prices: { m: { input: 1, output: 1 } }
        pools: [ { id: POOL, grants: [ { amount: 10 } ] } ]
        identities:
          - id: IDENTITY
            pool: POOL
            workload: { arrivals: { poisson: { rate: 1/h } } }
        variants:
          VARIANT: { seed: 2 }
        plans:
          - id: PLAN
            pay_as_you_go: { price_per_credit: 1 }
        """

    func scenario(_ replacements: [String: String]) -> String {
        var s = Self.named
        for (k, v) in ["NAME": "n", "POOL": "p", "IDENTITY": "i", "VARIANT": "v", "PLAN": "payg"].merging(replacements, uniquingKeysWith: { $1 }) {
            s = s.replacingOccurrences(of: k, with: v)
        }
        return s
    }

    @Test func theScenarioAsWrittenIsValid() {
        #expect(errors(scenario([:])) == [])
    }

    @Test(arguments: [
        ("NAME", "\"..\"", "bad.yaml:1:7: name: a name starts with a letter or a digit"),
        ("NAME", "a/b", "bad.yaml:1:7: name: a name holds only"),
        ("NAME", "\"\"", "bad.yaml:1:7: name: a name must not be empty"),
        ("POOL", "\"../x\"", "bad.yaml:4:16: pool id: a name starts with a letter or a digit"),
        ("IDENTITY", "\"a b\"", "bad.yaml:6:9: identity id: a name holds only letters, digits and . _ - : @ (found a space)"),
        ("VARIANT", "\"<script>\"", "bad.yaml:10:3: variant name: a name starts with a letter or a digit"),
        ("PLAN", "\"x|y\"", "bad.yaml:12:9: plan id: a name holds only letters, digits and . _ - : @ (found '|')"),
    ])
    func namesAndIdsFollowTheLedgerNameRuleWithALocatedError(key: String, value: String, expected: String) {
        let found = errors(scenario([key: value]))
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
    }
}
