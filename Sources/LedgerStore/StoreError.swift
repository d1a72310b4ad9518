import Foundation
import GRDB
import Ledger

public enum StoreError: Error, CustomStringConvertible, Sendable {
    /// Damage, located at a sequence number.
    case corrupt(path: String, seq: UInt64, reason: String)
    /// Another process holds the ledger (its pid, when its lock file names it).
    case inUse(path: String, pid: String?)
    /// The store cannot be used (the lock file cannot be opened, the WAL was lost, it was closed).
    case unavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let seq, let reason): "\(path): journal entry \(seq): \(reason)"
        case .inUse(let path, let pid):
            "\(path) is in use by another process\(pid.map { " (pid \($0))" } ?? ""): one process writes a ledger at a time; wait for it to finish or stop it"
        case .unavailable(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// Reading columns of rows that may be damaged: a wrong type or a NULL is nil, never a trap.
extension Row {
    // Exact storage classes: SQLite converts freely (a REAL 1.5, a BLOB of text), a journal must not.
    func int64(_ column: String) -> Int64? { Self.int64(self[column] as DatabaseValue) }
    func text(_ column: String) -> String? { Self.text(self[column] as DatabaseValue) }
    // By position, for the replay loop: a lookup by name searches the columns on every access.
    func int64(at index: Int) -> Int64? { Self.int64(self[index] as DatabaseValue) }
    func text(at index: Int) -> String? { Self.text(self[index] as DatabaseValue) }

    static func int64(_ v: DatabaseValue) -> Int64? {
        guard case .int64(let n) = v.storage else { return nil }
        return n
    }
    static func text(_ v: DatabaseValue) -> String? {
        guard case .string(let s) = v.storage else { return nil }
        return s
    }
    func blob(_ column: String) -> Data? {
        let v: DatabaseValue = self[column]
        guard case .blob(let data) = v.storage else { return nil }
        return data
    }
}
