/// A token's span in the original text, in Unicode scalar (Python `str` character) units,
/// exactly as HF `tokenizers` reports `offsets` in Python. Special and padding tokens have `(0, 0)`.
public struct TokenOffset: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var start: Int
  public var end: Int

  public init(_ start: Int, _ end: Int) {
    self.start = start
    self.end = end
  }

  public var description: String { "(\(start), \(end))" }
}

/// The result of encoding one sequence or one pair of sequences (HF `Encoding`).
///
/// All arrays have the same length. Token strings are produced on demand from the
/// tokenizer's id table, so encoding never allocates a `String` per token.
public struct Encoding: Equatable, Sendable {
  /// Token ids (`input_ids`).
  public internal(set) var ids: [Int]
  /// Segment ids (`token_type_ids`): 0 for the first sequence, 1 for the pair (per the template).
  public internal(set) var typeIds: [Int]
  /// 1 for real tokens, 0 for padding.
  public internal(set) var attentionMask: [Int]
  /// 1 for tokens inserted by the post-processor or by padding, 0 for tokens from the text.
  public internal(set) var specialTokensMask: [Int]
  /// Character offsets of each token into its original input string.
  public internal(set) var offsets: [TokenOffset]
  /// Word index per token (-1 for special and padding tokens).
  var wordIndices: [Int32]
  /// Index of the input (0 = first, 1 = pair) each token comes from (-1 for special and padding tokens).
  var sequenceIndices: [Int8]
  /// Resolves ids to token strings.
  let vocabulary: IdVocabulary
  /// The padding token string (HF reports the configured `pad_token`, which may differ from the vocab).
  var padToken: String?
  /// Token strings that differ from the id's vocabulary entry (added tokens matched with
  /// `lstrip`/`rstrip` include the stripped spaces, normalized ones their normalized text).
  var tokenOverrides: [Int: String] = [:]
  /// What truncation cut off, as further encodings of at most `maxLength` tokens each overlapping its
  /// neighbour by `stride` tokens, post-processed and padded like this one (HF `Encoding.overflowing`).
  /// For pairs whose both sequences overflow, the combinations come in HF's order and nesting.
  public internal(set) var overflowing: [Encoding] = []

  /// Number of tokens.
  public var count: Int { ids.count }

  /// The token strings (`tokens`).
  public var tokens: [String] {
    var result: [String] = []
    result.reserveCapacity(ids.count)
    for i in 0..<ids.count {
      if attentionMask[i] == 0, let padToken {
        result.append(padToken)
      } else if !tokenOverrides.isEmpty, let token = tokenOverrides[i] {
        result.append(token)
      } else {
        result.append(vocabulary.token(for: ids[i]) ?? "")
      }
    }
    return result
  }

  /// Word index of each token within its sequence (`word_ids`); `nil` for special and padding tokens.
  public var wordIds: [Int?] { wordIndices.map { $0 < 0 ? nil : Int($0) } }

  /// Which input each token comes from (`sequence_ids`): 0, 1, or `nil` for special and padding tokens.
  public var sequenceIds: [Int?] { sequenceIndices.map { $0 < 0 ? nil : Int($0) } }

  public static func == (lhs: Encoding, rhs: Encoding) -> Bool {
    lhs.ids == rhs.ids && lhs.typeIds == rhs.typeIds && lhs.attentionMask == rhs.attentionMask
      && lhs.specialTokensMask == rhs.specialTokensMask && lhs.offsets == rhs.offsets
      && lhs.wordIndices == rhs.wordIndices && lhs.sequenceIndices == rhs.sequenceIndices
      && lhs.tokens == rhs.tokens
  }

