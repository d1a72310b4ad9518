/// The price of one model (or tool) in micro-credits per million tokens of each ``TokenClass``,
/// plus a fixed cost per call.
///
/// A cache class with no rate (`nil`) is billed at the input rate; the output rate is always
/// given (a price row that omits it means 0). A ``LongContextPrice`` tier replaces the rates of a
/// request whose input of all classes exceeds its threshold; a batch multiplier scales every
/// class's rate for batched work.
public struct ModelPrice: Hashable, Sendable, Codable {
    public var model: String
    /// The tier the ledger's entitlements and `degrade` policies speak of (a small dense index
    /// chosen by the caller; 0 is usually the premium tier).
    public var tier: Int
    /// Uncached input.
    public var inputMicrocreditsPerMillionTokens: Int64
    public var outputMicrocreditsPerMillionTokens: Int64
    public var fixedMicrocredits: Int64
    /// Cache reads; nil: billed at the input rate.
    public var cachedInputMicrocreditsPerMillionTokens: Int64?
    /// Cache writes with the default (5-minute) retention; nil: billed at the input rate.
    public var cacheWriteMicrocreditsPerMillionTokens: Int64?
    /// Cache writes with the 1-hour retention; nil: billed at the input rate.
    public var cacheWrite1hMicrocreditsPerMillionTokens: Int64?
    /// The long-context tier, if the model has one.
    public var longContext: LongContextPrice?
    /// The batch multiplier on every class's rate, in parts per million (`500_000` is × 0.5);
    /// nil: batched work pays list price. An integer so that the cost stays exact.
    public var batchMultiplierPartsPerMillion: Int64?

    public init(model: String, tier: Int, inputMicrocreditsPerMillionTokens: Int64,
                outputMicrocreditsPerMillionTokens: Int64, fixedMicrocredits: Int64 = 0,
                cachedInputMicrocreditsPerMillionTokens: Int64? = nil,
                cacheWriteMicrocreditsPerMillionTokens: Int64? = nil,
                cacheWrite1hMicrocreditsPerMillionTokens: Int64? = nil,
                longContext: LongContextPrice? = nil,
                batchMultiplierPartsPerMillion: Int64? = nil) {
        self.model = model
        self.tier = tier
        self.inputMicrocreditsPerMillionTokens = inputMicrocreditsPerMillionTokens
        self.outputMicrocreditsPerMillionTokens = outputMicrocreditsPerMillionTokens
        self.fixedMicrocredits = fixedMicrocredits
        self.cachedInputMicrocreditsPerMillionTokens = cachedInputMicrocreditsPerMillionTokens
        self.cacheWriteMicrocreditsPerMillionTokens = cacheWriteMicrocreditsPerMillionTokens
        self.cacheWrite1hMicrocreditsPerMillionTokens = cacheWrite1hMicrocreditsPerMillionTokens
        self.longContext = longContext
        self.batchMultiplierPartsPerMillion = batchMultiplierPartsPerMillion
    }

    /// The rate (micro-credits per million tokens) of class `c`, at the base row or, when
    /// `longContext` is true and the model has a tier, at the tier.
    ///
    /// A tier's omitted rate is the base row's; a cache class that has a rate in neither is billed
    /// at the input rate in effect (the tier's when it has one), so that "no rate means input"
    /// reads the same at both levels.
    @inlinable
    public func rate(_ c: TokenClass, longContext long: Bool = false) -> Int64 {
        let tier = long ? longContext : nil
        let input = tier?.inputMicrocreditsPerMillionTokens ?? inputMicrocreditsPerMillionTokens
        switch c {
        case .input: return input
        case .output: return tier?.outputMicrocreditsPerMillionTokens ?? outputMicrocreditsPerMillionTokens
        case .cachedInput: return tier?.cachedInputMicrocreditsPerMillionTokens ?? cachedInputMicrocreditsPerMillionTokens ?? input
        case .cacheWrite: return tier?.cacheWriteMicrocreditsPerMillionTokens ?? cacheWriteMicrocreditsPerMillionTokens ?? input
        case .cacheWrite1h: return tier?.cacheWrite1hMicrocreditsPerMillionTokens ?? cacheWrite1hMicrocreditsPerMillionTokens ?? input
        }
    }

