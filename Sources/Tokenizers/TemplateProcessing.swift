/// HF `TemplateProcessing` post-processor (also used for `BertProcessing`, which is the
/// fixed template `[CLS]:0 $A:0 [SEP]:0` / `[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1`).
public struct TemplateProcessing: Sendable, Equatable {
  /// One element of a template.
  public enum Piece: Sendable, Equatable {
    /// The tokens of input `A` (`isPair == false`) or `B`, all given `typeId`.
    case sequence(isPair: Bool, typeId: Int)
    /// The special token registered under `name` in `specialTokens`.
    case special(name: String, typeId: Int)
  }

  /// A special token of the template; one name may expand to several ids.
  public struct SpecialToken: Sendable, Equatable {
    public var ids: [Int]
    public var tokens: [String]
    public init(ids: [Int], tokens: [String]) {
      self.ids = ids
      self.tokens = tokens
    }
  }

  public var single: [Piece]
  public var pair: [Piece]
  public var specialTokens: [String: SpecialToken]

  public init(single: [Piece], pair: [Piece], specialTokens: [String: SpecialToken]) {
    self.single = single
    self.pair = pair
    self.specialTokens = specialTokens
  }

  /// The BERT template with the given `[CLS]` and `[SEP]` tokens (HF `BertProcessing`).
  public static func bert(cls: (token: String, id: Int), sep: (token: String, id: Int)) -> TemplateProcessing {
    TemplateProcessing(
      single: [
        .special(name: cls.token, typeId: 0), .sequence(isPair: false, typeId: 0), .special(name: sep.token, typeId: 0)
      ],
      pair: [
        .special(name: cls.token, typeId: 0), .sequence(isPair: false, typeId: 0), .special(name: sep.token, typeId: 0),
        .sequence(isPair: true, typeId: 1), .special(name: sep.token, typeId: 1)
      ],
      specialTokens: [
        cls.token: SpecialToken(ids: [cls.id], tokens: [cls.token]),
        sep.token: SpecialToken(ids: [sep.id], tokens: [sep.token])
      ])
  }

  /// Number of special-token ids the template adds (HF `added_tokens(is_pair)`).
  public func addedTokens(isPair: Bool) -> Int {
    (isPair ? pair : single).reduce(0) { total, piece in
      if case let .special(name, _) = piece { return total + (specialTokens[name]?.ids.count ?? 0) }
      return total
    }
  }

  /// Applies the template to the (already truncated) sequences.
  func apply(first: RawSequence, second: RawSequence?, vocabulary: IdVocabulary) -> Encoding {
    var parts: [EncodingBuilder.Part] = []
    parts.reserveCapacity(5)
    for piece in second == nil ? single : pair {
      switch piece {
      case let .sequence(isPair, typeId):
        if isPair {
          if let second { parts.append(.sequence(second, typeId: typeId, index: 1)) }
        } else {
          parts.append(.sequence(first, typeId: typeId, index: 0))
        }
      case let .special(name, typeId):
        for id in specialTokens[name]?.ids ?? [] { parts.append(.special(id: id, typeId: typeId)) }
      }
    }
    return EncodingBuilder.build(parts, vocabulary: vocabulary)
  }

  /// Concatenation without special tokens: `A` with type 0, then `B` with type 1.
  static func concatenate(first: RawSequence, second: RawSequence?, vocabulary: IdVocabulary) -> Encoding {
    var parts: [EncodingBuilder.Part] = [.sequence(first, typeId: 0, index: 0)]
    if let second { parts.append(.sequence(second, typeId: 1, index: 1)) }
    return EncodingBuilder.build(parts, vocabulary: vocabulary)
  }
}

/// Assembles the arrays of an `Encoding` from sequences and special tokens, each array
/// written once into exactly-sized storage.
enum EncodingBuilder {
  enum Part {
    case sequence(RawSequence, typeId: Int, index: Int8)
    case special(id: Int, typeId: Int)

    var count: Int {
      switch self {
      case let .sequence(s, _, _): return s.count
      case .special: return 1
      }
    }
  }

  /// Fills an array of `count` elements, part by part.
  @inline(__always)
  static func fill<T>(_ count: Int, _ parts: [Part], sequence: (RawToken, Int, Int8) -> T, special: (Int, Int) -> T)
    -> [T]
  {
    Array(unsafeUninitializedCapacity: count) { buffer, initialized in
      var i = 0
      for part in parts {
        switch part {
        case let .sequence(s, typeId, index):
          s.tokens.withUnsafeBufferPointer { tokens in
            for t in tokens {
              (buffer.baseAddress! + i).initialize(to: sequence(t, typeId, index))
              i += 1
            }
          }
        case let .special(id, typeId):
          (buffer.baseAddress! + i).initialize(to: special(id, typeId))
          i += 1
        }
      }
      initialized = i
    }
  }

  static func build(_ parts: [Part], vocabulary: IdVocabulary) -> Encoding {
    let count = parts.reduce(0) { $0 + $1.count }
    var overrides: [Int: String] = [:]
    var position = 0
    for part in parts {
      if case let .sequence(s, _, _) = part {
        for (k, token) in s.overrides { overrides[position + k] = token }
      }
      position += part.count
    }
    return Encoding(
      ids: fill(count, parts, sequence: { t, _, _ in Int(t.id) }, special: { id, _ in id }),
      typeIds: fill(count, parts, sequence: { _, typeId, _ in typeId }, special: { _, typeId in typeId }),
      attentionMask: Array(repeating: 1, count: count),
      specialTokensMask: fill(count, parts, sequence: { _, _, _ in 0 }, special: { _, _ in 1 }),
      offsets: fill(
        count, parts, sequence: { t, _, _ in TokenOffset(Int(t.start), Int(t.end)) },
        special: { _, _ in TokenOffset(0, 0) }),
      wordIndices: fill(count, parts, sequence: { t, _, _ in t.word }, special: { _, _ in -1 }),
      sequenceIndices: fill(count, parts, sequence: { _, _, index in index }, special: { _, _ in -1 }),
      vocabulary: vocabulary, padToken: nil, tokenOverrides: overrides)
  }
}
