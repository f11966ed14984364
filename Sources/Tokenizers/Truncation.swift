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
/// `maxLength` counts the special tokens the post-processor adds. What is cut off comes back in
/// `Encoding.overflowing`, in windows that repeat `stride` tokens of the previous one (HF's overflowing
/// tokens; `stride` must be smaller than the room left for each sequence).
public struct Truncation: Sendable, Equatable {
  public var maxLength: Int
  public var strategy: TruncationStrategy
  public var stride: Int
  public var direction: Direction

  public init(
    maxLength: Int, strategy: TruncationStrategy = .longestFirst, stride: Int = 0, direction: Direction = .right
  ) {
    self.maxLength = maxLength
    self.strategy = strategy
    self.stride = stride
    self.direction = direction
  }

  /// Splits `first` (and `second`) so that together they hold at most `maxLength - addedTokens` tokens
  /// (HF `truncate_encodings`): each comes back as its kept window followed by its overflowing windows.
  ///
  /// Mirrors HF: when `maxLength` is smaller than the special tokens to add, HF's unsigned
  /// subtraction wraps and nothing is truncated; the same happens here.
  func apply(first: RawSequence, second: RawSequence?, addedTokens: Int) throws -> (
    first: [RawSequence], second: [RawSequence]?
  ) {
    guard addedTokens <= maxLength else { return ([first], second.map { [$0] }) }
    let budget = maxLength - addedTokens
    func cut(_ s: RawSequence, _ length: Int) throws -> [RawSequence] {
      try s.windows(maxLength: length, stride: stride, direction: direction)
    }
    if budget == 0 {
      return (try cut(first, 0), try second.map { try cut($0, 0) })
    }
    let total = first.count + (second?.count ?? 0)
    guard total > budget else { return ([first], second.map { [$0] }) }
    let toRemove = total - budget
    switch strategy {
    case .longestFirst:
      guard let pair = second else { return (try cut(first, total - toRemove), nil) }
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
      return (try cut(first, n1), try cut(pair, n2))
    case .onlyFirst:
      guard first.count > toRemove else {
        throw TokenizerError.truncation("Sequence to truncate too short to respect the provided max_length")
      }
      return (try cut(first, first.count - toRemove), second.map { [$0] })
    case .onlySecond:
      guard let pair = second else { throw TokenizerError.truncation("Second sequence not provided") }
      guard pair.count > toRemove else {
        throw TokenizerError.truncation("Sequence to truncate too short to respect the provided max_length")
      }
      return ([first], try cut(pair, pair.count - toRemove))
    }
  }
}
