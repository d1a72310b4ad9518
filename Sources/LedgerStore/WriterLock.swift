import Foundation

/// One writer per ledger, and the evidence of how far its journal went.
///
/// **Exclusion** is an exclusive `flock` on the database file itself, so it holds for the file
/// whatever name reaches it (a symlink, a hard link, `./x.db`); SQLite's own locks are POSIX
/// record locks, independent of it.
///
/// **Evidence** is the file `<db>.lock` beside the database (named after the resolved path, never
/// followed if it is a symlink): `burnrate-ledger-lock/1 pid=P seq=N checksum=C`, the writer's pid
/// (so that a second process can say which one holds the ledger) and the sequence number and
/// checksum of the last command it acknowledged, rewritten after every commit (after the commit
/// is durable, so the file never claims more than the database holds; it is not synced itself: it
/// is evidence, not the record). At open, a journal that ends before `seq`, or whose checksum at
/// `seq` differs, lost acknowledged commands: its tail was deleted, the file was truncated or
/// replaced by an older copy, or an open WAL was deleted.
final class WriterLock: @unchecked Sendable {
    /// The evidence file.
    let path: String
    /// The database as its real path (symlinks resolved), once it exists.
    let databasePath: String
    /// Whether the database file existed before this lock was taken.
    let existed: Bool
    /// Whether this is the writer's lock (false: a reader that only reads the high-water mark).
    let exclusive: Bool
    private let evidenceFD: Int32
    private let databaseFD: Int32
    private let identity: String
    /// What the evidence said when the lock was taken: the last command acknowledged before.
    let previous: (seq: UInt64, checksum: String)?
    private var released = false
    private var recordedLength = -1

    /// Database files this process holds, by device and inode: a second store in the same process
    /// (a test reopening a ledger) shares the lock instead of failing against itself.
    nonisolated(unsafe) private static var held: [String: (fd: Int32, count: Int)] = [:]
    private static let heldLock = NSLock()

    enum Failure: Error {
        case inUse(pid: String?)
        case io(String)
    }

    init(databasePath requested: String, exclusive: Bool = true, create: Bool = true) throws(Failure) {
        self.exclusive = exclusive
        // Open (creating only if absent) the database file, to lock its inode.
        var fd = open(requested, O_RDWR | O_CLOEXEC)
        var existed = true
        if fd < 0 && errno == ENOENT && !create { throw .io("no such ledger (create one with `burnrate ledger init`)") }
        if fd < 0 && errno == ENOENT && exclusive {
            fd = open(requested, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            existed = false
            if fd < 0 && errno == EEXIST { fd = open(requested, O_RDWR | O_CLOEXEC); existed = true }
        }
        if fd < 0 && !exclusive { fd = open(requested, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw .io("cannot open \(requested): \(String(cString: strerror(errno)))") }
        self.existed = existed
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io("\(requested) is not a regular file")
        }
        identity = "\(st.st_dev):\(st.st_ino)"
        databasePath = Self.resolved(requested)
        path = databasePath + ".lock"

        if exclusive {
            Self.heldLock.lock()
            if let h = Self.held[identity] {
                close(fd)
                databaseFD = h.fd
                Self.held[identity] = (h.fd, h.count + 1)
            } else {
                if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    Self.heldLock.unlock()
                    close(fd)
                    let evidence = open(databasePath + ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                    let text = evidence >= 0 ? Self.read(evidence) : ""
                    if evidence >= 0 { close(evidence) }
                    throw .inUse(pid: Self.field("pid", in: text))
                }
                databaseFD = fd
                Self.held[identity] = (fd, 1)
            }
            Self.heldLock.unlock()
        } else {
            databaseFD = fd
        }

        // The evidence file: never through a symlink (it would overwrite the link's target).
        let flags = exclusive ? (O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC) : (O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        let evidence = open(path, flags, 0o644)
        if evidence < 0 && (exclusive || errno == ELOOP) {
            let reason = errno == ELOOP ? "is a symbolic link (refused: it would be written through)" : String(cString: strerror(errno))
            if exclusive { Self.releaseDatabase(identity) } else { close(fd) }
            throw .io("cannot open \(path): \(reason)")
        }
        evidenceFD = evidence
        let text = evidence >= 0 ? Self.read(evidence) : ""
        if let seq = Self.field("seq", in: text).flatMap({ UInt64($0) }), let checksum = Self.field("checksum", in: text) {
            previous = (seq, checksum)
        } else {
            previous = nil
        }
        // Name the writer at once, so that a second process can say which one holds the ledger.
        if exclusive { record(seq: previous?.seq ?? 0, checksum: previous?.checksum ?? "0") }
    }

    /// The path with symlinks resolved (the path itself when that fails).
    static func resolved(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return path }
        defer { free(r) }
        return String(cString: r)
    }

    /// Records the last acknowledged command (called after each durable commit).
    func record(seq: UInt64, checksum: String) {
        guard exclusive, evidenceFD >= 0 else { return }
        // Fixed width (a 20-digit seq), so that one pwrite replaces the whole text.
        let digits = String(seq)
        let text = "burnrate-ledger-lock/1 pid=\(getpid()) seq=\(String(repeating: "0", count: max(0, 20 - digits.count)) + digits) checksum=\(checksum)\n"
        let bytes = Array(text.utf8)
        if bytes.count != recordedLength {
            _ = ftruncate(evidenceFD, off_t(bytes.count))
            recordedLength = bytes.count
        }
        _ = bytes.withUnsafeBytes { pwrite(evidenceFD, $0.baseAddress, $0.count, 0) }
    }

    /// Releases this store's share of the lock (once; later calls do nothing).
    func release() {
        Self.heldLock.lock()
        let first = !released
        released = true
        Self.heldLock.unlock()
        guard first else { return }
        if evidenceFD >= 0 { close(evidenceFD) }
        if exclusive { Self.releaseDatabase(identity) } else { close(databaseFD) }
    }

    private static func releaseDatabase(_ identity: String) {
        heldLock.lock()
        defer { heldLock.unlock() }
        guard let h = held[identity] else { return }
        if h.count > 1 {
            held[identity] = (h.fd, h.count - 1)
        } else {
            held[identity] = nil
            close(h.fd)  // releases the flock
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
