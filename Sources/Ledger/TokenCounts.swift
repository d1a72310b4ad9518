/// The classes a provider bills a request's tokens in. The raw values are the keys of a price row
/// (scenario `prices:`, the price CSV's `<class>_usd_per_mtok` columns) and of reports.
public enum TokenClass: String, CaseIterable, Hashable, Sendable, Codable {
    /// Input tokens read from nowhere but the request (billed at list price).
    case input
    /// Input tokens read from the provider's prompt cache.
    case cachedInput = "cached_input"
    /// Input tokens written to the prompt cache with the default (5-minute) retention.
    case cacheWrite = "cache_write"
    /// Input tokens written to the prompt cache with the long (1-hour) retention.
    case cacheWrite1h = "cache_write_1h"
    /// Output tokens, reasoning tokens included.
    case output

    /// Whether the class is a part of the request's input (every class but `output`).
    public var isInput: Bool { self != .output }
}

/// How one request's tokens split over the ``TokenClass``es: the unit a ``PriceTable`` prices.
///
/// `input` is the **uncached** input only; a request's whole prompt is ``totalInput``
/// (`input + cachedInput + cacheWrite + cacheWrite1h`). A request that knows nothing of caching
/// is `TokenCounts(input: i, output: o)` and is priced exactly as `(input, output)` always was.
public struct TokenCounts: Hashable, Sendable, Codable {
    /// Uncached input tokens.
    public var input: Int64
    /// Input tokens read from the prompt cache.
    public var cachedInput: Int64
    /// Input tokens written to the prompt cache, default (5-minute) retention.
    public var cacheWrite: Int64
    /// Input tokens written to the prompt cache, 1-hour retention.
    public var cacheWrite1h: Int64
    /// Output tokens (reasoning included).
    public var output: Int64

    @inlinable
    public init(input: Int64 = 0, cachedInput: Int64 = 0, cacheWrite: Int64 = 0, cacheWrite1h: Int64 = 0, output: Int64 = 0) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
        self.cacheWrite1h = cacheWrite1h
        self.output = output
    }

    /// The tokens of one class.
    public subscript(_ c: TokenClass) -> Int64 {
        @inlinable get {
            switch c {
            case .input: input
            case .cachedInput: cachedInput
            case .cacheWrite: cacheWrite
            case .cacheWrite1h: cacheWrite1h
            case .output: output
            }
        }
        @inlinable set {
            switch c {
            case .input: input = newValue
            case .cachedInput: cachedInput = newValue
            case .cacheWrite: cacheWrite = newValue
            case .cacheWrite1h: cacheWrite1h = newValue
            case .output: output = newValue
            }
        }
    }

    /// The input tokens of all classes together (what a `long_context` threshold compares), or nil
    /// on overflow.
    @inlinable
    public var totalInput: Int64? {
        guard let a = Money.add(input, cachedInput), let b = Money.add(a, cacheWrite) else { return nil }
        return Money.add(b, cacheWrite1h)
    }

    /// Whether every class is non-negative (a negative count prices to nil).
    @inlinable
    public var isValid: Bool {
        input >= 0 && cachedInput >= 0 && cacheWrite >= 0 && cacheWrite1h >= 0 && output >= 0
    }

    /// Whether all input is uncached (the split of a request that knows nothing of caching).
    public var isUncachedOnly: Bool { cachedInput == 0 && cacheWrite == 0 && cacheWrite1h == 0 }
}
