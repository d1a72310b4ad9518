import Foundation
import GRDB
import Ledger

// Recovery and verification: opening from the newest valid snapshot plus the journal after it,
// the checks that a journal is no shorter than its evidence, full replays, and the checksum chain.

extension LedgerStore {
    /// Where the store holds evidence of a longer journal, a shorter one is damage: a snapshot
    /// beyond the journal's end, or a writer that acknowledged more (its lock file's high-water
    /// mark) than the journal holds, or another command at that sequence number.
    static func checkLength(_ db: DatabasePool, path: String, journalEnd: UInt64, acknowledged: (seq: UInt64, checksum: String)?) async throws {
        let (newestSnapshot, checksumAtMark) = try await db.read { db -> (Int64?, String?) in
            // `seq` is the rowid (always an integer): a range on it is a lookup, not a scan.
            if let bad = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM journal WHERE seq < 1") {
                throw StoreError.corrupt(path: path, seq: 0, reason: "a row with the invalid sequence number \(bad) (journal entries start at 1)")
            }
            let snapshot = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM snapshot")
            let mark = try acknowledged.flatMap { a in
                try DatabaseValue.fetchOne(db, sql: "SELECT checksum FROM journal WHERE seq = ?", arguments: [Int64(clamping: a.seq)])
                    .flatMap { String.fromDatabaseValue($0) }
            }
            return (snapshot, mark)
        }
        if let s = newestSnapshot, s > 0, UInt64(s) > journalEnd {
            throw StoreError.corrupt(path: path, seq: journalEnd + 1,
                                     reason: "missing: a snapshot at \(s) proves the journal held \(s) commands, but it ends at \(journalEnd) (its tail was lost)")
        }
        if let a = acknowledged, a.seq > 0 {
            guard a.seq <= journalEnd else {
                throw StoreError.corrupt(path: path, seq: journalEnd + 1,
                                         reason: "missing: \(path).lock records command \(a.seq) as acknowledged, but the journal ends at \(journalEnd) (its tail, the file or its WAL was lost). If you replaced the database on purpose, remove \(path).lock")
            }
            guard checksumAtMark == a.checksum else {
                throw StoreError.corrupt(path: path, seq: a.seq,
                                         reason: "not the command \(path).lock records as acknowledged (another history, or an older copy of the database)")
            }
        }
    }

    /// How a store's state was rebuilt when it was opened.
    public struct Recovery: Sendable {
        /// The snapshot it started from (nil: the whole journal was replayed).
        public var snapshotSeq: UInt64?
        /// Journal commands replayed after the snapshot.
        public var replayed: UInt64
        /// Snapshots found unusable (newest first), with why; recovery fell back past them.
        public var skipped: [String]
    }

    /// Recovery at open: the newest snapshot that checks out (its checksum is the journal's at its
    /// sequence number, it decodes, its keys' commands are in the journal, its digest matches),
    /// then the journal after it; without one, the whole journal.
    static func open(_ db: DatabasePool, config: LedgerConfig, path: String) async throws -> (Ledger, UInt64, Recovery) {
        let rows = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, checksum, state FROM snapshot ORDER BY seq DESC")
                .map { ($0.int64("seq"), $0.text("checksum"), $0.blob("state")) }
        }
        var skipped: [String] = []
        var candidates: [(UInt64, String, Data)] = []
        for (s, c, d) in rows {
            // A damaged snapshot row is skipped (recovery falls back past it), never a trap.
            guard let s, s > 0, let c, let d else {
                skipped.append("snapshot at \(rows.count > 0 ? s.map(String.init) ?? "?" : "?"): the row is damaged (wrong types or NULL)")
                continue
            }
            candidates.append((UInt64(s), c, d))
        }
        for (seq, checksum, data) in candidates {
            do {
                let journalChecksum = try await db.read { db in
                    try DatabaseValue.fetchOne(db, sql: "SELECT checksum FROM journal WHERE seq = ?", arguments: [Int64(seq)])
                        .flatMap { String.fromDatabaseValue($0) }
                }
                guard journalChecksum == checksum, let chain = UInt64(checksum, radix: 16) else {
                    throw SnapshotProblem("its checksum is not the journal's at that sequence number")
                }
                let snapshot = try JSONDecoder().decode(LedgerSnapshot.self, from: data)
                guard snapshot.lastSeq == seq else { throw SnapshotProblem("it is labelled \(seq) but holds \(snapshot.lastSeq)") }
                let keySeqs = snapshot.rememberedKeys.map(\.seq)
                var requests: [IdempotencyKey: Request] = [:]
                if let first = keySeqs.min() {
                    let rows = try await db.read { db in
                        try Row.fetchAll(db, sql: "SELECT key, record FROM journal WHERE seq BETWEEN ? AND ? AND key IS NOT NULL",
                                         arguments: [Int64(first), Int64(seq)]).compactMap { row -> (String, String)? in
                            guard let key = row.text("key"), let record = row.text("record") else { return nil }
                            return (key, record)
                        }
                    }
                    let wanted = Set(snapshot.rememberedKeys.map { IdempotencyKey($0.key) })
                    for (key, text) in rows where wanted.contains(IdempotencyKey(key)) {
                        if let row = JournalCodec.decode(text), row.answer.hasPrefix("A") { requests[IdempotencyKey(key)] = row.request }
                    }
                }
                let ledger = try Ledger(snapshot: snapshot, config: config) { requests[IdempotencyKey($0)] }
                let (rebuilt, last) = try await replay(db, from: ledger, checksum: chain, path: path)
                return (rebuilt, last, Recovery(snapshotSeq: seq, replayed: rebuilt.lastSeq - seq, skipped: skipped))
            } catch let error as StoreError {
                throw error
            } catch {
                skipped.append("snapshot at \(seq): \(error)")
            }
        }
        let (ledger, last) = try await replay(db, from: Ledger(config: config), checksum: chainSeed, path: path)
        return (ledger, last, Recovery(snapshotSeq: nil, replayed: ledger.lastSeq, skipped: skipped))
    }

    struct SnapshotProblem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: Recovery and verification

    /// Replays the journal: checks the sequence, the checksum chain and each outcome, and returns
    /// the rebuilt ledger with the last checksum. A broken row stops recovery with a
    /// ``StoreError/corrupt(path:seq:reason:)`` naming its sequence number.
    static func recover(_ db: DatabasePool, config: LedgerConfig, path: String,
                        snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        try await replay(db, from: Ledger(config: config), checksum: chainSeed, path: path, snapshotStates: snapshotStates)
    }

    /// A snapshot's canonical bytes (sorted keys), to compare states field by field.
    static func normalised(_ s: LedgerSnapshot) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(s)
    }

    /// Replays the journal rows after `start.lastSeq` onto `start`, continuing the checksum chain
    /// from `checksum`. With `snapshotStates` (canonical snapshot bytes by sequence number), the
    /// state at each snapshot's sequence number must equal the snapshot, field by field.
    static func replay(_ db: DatabasePool, from start: Ledger, checksum start0: UInt64, path: String,
                       snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        try await db.read { db in
            var ledger = start
            var checksum = start0
            var expected: UInt64 = start.lastSeq + 1
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, at_ms, key, record, checksum FROM journal WHERE seq >= ? ORDER BY seq",
                                             arguments: [Int64(expected)])
            // Columns by position: 0 seq, 1 at_ms, 2 key, 3 record, 4 checksum.
            while let row = try cursor.next() {
                guard let s = row.int64(at: 0), s > 0 else {
                    throw StoreError.corrupt(path: path, seq: expected, reason: "a row after \(expected - 1) has no valid sequence number")
                }
                let seq = UInt64(s)
                guard seq == expected else { throw StoreError.corrupt(path: path, seq: expected, reason: "missing from the journal (next is \(seq))") }
                guard let text = row.text(at: 3) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "the record is missing (NULL or not text)")
                }
                checksum = chain(checksum, text)
                guard hex(checksum) == row.text(at: 4) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "checksum mismatch: the row was altered or damaged")
                }
                guard let decoded = JournalCodec.decode(text) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "unreadable record")
                }
                // The indexed columns repeat the record: they must agree with it.
                let keyColumn: DatabaseValue = row[2]
                let keyAgrees: Bool
                if let key = decoded.request.key {
                    keyAgrees = Row.text(keyColumn).map { $0.utf8.elementsEqual(key.utf8) } ?? false
                } else {
                    keyAgrees = keyColumn.isNull
                }
                guard row.int64(at: 1) == decoded.request.atMs, keyAgrees else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "its at_ms or key column differs from its record")
                }
                let outcome = ledger.apply(decoded.request)
                guard JournalCodec.answer(outcome) == decoded.answer, ledger.lastSeq == seq else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "replay gives a different outcome than the one recorded")
                }
                if let state = snapshotStates[seq], (try? normalised(ledger.snapshot())) != state {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "the snapshot at this sequence number differs from the journal's state")
                }
                expected += 1
            }
            return (ledger, checksum)
        }
    }

    /// Recomputes every checksum and outcome from the journal and checks the ledger's invariants.
    public func verify() async throws -> VerifyReport {
        // Every snapshot must match the state the journal gives at its sequence number.
        let snapshots = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, state FROM snapshot").map { ($0.int64("seq"), $0.blob("state")) }
        }
        var states: [UInt64: Data] = [:]
        for (s, data) in snapshots {
            let seq = UInt64(max(0, s ?? 0))
            guard let data, let snap = try? JSONDecoder().decode(LedgerSnapshot.self, from: data), let normal = try? Self.normalised(snap) else {
                throw StoreError.corrupt(path: path, seq: seq, reason: "the snapshot at this sequence number is unreadable")
            }
            states[seq] = normal
        }
        let (rebuilt, _) = try await Self.recover(db, config: config, path: path, snapshotStates: states)
        try await Self.checkLength(db, path: path, journalEnd: rebuilt.lastSeq, acknowledged: (ledger.lastSeq, Self.hex(lastChecksum)))
        return VerifyReport(commands: rebuilt.lastSeq, digest: rebuilt.stateDigest,
                            matchesMemory: rebuilt.stateDigest == ledger.stateDigest,
                            invariantViolations: rebuilt.invariantViolations())
    }

    // MARK: Encoding

    static let chainSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a 64 over the previous checksum's hex and the record's text: any altered, missing or
    /// reordered row breaks the chain from there on.
    static func chain(_ previous: UInt64, _ text: String) -> UInt64 {
        var h = chainSeed
        for b in hex(previous).utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func hex(_ x: UInt64) -> String {
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

public struct VerifyReport: Sendable {
    public var commands: UInt64
    public var digest: UInt64
    public var matchesMemory: Bool
    public var invariantViolations: [String]
    public var ok: Bool { matchesMemory && invariantViolations.isEmpty }
}
