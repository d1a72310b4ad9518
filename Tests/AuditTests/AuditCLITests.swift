import Foundation
import Testing

/// `burnrate audit` as CI meets it: exit codes, the table, JSON, the SARIF file.
@Suite("audit CLI: exit codes, outputs, bad input")
struct AuditCLITests {
    struct Run { var status: Int32; var out: String; var err: String }

    static var binary: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        // The executable of the configuration the tests were built in (`make test` builds release).
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return url.appendingPathComponent(".build/\(configuration)/burnrate").path
    }

    func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["audit"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func folder(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "burnrate-audit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    /// wellGoverned without its rate cap: one warning (BR002).
    static let warningOnly = wellGoverned.replacingOccurrences(of: "    rate_cap: 60/m\n", with: "")

    @Test func exitStatusFollowsFailOn() throws {
        let dir = try folder(["clean.yaml": wellGoverned, "warn.yaml": Self.warningOnly])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clean = try run([dir + "/clean.yaml"])
        #expect(clean.status == 0 && clean.out.contains("No findings"), "\(clean.err)")
        let warn = try run([dir + "/warn.yaml"])
        #expect(warn.status == 0, "a warning does not fail the default --fail-on error")
        #expect(warn.out.contains("| warning | BR002 no-rate-cap") && warn.out.contains("warn.yaml:13:5"))
        #expect(try run([dir + "/warn.yaml", "--fail-on", "warning"]).status == 1)
        #expect(try run([dir, "--fail-on", "note"]).status == 1)
        #expect(try run([dir + "/warn.yaml", "--fail-on", "fatal"]).status != 0)
    }

    @Test func jsonAndSARIFSayTheSameFindings() throws {
        let dir = try folder(["warn.yaml": Self.warningOnly])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run([dir + "/warn.yaml", "--json", "--sarif", dir + "/out.sarif"])
        #expect(r.status == 0, "\(r.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == 1 && findings[0]["rule"] as? String == "BR002" && findings[0]["line"] as? Int == 13)
        let sarif = try String(contentsOfFile: dir + "/out.sarif", encoding: .utf8)
        let log = try parse(sarif)
        #expect(try sarifSchema().validate(log) == [])
        let results = (log["runs"] as! [[String: Any]])[0]["results"] as! [[String: Any]]
        #expect(results.map { $0["ruleId"] as! String } == ["BR002"])
    }

    @Test func badInputIsExitTwoAndWritesNothing() throws {
        let dir = try folder(["bad.yaml": "name: t\nhorizon: 1d\npools: [ { id: eng, policy: [] } ]\n", "warn.yaml": Self.warningOnly])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run([dir + "/warn.yaml", dir + "/bad.yaml", "--sarif", dir + "/out.sarif"])
        #expect(r.status == 2)
        #expect(r.err.contains("bad.yaml:3:") && r.out.isEmpty, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.sarif"))
        #expect(try run([dir + "/none.yaml"]).status == 2)
        #expect(try run(["--db", dir + "/none.db"]).status == 2)
        #expect(try run([]).status == 2)
        // An unwritable SARIF path: exit 2, nothing on stdout.
        let unwritable = try run([dir + "/warn.yaml", "--sarif", dir + "/no/such/dir/out.sarif"])
        #expect(unwritable.status == 2 && unwritable.out.isEmpty)
    }
}
