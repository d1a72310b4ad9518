import CGSL

/// The GSL generator algorithm behind a ``RandomStream``.
///
/// The default is ``taus2``: L'Ecuyer's maximally equidistributed combined Tausworthe generator,
/// period about 2^88, which passes the statistical batteries GSL documents and is the fastest
/// generator GSL offers. Measured here (`burnrate bench rng`), lognormal draws run about 1.7×
/// faster on `taus2` than on `mt19937`, which matters because a Monte Carlo run draws hundreds of
/// millions of variates. A scenario may name another generator to check that a result does not
/// depend on the generator.
public enum Generator: String, Sendable, CaseIterable, Codable {
    /// L'Ecuyer 1996 combined Tausworthe, period 2^88 (GSL `gsl_rng_taus2`). The default.
    case taus2
    /// Mersenne Twister MT19937, period 2^19937 − 1 (GSL `gsl_rng_mt19937`).
    case mt19937
    /// RANLUX at luxury level 2, double precision: slow but with proven decorrelation
    /// (GSL `gsl_rng_ranlxd2`).
    case ranlxd2
    /// Four-tap lagged-Fibonacci generator (GSL `gsl_rng_gfsr4`).
    case gfsr4

    var gslType: UnsafePointer<gsl_rng_type> {
        switch self {
        case .taus2: burnrate_rng_taus2()
        case .mt19937: burnrate_rng_mt19937()
        case .ranlxd2: burnrate_rng_ranlxd2()
        case .gfsr4: burnrate_rng_gfsr4()
        }
    }
}

/// GSL calls `abort()` on a domain error unless told otherwise. Every entry into GSL from this
/// module goes through ``GSLRuntime/ensureConfigured()`` first, so a bad parameter becomes a
/// NaN or an error code that Swift code checks, never a dead process.
enum GSLRuntime {
    private static let configured: Bool = {
        gsl_set_error_handler_off()
        return true
    }()

    @inline(__always)
    static func ensureConfigured() {
        _ = configured
    }
}

/// A reproducible stream of random numbers, backed by a GSL generator it owns.
///
/// A stream is identified by `(seed, replication, name)`. Its initial state is a pure function of
/// those three values (see ``StreamKey``), so:
/// - the same triple always yields the same sequence, on any machine and thread;
/// - streams with different names or replications are statistically independent;
/// - creating, removing or drawing from one stream never shifts another, which is what makes
///   common random numbers across scenario variants work.
///
/// `RandomStream` is a class because it owns C state (the `gsl_rng`), freed exactly once in
/// `deinit`. It is deliberately not `Sendable`: a generator advanced from two threads at once would
/// corrupt its state, so the compiler refuses to share one. Create one per replication and per
/// name instead; that is cheap (a few hundred nanoseconds).
public final class RandomStream {
    /// The raw GSL generator. Valid for the lifetime of the stream; do not free it.
    public let gslPointer: UnsafeMutablePointer<gsl_rng>
    /// The identity this stream was derived from.
    public let key: StreamKey
    /// The generator algorithm.
    public let generator: Generator

    /// Creates the stream for `(seed, replication, name)` on the given generator.
    ///
    /// - Complexity: O(1) for `taus2`, `mt19937` and `gfsr4` apart from their state set-up.
    public convenience init(seed: UInt64, replication: Int, name: String, generator: Generator = .taus2) {
        self.init(key: StreamKey(seed: seed, replication: replication, name: name), generator: generator)
    }

    /// Creates the stream for a precomputed key.
    public init(key: StreamKey, generator: Generator = .taus2) {
        GSLRuntime.ensureConfigured()
        guard let rng = gsl_rng_alloc(generator.gslType) else {
            // Allocation of a few dozen bytes failed: the process is out of memory.
            fatalError("gsl_rng_alloc failed: out of memory")
        }
        self.gslPointer = rng
        self.key = key
        self.generator = generator
        Self.seed(rng, generator: generator, key: key)
    }

    deinit {
        gsl_rng_free(gslPointer)
    }

