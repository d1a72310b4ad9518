#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file read byte by byte through a fixed 64 KiB buffer, counting lines: the one way
/// usage exports are read, so that memory stays constant whatever the file's size (a JSON page
/// or a CSV record is walked, never loaded whole).
final class ByteSource {
    let path: String
    // The hot path reads these once a byte; dynamic exclusivity checks on them cost more than
    // the read itself (measured: a third of a spend log's load), and nothing here can overlap
    // two accesses (the class is used by one reader on one thread).
    /// 1-based line of the next byte.
    @exclusivity(unchecked) private(set) var line = 1
    private let file: UnsafeMutablePointer<FILE>
    private let buffer: UnsafeMutablePointer<UInt8>
    private static let capacity = 1 << 16
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    private(set) var failed = false

    init(path: String) throws(TraceError) {
        self.path = path
        file = try TraceReader.openRegularFile(path, what: "export")
        buffer = .allocate(capacity: Self.capacity)
    }

    deinit {
        fclose(file)
        buffer.deallocate()
    }

    /// The next byte without consuming it, nil at the end of the file (or on a read error,
    /// which ``failed`` then says).
    @inline(__always)
    func peek() -> UInt8? {
        if start == end {
            guard !failed else { return nil }
            end = fread(buffer, 1, Self.capacity, file)
            start = 0
            if end == 0 {
                if ferror(file) != 0 { failed = true }
                return nil
            }
        }
        return buffer[start]
    }

    /// Consumes the byte ``peek()`` returned.
    @inline(__always)
    func advance() {
        if buffer[start] == 10 { line += 1 }
        start += 1
    }

    /// Consumes and returns the next byte.
    @inline(__always)
    func next() -> UInt8? {
        guard let b = peek() else { return nil }
        advance()
        return b
    }

    func skipWhitespace() {
        while let b = peek(), b == 32 || b == 9 || b == 10 || b == 13 { advance() }
    }

    func readError() -> TraceError {
        TraceError(path: path, line: line, column: nil, message: "read error: \(String(cString: strerror(errno)))")
    }
}
