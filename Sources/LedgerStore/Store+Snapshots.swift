import Foundation
import GRDB
import Ledger

// Snapshots: written from a detached task every `snapshotEvery` commands, the two newest kept.

extension LedgerStore {
    // MARK: Snapshots

    /// Snapshots the committed state (a copy, taken in this actor turn) and writes it from a
    /// detached task, so that the writer goes on; the two newest snapshots are kept.
    func takeSnapshot() {
        let snapshot = ledger.snapshot()
        let checksum = Self.hex(lastChecksum)
        lastSnapshotSeq = snapshot.lastSeq
        let db = self.db
        Task.detached(priority: .utility) {
            try? Self.write(snapshot, checksum: checksum, to: db)
        }
    }

    /// Writes a snapshot now (tests and `burnrate ledger snapshot`).
    public func snapshotNow() throws {
        let snapshot = ledger.snapshot()
        lastSnapshotSeq = snapshot.lastSeq
        try Self.write(snapshot, checksum: Self.hex(lastChecksum), to: db)
    }

    static func write(_ snapshot: LedgerSnapshot, checksum: String, to db: DatabasePool) throws {
        let data = try JSONEncoder().encode(snapshot)
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO snapshot (seq, checksum, state) VALUES (?, ?, ?)",
                           arguments: [Int64(snapshot.lastSeq), checksum, data])
            try db.execute(sql: "DELETE FROM snapshot WHERE seq NOT IN (SELECT seq FROM snapshot ORDER BY seq DESC LIMIT 2)")
        }
    }

}
