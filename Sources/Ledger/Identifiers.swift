/// A pool's dense index, assigned in creation order.
public struct PoolID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let index: Int32
    public init(_ index: Int32) { self.index = index }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "pool#\(index)" }
}

/// An identity's dense index (agent, service account, API key), assigned in creation order.
public struct IdentityID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let index: Int32
    public init(_ index: Int32) { self.index = index }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "identity#\(index)" }
}

/// A grant's dense index, assigned in creation order.
public struct GrantID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let index: Int32
    public init(_ index: Int32) { self.index = index }
    public static func < (a: Self, b: Self) -> Bool { a.index < b.index }
    public var description: String { "grant#\(index)" }
}

/// A hold's identity: a reusable slot plus a generation, so that a settled hold's slot can be
/// reused (memory stays bounded over millions of requests) while an old id never aliases a new
/// hold.
public struct HoldID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let slot: Int32
    public let generation: UInt32
    public init(slot: Int32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }

    /// A single integer form for printing and parsing (`generation << 32 | slot`).
    public var raw: Int64 { Int64(generation) << 32 | Int64(UInt32(bitPattern: slot)) }

    public init?(raw: Int64) {
        guard raw >= 0 else { return nil }
        self.slot = Int32(bitPattern: UInt32(truncatingIfNeeded: raw))
        self.generation = UInt32(truncatingIfNeeded: raw >> 32)
        guard slot >= 0 else { return nil }
    }

    public var description: String { "hold#\(raw)" }
}

/// A delegation's identity: a reusable slot plus a generation, as ``HoldID`` (closed delegations
/// free their slot, so memory stays bounded over millions of agent chains, and an old id never
/// aliases a new delegation). The first delegation of a slot has the slot's number as its
/// ``raw`` form.
public struct DelegationID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let slot: Int32
    public let generation: UInt32
    public init(slot: Int32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }

    /// A single integer form for printing and parsing (`generation << 32 | slot`).
    public var raw: Int64 { Int64(generation) << 32 | Int64(UInt32(bitPattern: slot)) }

    public init?(raw: Int64) {
        guard raw >= 0 else { return nil }
        self.slot = Int32(bitPattern: UInt32(truncatingIfNeeded: raw))
        self.generation = UInt32(truncatingIfNeeded: raw >> 32)
        guard slot >= 0 else { return nil }
    }

    public var description: String { "delegation#\(raw)" }
}