  /// Pads to `length` tokens (no-op when already at least that long), HF `Encoding.pad`.
  mutating func pad(to length: Int, with padding: Padding) {
    for i in overflowing.indices { overflowing[i].pad(to: length, with: padding) }
    let missing = length - ids.count
    guard missing > 0 else { return }
    padToken = padding.padToken
    let at = padding.direction == .right ? ids.count : 0
    if at == 0 && !tokenOverrides.isEmpty {
      tokenOverrides = Dictionary(uniqueKeysWithValues: tokenOverrides.map { ($0.key + missing, $0.value) })
    }
    ids.insert(contentsOf: repeatElement(padding.padId, count: missing), at: at)
    typeIds.insert(contentsOf: repeatElement(padding.padTypeId, count: missing), at: at)
    attentionMask.insert(contentsOf: repeatElement(0, count: missing), at: at)
    specialTokensMask.insert(contentsOf: repeatElement(1, count: missing), at: at)
    offsets.insert(contentsOf: repeatElement(TokenOffset(0, 0), count: missing), at: at)
    wordIndices.insert(contentsOf: repeatElement(-1, count: missing), at: at)
    sequenceIndices.insert(contentsOf: repeatElement(-1, count: missing), at: at)
  }
}

/// Maps ids back to token strings (model vocabulary overlaid with added tokens).
final class IdVocabulary: Sendable {
  let tokens: [String?]
  let extra: [Int: String]

  init(tokens: [String?], extra: [Int: String]) {
    self.tokens = tokens
    self.extra = extra
  }

  @inline(__always)
  func token(for id: Int) -> String? {
    if !extra.isEmpty, let token = extra[id] { return token }
    return id >= 0 && id < tokens.count ? tokens[id] : nil
  }
}

/// One token of a sequence before post-processing.
struct RawToken {
  var id: Int32
  var start: Int32
  var end: Int32
  var word: Int32
}

/// Tokens of one input sequence before post-processing (HF's per-sequence `Encoding`).
struct RawSequence {
  var tokens: [RawToken] = []
  /// Token strings of added-token matches whose text differs from the vocabulary entry, by index.
  var overrides: [Int: String] = [:]

  var count: Int { tokens.count }

  mutating func removeAll() {
    if !overrides.isEmpty { overrides = [:] }
    tokens.removeAll(keepingCapacity: true)
  }

  @inline(__always)
  mutating func append(id: Int32, start: Int32, end: Int32, word: Int32) {
    tokens.append(RawToken(id: id, start: start, end: end, word: word))
  }

  mutating func removeLast(_ k: Int) {
    if !overrides.isEmpty { overrides = overrides.filter { $0.key < tokens.count - k } }
    tokens.removeLast(k)
  }

  /// Tokens `range` as a sequence of their own (added-token overrides re-indexed).
  func slice(_ range: Range<Int>) -> RawSequence {
    var part = RawSequence()
    part.tokens = Array(tokens[range])
    if !overrides.isEmpty {
      part.overrides = Dictionary(
        uniqueKeysWithValues: overrides.compactMap {
          range.contains($0.key) ? ($0.key - range.lowerBound, $0.value) : nil
        })
    }
    return part
  }

  /// HF `Encoding::truncate(max_len, stride, direction)`: the kept window first, then the overflowing
  /// windows of at most `maxLength` tokens, each repeating `stride` tokens of its neighbour (one element
  /// when nothing needs cutting; with `maxLength` 0 an empty window, then everything).
  func windows(maxLength: Int, stride: Int, direction: Direction) throws -> [RawSequence] {
    let n = count
    if maxLength >= n { return [self] }
    if maxLength == 0 { return [RawSequence(), self] }
    guard stride < maxLength else {
      throw TokenizerError.strideTooLarge(maxLength: maxLength)
    }
    let step = maxLength - stride
    var ranges: [Range<Int>] = []
    switch direction {
    case .right:
      var start = 0
      while true {
        let stop = min(start + maxLength, n)
        ranges.append(start..<stop)
        if stop == n { break }
        start += step
      }
    case .left:
      var stop = n
      while true {
        let start = max(0, stop - maxLength)
        ranges.append(start..<stop)
        if start == 0 { break }
        stop -= step
      }
    }
    return ranges.map(slice)
  }
}
