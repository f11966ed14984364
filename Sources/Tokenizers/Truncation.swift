/// Which end of a sequence truncation or padding acts on.
public enum Direction: String, Sendable, Equatable {
    case left
    case right
}

/// How a pair of sequences is shortened (HF `TruncationStrategy`).
public enum TruncationStrategy: String, Sendable, Equatable {
    /// Remove tokens from the longer sequence first (HF's split of the budget between both).
    case longestFirst = "longest_first"
    /// Only ever shorten the first sequence.
    case onlyFirst = "only_first"
    /// Only ever shorten the second sequence.
    case onlySecond = "only_second"
}

/// Truncation parameters (HF `TruncationParams`).
///
/// `maxLength` counts the special tokens the post-processor adds. `stride` is kept
/// for fidelity with tokenizer.json but overflowing windows are not produced:
/// only the first (truncated) window is returned.
public struct Truncation: Sendable, Equatable {
    public var maxLength: Int
    public var strategy: TruncationStrategy
    public var stride: Int
    public var direction: Direction

    public init(maxLength: Int, strategy: TruncationStrategy = .longestFirst, stride: Int = 0, direction: Direction = .right) {
        self.maxLength = maxLength
        self.strategy = strategy
        self.stride = stride
        self.direction = direction
    }

    /// Shortens `first` (and `second`) so that together they hold at most `maxLength - addedTokens` tokens.
    ///
    /// Mirrors HF: when `maxLength` is smaller than the special tokens to add, HF's unsigned
    /// subtraction wraps and nothing is truncated; the same happens here.
    func apply(first: inout RawSequence, second: inout RawSequence?, addedTokens: Int) throws {
        guard addedTokens <= maxLength else { return }
        let budget = maxLength - addedTokens
        if budget == 0 {
            first.truncate(to: 0, direction: direction)
            second?.truncate(to: 0, direction: direction)
            return
        }
        let total = first.count + (second?.count ?? 0)
        guard total > budget else { return }
        let toRemove = total - budget
        switch strategy {
        case .longestFirst:
            guard var pair = second else {
                first.truncate(to: total - toRemove, direction: direction)
                return
            }
            var n1 = first.count
            var n2 = pair.count
            let swapped = n1 > n2
            if swapped { swap(&n1, &n2) }
            n2 = n1 > budget ? n1 : max(n1, budget - n1)
            if n1 + n2 > budget {
                n1 = budget / 2
                n2 = n1 + budget % 2
            }
            if swapped { swap(&n1, &n2) }
            first.truncate(to: n1, direction: direction)
            pair.truncate(to: n2, direction: direction)
            second = pair
        case .onlyFirst:
            guard first.count > toRemove else {
                throw TokenizerError.truncation("Sequence to truncate too short to respect the provided max_length")
            }
            first.truncate(to: first.count - toRemove, direction: direction)
        case .onlySecond:
            guard var pair = second else { throw TokenizerError.truncation("Second sequence not provided") }
            guard pair.count > toRemove else {
                throw TokenizerError.truncation("Sequence to truncate too short to respect the provided max_length")
            }
            pair.truncate(to: pair.count - toRemove, direction: direction)
            second = pair
        }
    }
}