    /// Whether `tokens` pay the long-context tier: the model has one and the request's input of
    /// all classes together exceeds its threshold.
    @inlinable
    public func isLongContext(_ tokens: TokenCounts) -> Bool {
        guard let tier = longContext, let total = tokens.totalInput else { return false }
        return total > tier.aboveInputTokens
    }
}

/// A model's long-context tier: a request whose input tokens of all classes together exceed
/// ``aboveInputTokens`` pays these rates on **all** its tokens; a rate left nil is the base row's.
public struct LongContextPrice: Hashable, Sendable, Codable {
    public var aboveInputTokens: Int64
    public var inputMicrocreditsPerMillionTokens: Int64?
    public var cachedInputMicrocreditsPerMillionTokens: Int64?
    public var cacheWriteMicrocreditsPerMillionTokens: Int64?
    public var cacheWrite1hMicrocreditsPerMillionTokens: Int64?
    public var outputMicrocreditsPerMillionTokens: Int64?

    public init(aboveInputTokens: Int64, inputMicrocreditsPerMillionTokens: Int64? = nil,
                cachedInputMicrocreditsPerMillionTokens: Int64? = nil,
                cacheWriteMicrocreditsPerMillionTokens: Int64? = nil,
                cacheWrite1hMicrocreditsPerMillionTokens: Int64? = nil,
                outputMicrocreditsPerMillionTokens: Int64? = nil) {
        self.aboveInputTokens = aboveInputTokens
        self.inputMicrocreditsPerMillionTokens = inputMicrocreditsPerMillionTokens
        self.cachedInputMicrocreditsPerMillionTokens = cachedInputMicrocreditsPerMillionTokens
        self.cacheWriteMicrocreditsPerMillionTokens = cacheWriteMicrocreditsPerMillionTokens
        self.cacheWrite1hMicrocreditsPerMillionTokens = cacheWrite1hMicrocreditsPerMillionTokens
        self.outputMicrocreditsPerMillionTokens = outputMicrocreditsPerMillionTokens
    }
}

/// Turns (model, tokens by class) into micro-credits, exactly.
///
/// **Rounding rule (the only one):** the exact cost of a call is
/// `Σ over classes (tokens × rate) / 1,000,000` micro-credits (times the batch multiplier for
/// batched work), a rational number; it is rounded **up** once, to the next whole micro-credit,
/// and the fixed cost is added. Rounding up never under-charges, and rounding once per call (not
/// per token, class or direction) over-charges by less than one micro-credit per call. All
/// arithmetic is integer and checked: a cost that would overflow `Int64` (any class's
/// tokens × rate, or their sum) is `nil`, which callers treat as a refused command.
public struct PriceTable: Sendable {
    public private(set) var models: [ModelPrice] = []
    private var indexByName: [String: Int] = [:]

    public init(_ models: [ModelPrice] = []) {
        for m in models { add(m) }
    }

    /// Adds or replaces a model's price.
    public mutating func add(_ price: ModelPrice) {
        if let i = indexByName[price.model] {
            models[i] = price
        } else {
            indexByName[price.model] = models.count
            models.append(price)
        }
    }

    /// The dense index of a model, for hot paths that price by index.
    public func index(of model: String) -> Int? { indexByName[model] }

    public subscript(model: String) -> ModelPrice? {
        indexByName[model].map { models[$0] }
    }

    /// The cost of one call of `model`, or nil when the model is unknown or the cost overflows.
    public func cost(model: String, inputTokens: Int64, outputTokens: Int64) -> Int64? {
        guard let i = indexByName[model] else { return nil }
        return Self.cost(models[i], inputTokens: inputTokens, outputTokens: outputTokens)
    }

    /// The cost of one call of `model` with `tokens` split by class (batched when `batch`), or nil
    /// when the model is unknown, a count is negative or the cost overflows.
    public func cost(model: String, tokens: TokenCounts, batch: Bool = false) -> Int64? {
        guard let i = indexByName[model] else { return nil }
        return Self.cost(models[i], tokens: tokens, batch: batch)
    }

