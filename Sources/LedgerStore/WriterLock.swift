import Foundation

/// The file `<db>.lock` beside a ledger database: an exclusive `flock` that makes one process
/// the ledger's only writer, and the evidence of how far the journal went.
///
/// Its text is `burnrate-ledger-lock/1 pid=P seq=N checksum=C`: the writer's pid (so that a
/// second process can say which one holds the ledger), and the sequence number and checksum of
/// the last command it acknowledged, rewritten after every commit (after the commit is durable,
/// so the file never claims more than the database holds; it is not synced itself: it is
/// evidence, not the record). At open, a journal that ends before `seq`, or whose checksum at
/// `seq` differs, lost acknowledged commands: its tail was deleted, the file was truncated or
/// replaced by an older copy, or an open WAL was deleted.
final class WriterLock: @unchecked Sendable {
    let path: String
    private let fd: Int32
    /// What the file said when the lock was taken: the previous writer's last acknowledged command.
    let previous: (seq: UInt64, checksum: String)?

    /// Descriptors this process holds, by lock path: a second store in the same process (a test
    /// reopening a ledger) shares the lock instead of failing against itself.
    nonisolated(unsafe) private static var held: [String: (fd: Int32, count: Int)] = [:]
    private static let heldLock = NSLock()

    enum Failure: Error {
        case inUse(pid: String?)
        case io(String)
    }

    /// Whether this is the writer's lock (false: a reader that only reads the high-water mark).
    let exclusive: Bool

    init(databasePath: String, exclusive: Bool = true) throws(Failure) {
        path = databasePath + ".lock"
        self.exclusive = exclusive
        if !exclusive {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            self.fd = fd
            let text = fd >= 0 ? Self.read(fd) : ""
            if let seq = Self.field("seq", in: text).flatMap({ UInt64($0) }), let checksum = Self.field("checksum", in: text) {
                previous = (seq, checksum)
            } else {
                previous = nil
            }
            return
        }
        Self.heldLock.lock()
        defer { Self.heldLock.unlock() }
        if let h = Self.held[path] {
            fd = h.fd
            Self.held[path] = (h.fd, h.count + 1)
        } else {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .io("cannot open \(path): \(String(cString: strerror(errno)))") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let text = Self.read(fd)
                close(fd)
                throw .inUse(pid: Self.field("pid", in: text))
            }
            self.fd = fd
            Self.held[path] = (fd, 1)
        }
        let text = Self.read(fd)
        if let seq = Self.field("seq", in: text).flatMap({ UInt64($0) }), let checksum = Self.field("checksum", in: text) {
            previous = (seq, checksum)
        } else {
            previous = nil
        }
    }

    /// Records the last acknowledged command (called after each durable commit).
    func record(seq: UInt64, checksum: String) {
        guard exclusive else { return }
        // Fixed width (a 20-digit seq), so that one pwrite replaces the whole text: two syscalls
        // fewer per commit than a truncate and a write.
        let digits = String(seq)
        let text = "burnrate-ledger-lock/1 pid=\(getpid()) seq=\(String(repeating: "0", count: max(0, 20 - digits.count)) + digits) checksum=\(checksum)\n"
        let bytes = Array(text.utf8)
        if bytes.count != recordedLength {
            _ = ftruncate(fd, off_t(bytes.count))
            recordedLength = bytes.count
        }
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private var recordedLength = -1

    private var released = false

    /// Releases this store's share of the lock (once; later calls do nothing).
    func release() {
        Self.heldLock.lock()
        defer { Self.heldLock.unlock() }
        guard !released else { return }
        released = true
        guard exclusive else {
            if fd >= 0 { close(fd) }
            return
        }
        guard let h = Self.held[path] else { return }
        if h.count > 1 {
            Self.held[path] = (h.fd, h.count - 1)
        } else {
            Self.held[path] = nil
            close(h.fd)
        }
    }

    static func read(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    static func field(_ name: String, in text: String) -> String? {
        for part in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where part.hasPrefix(name + "=") {
            let value = part.dropFirst(name.count + 1)
            // Only digits and hex letters: the file is read back into an error message.
            guard !value.isEmpty, value.count <= 32, value.allSatisfy({ $0.isHexDigit }) else { return nil }
            return String(value)
        }
        return nil
    }
}
