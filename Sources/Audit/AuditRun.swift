import Foundation
import Ledger
import LedgerStore
import Scenario

/// What `burnrate audit` audits: scenario files (or folders of them) and ledger databases.
public struct AuditRun: Sendable {
    /// A problem with the input (exit 2): unreadable or invalid scenarios, a database that
    /// cannot be opened. Each line is one problem, scenario errors as `FILE:LINE:COLUMN: message`.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var scenarioPaths: [String]
    public var databases: [String]
    /// When a database's API keys are judged (BR008: their age), in wall-clock milliseconds.
    public var asOfMs: Int64

    public init(scenarioPaths: [String], databases: [String], asOfMs: Int64) {
        self.scenarioPaths = scenarioPaths
        self.databases = databases
        self.asOfMs = asOfMs
    }

    /// Scenario files: each path, or each `*.yaml`/`*.yml` of a folder, in name order.
    func scenarioFiles() throws(Failure) -> [String] {
        var files: [String] = []
        for p in scenarioPaths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory) else {
                throw Failure(description: "\(AuditReport.cell(p)): no such file or directory")
            }
            guard isDirectory.boolValue else { files.append(p); continue }
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: p) else {
                throw Failure(description: "\(AuditReport.cell(p)): cannot list the directory")
            }
            let folder = p.hasSuffix("/") ? String(p.dropLast()) : p
            files += entries.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { folder + "/" + $0 }
        }
        return files
    }

    /// Audits everything, or fails on the first bad input with every problem it found in it.
    /// Scenarios are read confined to their own folder tree: they come from pull requests.
    public func run() async throws(Failure) -> AuditReport {
        var findings: [Finding] = []
        var files: [String] = []
        var problems: [String] = []
        for file in try scenarioFiles() {
            do {
                let scenario = try Scenario.load(path: file, confined: true)
                findings += ScenarioAudit.findings(scenario)
                files.append(file)
            } catch {
                problems.append(error.description)
            }
        }
        guard problems.isEmpty else { throw Failure(description: problems.joined(separator: "\n")) }
        for db in databases {
            let name = LedgerStores.displayName(db)
            let store: any DurableLedger
            do { store = try await LedgerStores.open(db, readOnly: true, create: false) } catch {
                throw Failure(description: "\(AuditReport.cell(name)): \(error)")
            }
            let locator = Locator(database: name)
            do {
                findings += Audit.findings(in: try await store.committedState(), locator: locator)
                findings += Audit.keyFindings(try await store.apiKeys(), asOfMs: asOfMs, locator: locator)
            } catch {
                try? await store.close()
                throw Failure(description: "\(AuditReport.cell(name)): cannot read the ledger or its API keys (\(error))")
            }
            try? await store.close()
            files.append(name)
        }
        return AuditReport(findings: findings, files: files)
    }
}