    /// The cost of one call at `price` with uncached input and output only (see the rounding rule
    /// above); nil on overflow or negative token counts. The same as
    /// `cost(price, tokens: TokenCounts(input:output:))`, on a path with one branch for the
    /// common row without a long-context tier.
    @inlinable
    public static func cost(_ price: ModelPrice, inputTokens: Int64, outputTokens: Int64) -> Int64? {
        if price.longContext != nil {
            return cost(price, tokens: TokenCounts(input: inputTokens, output: outputTokens))
        }
        return PlainPrice.cost(inputTokens: inputTokens, outputTokens: outputTokens, input: price.inputMicrocreditsPerMillionTokens,
                               output: price.outputMicrocreditsPerMillionTokens, fixed: price.fixedMicrocredits)
    }

    /// The cost of one call at `price` with `tokens` split by class, batched when `batch` (a row
    /// without a batch multiplier pays list price); nil on overflow or a negative count.
    ///
    /// - Complexity: O(1): five classes.
    @inlinable
    public static func cost(_ price: ModelPrice, tokens: TokenCounts, batch: Bool = false) -> Int64? {
        guard tokens.isValid, tokens.totalInput != nil else { return nil }
        let long = price.isLongContext(tokens)
        var exact: Int64 = 0
        for c in TokenClass.allCases {
            guard let part = Money.multiply(tokens[c], price.rate(c, longContext: long)),
                  let sum = Money.add(exact, part)
            else { return nil }
            exact = sum
        }
        guard batch, let m = price.batchMultiplierPartsPerMillion, m != 1_000_000 else {
            return Money.add(Money.divideRoundingUp(exact, 1_000_000), price.fixedMicrocredits)
        }
        // exact × m / 10^12 in 128 bits: both factors are below 2^63, so the product cannot
        // overflow, and the quotient is rounded up once like every other cost.
        guard m >= 0 else { return nil }
        let wide = Int128(exact) * Int128(m)
        let divisor: Int128 = 1_000_000_000_000
        let quotient = wide / divisor + (wide % divisor == 0 ? 0 : 1)
        guard quotient <= Int128(Int64.max) else { return nil }
        return Money.add(Int64(quotient), price.fixedMicrocredits)
    }
}

/// A price row's uncached rates as plain integers, for a loop that prices `(input, output)` calls
/// millions of times: copying a ``ModelPrice`` (its name, its optional tiers) per call cost the
/// simulator's simple benchmark a tenth of its instructions. The rounding rule is
/// ``PriceTable/cost(_:inputTokens:outputTokens:)``'s, in one place (``cost(inputTokens:outputTokens:input:output:fixed:)``).
public struct PlainPrice: Sendable, Hashable {
    public var inputMicrocreditsPerMillionTokens: Int64
    public var outputMicrocreditsPerMillionTokens: Int64
    public var fixedMicrocredits: Int64
    public var tier: Int

    /// The row's plain rates; nil for a row with a long-context tier, whose rates depend on the call.
    public init?(_ price: ModelPrice) {
        guard price.longContext == nil else { return nil }
        inputMicrocreditsPerMillionTokens = price.inputMicrocreditsPerMillionTokens
        outputMicrocreditsPerMillionTokens = price.outputMicrocreditsPerMillionTokens
        fixedMicrocredits = price.fixedMicrocredits
        tier = price.tier
    }

    /// The cost of a call with uncached input and output only; nil on overflow or a negative count.
    @inlinable
    public func cost(inputTokens: Int64, outputTokens: Int64) -> Int64? {
        Self.cost(inputTokens: inputTokens, outputTokens: outputTokens, input: inputMicrocreditsPerMillionTokens,
                  output: outputMicrocreditsPerMillionTokens, fixed: fixedMicrocredits)
    }

    /// `(input × input rate + output × output rate) / 10⁶`, rounded up once, plus `fixed`.
    @inlinable
    public static func cost(inputTokens: Int64, outputTokens: Int64, input: Int64, output: Int64, fixed: Int64) -> Int64? {
        guard inputTokens >= 0, outputTokens >= 0 else { return nil }
        guard let a = Money.multiply(inputTokens, input),
              let b = Money.multiply(outputTokens, output),
              let exact = Money.add(a, b)
        else { return nil }
        return Money.add(Money.divideRoundingUp(exact, 1_000_000), fixed)
    }
}
