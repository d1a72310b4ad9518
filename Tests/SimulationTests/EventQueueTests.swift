import Stochastic
import Testing
@testable import Simulation

@Suite("The event queue")
struct EventQueueTests {
    /// Random pushes (many ties in time, both classes), pops and replacements of the head, checked
    /// at every step against a plain list kept sorted by (time, class, sequence): the queue must
    /// always hold the same events and hand out the smallest.
    @Test func itAlwaysHandsOutTheSmallestByTimeClassAndSequence() {
        for seed in 0..<20 {
            let stream = RandomStream(seed: UInt64(seed), replication: 0, name: "queue")
            var queue = EventQueue()
            var reference: [(time: Int64, cls: UInt8, seq: UInt64, index: Int32)] = []
            var seq: UInt64 = 0
            func smallest() -> (time: Int64, cls: UInt8, seq: UInt64, index: Int32)? {
                reference.min { ($0.time, $0.cls, $0.seq) < ($1.time, $1.cls, $1.seq) }
            }
            func removeSmallest() {
                let s = smallest()!
                reference.removeAll { $0.seq == s.seq }
            }
            for step in 0..<2_000 {
                let time = Int64(stream.uniformInt(below: 50))
                let cls = UInt8(stream.uniformInt(below: 2))
                let index = Int32(step)
                switch stream.uniformInt(below: 4) {
                case 0, 1:
                    seq += 1
                    queue.push(time, .attempt, index, cls: cls)
                    reference.append((time, cls, seq, index))
                case 2:
                    let popped = queue.pop()
                    #expect(popped?.index == smallest()?.index, "seed \(seed) step \(step)")
                    if smallest() != nil { removeSmallest() }
                default:
                    guard !reference.isEmpty else { continue }
                    removeSmallest()
                    seq += 1
                    queue.replaceMin(time, .arrival, index, cls: cls)
                    reference.append((time, cls, seq, index))
                }
                #expect(queue.count == reference.count)
                #expect(queue.min?.index == smallest()?.index, "seed \(seed) step \(step)")
            }
            // Drain: strictly increasing keys.
            var last: SimEvent?
            while let e = queue.pop() {
                if let l = last { #expect(l < e) }
                last = e
            }
        }
    }
}
