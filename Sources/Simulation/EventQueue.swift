/// One simulation event: a time, a class (lower runs first at the same instant), an insertion
/// sequence (ties beyond that go in scheduling order), and what to do, as a kind and an index.
/// A plain value: no closure, no existential, nothing allocated per event.
///
/// The ordering key is packed into two words: `timeMs`, then `order` = class in the top 8 bits and
/// the insertion sequence in the low 56 (2^56 events is far beyond any run).
struct SimEvent: Comparable {
    enum Kind: UInt8 { case arrival, attempt, completion, sample, revoke }
    var timeMs: Int64
    var order: UInt64
    var kind: Kind
    var index: Int32

    init(timeMs: Int64, cls: UInt8, seq: UInt64, kind: Kind, index: Int32) {
        self.timeMs = timeMs
        self.order = UInt64(cls) << 56 | (seq & (1 << 56 - 1))
        self.kind = kind
        self.index = index
    }

    @inline(__always)
    static func < (a: Self, b: Self) -> Bool {
        a.timeMs < b.timeMs || (a.timeMs == b.timeMs && a.order < b.order)
    }
}

/// The event kernel's priority queue, ordered by (time, class, sequence), as SimPy's heap of
/// `(time, priority, id, event)` is. Ledger events (expiry, refills, top-ups) are not in it: the
/// ledger runs what falls due before each command, which puts them before requests at the same
/// instant.
///
/// A binary min-heap in an array (the kernel needs only the minimum, so a min-max heap's extra
/// comparisons per level would be wasted). The order is total (sequences are unique), so the
/// order of events popped does not depend on the heap's layout.
struct EventQueue {
    private var heap: [SimEvent] = []
    private var seq: UInt64 = 0

    /// - Complexity: O(log n).
    @inline(__always)
    mutating func push(_ timeMs: Int64, _ kind: SimEvent.Kind, _ index: Int32, cls: UInt8 = 1) {
        seq &+= 1
        heap.append(SimEvent(timeMs: timeMs, cls: cls, seq: seq, kind: kind, index: index))
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            let e = h[i]
            while i > 0 {
                let parent = (i - 1) / 2
                guard e < h[parent] else { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = e
        }
    }

    /// Removes and returns the next event.
    /// - Complexity: O(log n).
    @inline(__always)
    mutating func pop() -> SimEvent? {
        guard let first = heap.first else { return nil }
        removeMin()
        return first
    }

    /// The next event, left in the queue.
    @inline(__always)
    var min: SimEvent? { heap.first }

    /// Replaces the next event by a new one: one sift instead of a pop and a push (an arrival
    /// schedules its successor as it is handled).
    @inline(__always)
    mutating func replaceMin(_ timeMs: Int64, _ kind: SimEvent.Kind, _ index: Int32, cls: UInt8 = 1) {
        seq &+= 1
        siftDown(SimEvent(timeMs: timeMs, cls: cls, seq: seq, kind: kind, index: index))
    }

    /// Removes the next event.
    @inline(__always)
    mutating func removeMin() {
        let last = heap.removeLast()
        if !heap.isEmpty { siftDown(last) }
    }

    /// Puts `e` at the root and sifts it down to its place.
    @inline(__always)
    private mutating func siftDown(_ e: SimEvent) {
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && h[child + 1] < h[child] { child += 1 }
                guard h[child] < e else { break }
                h[i] = h[child]
                i = child
            }
            h[i] = e
        }
    }

    var count: Int { heap.count }
}