    /// Sets the generator state from the key.
    ///
    /// GSL's own `gsl_rng_set` for `taus2` and `mt19937` uses only the low 32 bits of its seed, so
    /// two of a few thousand streams could collide (birthday bound). For `taus2`, the default, the
    /// three 32-bit state words are therefore written directly from three independent 64-bit
    /// SplitMix64 outputs of the key (about 2^88 distinct states), obeying the generator's
    /// constraints (s1 > 1, s2 > 7, s3 > 15) and warmed up with six draws as GSL does. Other
    /// generators are seeded through `gsl_rng_set` with the low 32 bits of the mixed key xor'ed
    /// with its high bits.
    private static func seed(_ rng: UnsafeMutablePointer<gsl_rng>, generator: Generator, key: StreamKey) {
        let words = key.stateWords()
        if generator == .taus2, gsl_rng_size(rng) == 3 * MemoryLayout<UInt>.stride,
           let raw = gsl_rng_state(rng)
        {
            let state = raw.bindMemory(to: UInt.self, capacity: 3)
            // Minimums and masking from GSL's taus.c (`taus_set`).
            var s1 = UInt(words.0 & 0xffff_ffff)
            var s2 = UInt(words.1 & 0xffff_ffff)
            var s3 = UInt(words.2 & 0xffff_ffff)
            if s1 < 2 { s1 += 2 }
            if s2 < 8 { s2 += 8 }
            if s3 < 16 { s3 += 16 }
            state[0] = s1
            state[1] = s2
            state[2] = s3
            for _ in 0..<6 { _ = gsl_rng_get(rng) }
        } else {
            let mixed = key.value
            gsl_rng_set(rng, UInt((mixed ^ (mixed >> 32)) & 0xffff_ffff))
        }
    }

    /// A uniform draw on [0, 1).
    @inlinable
    public func uniform() -> Double {
        gsl_rng_uniform(gslPointer)
    }

    /// A uniform draw on (0, 1), never exactly zero (safe to take a logarithm of).
    @inlinable
    public func uniformPositive() -> Double {
        gsl_rng_uniform_pos(gslPointer)
    }

    /// A uniform integer in `0..<bound`. `bound` must be in 1...2^32.
    @inlinable
    public func uniformInt(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= 1 << 32, "bound out of range")
        return Int(gsl_rng_uniform_int(gslPointer, UInt(bound)))
    }
}

/// The identity of a random stream and its documented mixing function.
///
/// The 64-bit key is
/// ```
/// key = mix(mix(mix(seed) ^ UInt64(bitPattern: replication)) ^ fnv1a64(utf8(name)))
/// ```
/// where `mix` is the SplitMix64 finaliser (Steele, Lea & Flood 2014; the constants of
/// `java.util.SplittableRandom`) applied to `x + 0x9E3779B97F4A7C15`, and `fnv1a64` is the 64-bit
/// FNV-1a hash of the name's UTF-8 bytes. Each step is a bijection of its input followed by an
/// avalanche, so changing any one component changes about half of the key's bits. The generator
/// state is then filled from the SplitMix64 sequence started at `key` (``stateWords()``).
public struct StreamKey: Hashable, Sendable, CustomStringConvertible {
    public let seed: UInt64
    public let replication: Int
    public let name: String
    /// The mixed 64-bit key.
    public let value: UInt64

    public init(seed: UInt64, replication: Int, name: String) {
        self.seed = seed
        self.replication = replication
        self.name = name
        var h = Self.mix(seed)
        h = Self.mix(h ^ UInt64(bitPattern: Int64(replication)))
        h = Self.mix(h ^ Self.fnv1a64(name))
        self.value = h
    }

    public var description: String { "stream(\(seed), \(replication), \(name))" }

    /// SplitMix64 output for state `x`: the finaliser applied to `x + golden gamma`.
    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64-bit FNV-1a over the UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Three state words: the SplitMix64 sequence started at ``value``.
    public func stateWords() -> (UInt64, UInt64, UInt64) {
        let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (Self.mix(value), Self.mix(value &+ golden), Self.mix(value &+ golden &* 2))
    }
}

extension RandomStream {
    /// An exponential draw with the given mean (`gsl_ran_exponential`), for callers whose mean
    /// changes from draw to draw (time-varying rates).
    @inlinable
    public func exponential(mean: Double) -> Double {
        gsl_ran_exponential(gslPointer, mean)
    }

    /// A gamma draw (`gsl_ran_gamma`); parameters are the caller's to validate.
    @inlinable
    public func gamma(shape: Double, scale: Double) -> Double {
        gsl_ran_gamma(gslPointer, shape, scale)
    }

    /// A Weibull draw (`gsl_ran_weibull`); parameters are the caller's to validate.
    @inlinable
    public func weibull(shape: Double, scale: Double) -> Double {
        gsl_ran_weibull(gslPointer, scale, shape)
    }
}
