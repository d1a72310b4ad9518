import HeapModule

/// One simulation event: a time, a class (lower runs first at the same instant), an insertion
/// sequence (ties beyond that go in scheduling order), and what to do, as a kind and an index.
/// A plain value: no closure, no existential, nothing allocated per event.
struct SimEvent: Comparable {
    enum Kind: UInt8 { case arrival, attempt, completion, sample }
    var timeMs: Int64
    var cls: UInt8
    var seq: UInt64
    var kind: Kind
    var index: Int32

    @inline(__always)
    static func < (a: Self, b: Self) -> Bool {
        if a.timeMs != b.timeMs { return a.timeMs < b.timeMs }
        if a.cls != b.cls { return a.cls < b.cls }
        return a.seq < b.seq
    }
}

/// The event kernel's priority queue, ordered by (time, class, sequence), as SimPy's heap of
/// `(time, priority, id, event)` is. Ledger events (expiry, refills, top-ups) are not in it: the
/// ledger runs what falls due before each command, which puts them before requests at the same
/// instant.
struct EventQueue {
    private var heap = Heap<SimEvent>()
    private var seq: UInt64 = 0

    /// - Complexity: O(log n).
    @inline(__always)
    mutating func push(_ timeMs: Int64, _ kind: SimEvent.Kind, _ index: Int32, cls: UInt8 = 1) {
        seq &+= 1
        heap.insert(SimEvent(timeMs: timeMs, cls: cls, seq: seq, kind: kind, index: index))
    }

    /// - Complexity: O(log n).
    @inline(__always)
    mutating func pop() -> SimEvent? { heap.popMin() }

    /// The next event, left in the queue.
    @inline(__always)
    var min: SimEvent? { heap.min }

    /// Replaces the next event by a new one: one sift instead of a pop and a push (an arrival
    /// schedules its successor as it is handled).
    @inline(__always)
    mutating func replaceMin(_ timeMs: Int64, _ kind: SimEvent.Kind, _ index: Int32, cls: UInt8 = 1) {
        seq &+= 1
        heap.replaceMin(with: SimEvent(timeMs: timeMs, cls: cls, seq: seq, kind: kind, index: index))
    }

    @inline(__always)
    mutating func removeMin() { _ = heap.popMin() }

    var count: Int { heap.count }
}
