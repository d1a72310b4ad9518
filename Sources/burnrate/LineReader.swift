import Foundation

/// Reads standard input line by line with a bound on a line's length, so that a stream without
/// newlines cannot exhaust memory: a longer line is skipped to its end and reported as too long.
struct BoundedLineReader {
    enum Line {
        case text(String)
        case tooLong
        case invalidUTF8
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> Line {
        String(validating: bytes, as: UTF8.self).map(Line.text) ?? .invalidUTF8
    }

    let maxBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var skipping = false

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    mutating func next() -> Line? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0a) {
                let bytes = buffer[start..<nl]
                start = nl + 1
                if skipping { skipping = false; return .tooLong }
                var line = bytes
                if line.last == 0x0d { line = line.dropLast() }
                return Self.decode(line)
            }
            if buffer.count - start > maxBytes {
                // No newline within the bound: drop what is buffered and skip to the line's end.
                skipping = true
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            if atEnd {
                guard start < buffer.count || skipping else { return nil }
                let rest = buffer[start...]
                buffer.removeAll()
                start = 0
                if skipping { skipping = false; return .tooLong }
                return Self.decode(rest)
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                atEnd = true
            } else {
                buffer.append(contentsOf: chunk[0..<n])
            }
        }
    }
}
