import ArgumentParser
import Foundation

/// Reads standard input line by line with a bound on a line's length, so that a stream without
/// newlines cannot exhaust memory: a longer line is skipped to its end (scanning only for the
/// newline) and reported as too long. A read error (standard input is a folder, say) ends the
/// input with ``readError`` set, so that the caller can fail rather than take it for the end.
struct BoundedLineReader {
    enum Line {
        case text(String)
        case tooLong
        case invalidUTF8
    }

    let maxBytes: Int
    private(set) var readError: String?
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    static func decode(_ bytes: ArraySlice<UInt8>) -> Line {
        var line = bytes
        if line.last == 0x0d { line = line.dropLast() }
        return String(validating: line, as: UTF8.self).map(Line.text) ?? .invalidUTF8
    }

    /// Reads one chunk; false at the end of the input (or on an error).
    private mutating func fill() -> (ok: Bool, count: Int) {
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n > 0 { return (true, n) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { readError = String(cString: strerror(errno)) }
            return (false, 0)
        }
    }

    mutating func next() -> Line? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0a) {
                let line = buffer[start..<nl]
                start = nl + 1
                return Self.decode(line)
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let rest = buffer[start...]
                buffer.removeAll()
                start = 0
                return Self.decode(rest)
            }
            if buffer.count - start > maxBytes {
                // No newline within the bound: drop the line and skip to its end.
                buffer.removeAll(keepingCapacity: true)
                start = 0
                while true {
                    let (ok, n) = fill()
                    guard ok else { atEnd = true; return .tooLong }
                    if let nl = chunk[0..<n].firstIndex(of: 0x0a) {
                        buffer.append(contentsOf: chunk[(nl + 1)..<n])
                        return .tooLong
                    }
                }
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            let (ok, n) = fill()
            if ok { buffer.append(contentsOf: chunk[0..<n]) } else { atEnd = true }
        }
    }
}

/// Flushes standard output and fails (exit 2) when what was printed could not be written: a
/// script reading the answers must not be told "success" when it received nothing.
func finishOutput() throws {
    if standardOutputFailed() {
        writeStandardError("error: cannot write to standard output: \(String(cString: strerror(errno)))\n")
        throw ExitCode(2)
    }
}

/// Whether a flush of standard output has failed (a failed write's data is gone; the failure
/// must not be forgotten at the next, empty, flush).
nonisolated(unsafe) private var outputFailed = false

/// Flushes every C stream (`fflush(NULL)`: C's `stdout` global is not safe to name in Swift 6);
/// true when something printed could not be written, now or before.
func standardOutputFailed() -> Bool {
    if fflush(nil) != 0 { outputFailed = true }
    return outputFailed
}
