import Foundation
import Ledger
import Testing
@testable import LedgerStore

/// `environment` on pools and identities, through every durable form: the `apply` vocabulary, the
/// journal, snapshots and the interchange format; and a ledger written before the field existed.
@Suite("Environments: apply, journal, snapshots, interchange, compatibility")
struct EnvironmentTests {
    static func fixture(_ name: String, file: String = #filePath) -> String {
        URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/pre-environment/\(name)").path
    }

    static func exportLines(_ store: LedgerStore) throws -> [String] {
        var ledger = Ledger(config: store.config)
        var lines = [JournalInterchange.header]
        for r in try store.records() {
            ledger.apply(r.request)
            lines.append(JournalInterchange.line(for: r, ledger: ledger))
        }
        return lines
    }

    @Test func aLedgerWrittenBeforeEnvironmentsOpensFromItsSnapshotAndExportsUnchanged() async throws {
        let old = Self.fixture("old.db")
        #expect(FileManager.default.fileExists(atPath: old), "fixture missing: \(old)")
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try FileManager.default.copyItem(atPath: old, toPath: path)
        let store = try await LedgerStore(path: path, snapshotEvery: 0)
        // The snapshot decodes (no environment key) and its digest still matches the state.
        #expect(store.recovery.snapshotSeq == 12 && store.recovery.replayed == 3 && store.recovery.skipped.isEmpty)
        #expect(await store.state.stateDigest == 0x1f6b_a6d5_b11e_d7bb)
        let report = try await store.verify()
        #expect(report.ok, "\(report.invariantViolations)")
        let expected = try String(contentsOfFile: Self.fixture("old-export.jsonl"), encoding: .utf8)
        #expect(try Self.exportLines(store).joined(separator: "\n") + "\n" == expected)
        #expect(await store.state.poolConfigurations.allSatisfy { $0.environment == nil })
    }

    @Test func anOldExportImportsToTheSameState() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await LedgerStore(path: path, snapshotEvery: 0)
        let text = try String(contentsOfFile: Self.fixture("old-export.jsonl"), encoding: .utf8)
        for line in text.split(separator: "\n").map(String.init) where !(try JournalInterchange.isHeader(line)) {
            let operation = try LedgerOperation.parse(line, mode: .history)
            guard case .success = try await store.apply(operation, nowMs: 0) else { Issue.record("refused: \(line)"); return }
        }
        #expect(await store.state.stateDigest == 0x1f6b_a6d5_b11e_d7bb)
    }

    @Test func environmentsSurviveTheJournalSnapshotsAndTheInterchangeFormat() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        var store: LedgerStore? = try await LedgerStore(path: path, snapshotEvery: 0)
        _ = try await op(store!, #"{"op":"create_pool","pool":"prod","environment":"production"}"#)
        _ = try await op(store!, #"{"op":"create_pool","pool":"lab","parent":"prod","environment":"sandbox"}"#)
        _ = try await op(store!, #"{"op":"create_identity","identity":"bot","pools":["lab"],"environment":"sandbox"}"#)
        try await store!.snapshotNow()
        _ = try await op(store!, #"{"op":"create_pool","pool":"plain"}"#)
        let digest = await store!.state.stateDigest
        let lines = try Self.exportLines(store!)
        try await store!.close()
        store = nil
        #expect(lines[1].contains(#""environment":"production""#) && lines[3].contains(#""environment":"sandbox""#))
        #expect(!lines[4].contains("environment"))

        let reopened = try await LedgerStore(path: path, snapshotEvery: 0)
        #expect(reopened.recovery.snapshotSeq != nil)
        #expect(await reopened.state.stateDigest == digest)
        let pools = await reopened.state.poolConfigurations
        #expect(pools.map(\.environment) == ["production", "sandbox", nil])
        #expect(await reopened.state.identityConfigurations.map(\.environment) == ["sandbox"])

        // Import of the export rebuilds the same state, environments included.
        let copy = temporaryDatabase()
        defer { removeDatabase(copy) }
        let imported = try await LedgerStore(path: copy, snapshotEvery: 0)
        for line in lines.dropFirst() {
            guard case .success = try await imported.apply(try LedgerOperation.parse(line, mode: .history), nowMs: 0) else {
                Issue.record("refused: \(line)"); return
            }
        }
        #expect(await imported.state.stateDigest == digest)
    }

    @Test func anEnvironmentIsANameAndPartOfTheDigest() async throws {
        #expect(throws: LedgerOperation.OperationError.self) {
            try LedgerOperation.parse(#"{"op":"create_pool","pool":"p","environment":"not a name"}"#)
        }
        var a = Ledger(), b = Ledger()
        a.apply(Request(atMs: 0, .createPool(PoolSpec(name: "p"))))
        b.apply(Request(atMs: 0, .createPool(PoolSpec(name: "p", environment: "sandbox"))))
        #expect(a.stateDigest != b.stateDigest)
        #expect(b.apply(Request(atMs: 0, .createPool(PoolSpec(name: "q", environment: "bad/env")))).refusal != nil)
        // Saying the environment makes another request (a retry must say it too).
        let plain = try LedgerOperation.parse(#"{"op":"create_pool","pool":"p"}"#)
        let said = try LedgerOperation.parse(#"{"op":"create_pool","pool":"p","environment":"sandbox"}"#)
        #expect(plain.fingerprint != said.fingerprint)
    }
}
