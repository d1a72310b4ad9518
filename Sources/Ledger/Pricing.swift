/// The price of one model (or tool) in micro-credits per million tokens, plus a fixed cost per
/// call.
public struct ModelPrice: Hashable, Sendable, Codable {
    public var model: String
    /// The tier the ledger's entitlements and `degrade` policies speak of (a small dense index
    /// chosen by the caller; 0 is usually the premium tier).
    public var tier: Int
    public var inputMicrocreditsPerMillionTokens: Int64
    public var outputMicrocreditsPerMillionTokens: Int64
    public var fixedMicrocredits: Int64

    public init(model: String, tier: Int, inputMicrocreditsPerMillionTokens: Int64,
                outputMicrocreditsPerMillionTokens: Int64, fixedMicrocredits: Int64 = 0) {
        self.model = model
        self.tier = tier
        self.inputMicrocreditsPerMillionTokens = inputMicrocreditsPerMillionTokens
        self.outputMicrocreditsPerMillionTokens = outputMicrocreditsPerMillionTokens
        self.fixedMicrocredits = fixedMicrocredits
    }
}

/// Turns (model, input tokens, output tokens) into micro-credits, exactly.
///
/// **Rounding rule (the only one):** the exact cost of a call is
/// `(input × inputPrice + output × outputPrice) / 1,000,000` micro-credits, a rational number; it
/// is rounded **up** once, to the next whole micro-credit, and the fixed cost is added. Rounding up
/// never under-charges, and rounding once per call (not per token or per direction) over-charges
/// by less than one micro-credit per call. All arithmetic is integer and checked: a cost that
/// would overflow `Int64` is `nil`, which callers treat as a refused command.
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

    /// The cost of one call at `price` (see the rounding rule above); nil on overflow or
    /// negative token counts.
    @inlinable
    public static func cost(_ price: ModelPrice, inputTokens: Int64, outputTokens: Int64) -> Int64? {
        guard inputTokens >= 0, outputTokens >= 0 else { return nil }
        guard let a = Money.multiply(inputTokens, price.inputMicrocreditsPerMillionTokens),
              let b = Money.multiply(outputTokens, price.outputMicrocreditsPerMillionTokens),
              let exact = Money.add(a, b)
        else { return nil }
        return Money.add(Money.divideRoundingUp(exact, 1_000_000), price.fixedMicrocredits)
    }
}
