import Foundation

/// A token added on top of the model vocabulary (HF `AddedToken`), e.g. `[CLS]`, `[MASK]`.
public struct AddedToken: Sendable, Equatable {
  public var content: String
  /// Only match when not surrounded by word characters.
  public var singleWord: Bool
  /// Also consume the whitespace on the token's left.
  public var lstrip: Bool
  /// Also consume the whitespace on the token's right.
  public var rstrip: Bool
  /// Match against the normalized text (true) or the raw input (false).
  public var normalized: Bool
  /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
  public var special: Bool

  /// Like HF, special tokens default to `normalized: false`, others to `true`.
  public init(
    _ content: String, special: Bool = false, singleWord: Bool = false, lstrip: Bool = false,
    rstrip: Bool = false, normalized: Bool? = nil
  ) {
    self.content = content
    self.special = special
    self.singleWord = singleWord
    self.lstrip = lstrip
    self.rstrip = rstrip
    self.normalized = normalized ?? !special
  }
}

/// The added tokens of a tokenizer and the matchers that split them out of the text
/// before (non-normalized tokens) and after (normalized tokens) normalization.
final class AddedVocabulary: Sendable {
  /// Tokens by id.
  let tokensById: [Int: AddedToken]
  /// Ids by content.
  let idsByContent: [String: Int]
  /// Contents of special tokens.
  let specialContents: Set<String>
  /// Matcher over the original text.
  let rawMatcher: TokenMatcher?
  /// Matcher over normalized text.
  let normalizedMatcher: TokenMatcher?

  /// Builds the vocabulary from `(id, token)` pairs; `normalize` maps a normalized token's content
  /// to the form it is matched in.
  init(tokens: [(id: Int, token: AddedToken)], normalize: (String) -> [UInt32]) {
    var byId: [Int: AddedToken] = [:]
    var byContent: [String: Int] = [:]
    var special: Set<String> = []
    for (id, token) in tokens where !token.content.isEmpty {
      byId[id] = token
      byContent[token.content] = id
      if token.special { special.insert(token.content) }
    }
    tokensById = byId
    idsByContent = byContent
    specialContents = special
    var raw: [TokenMatcher.Pattern] = []
    var normalized: [TokenMatcher.Pattern] = []
    for (id, token) in byId.sorted(by: { $0.key < $1.key }) {
      if token.normalized {
        let scalars = normalize(token.content)
        if !scalars.isEmpty { normalized.append(.init(scalars: scalars, id: id, token: token)) }
      } else {
        raw.append(.init(scalars: token.content.unicodeScalars.map(\.value), id: id, token: token))
      }
    }
    rawMatcher = raw.isEmpty ? nil : TokenMatcher(patterns: raw)
    normalizedMatcher = normalized.isEmpty ? nil : TokenMatcher(patterns: normalized)
  }
}

/// Leftmost-longest multi-pattern matcher with HF's `single_word`/`lstrip`/`rstrip` rules.
final class TokenMatcher: Sendable {
  struct Pattern: Sendable {
    var scalars: [UInt32]
    var id: Int
    var token: AddedToken
  }

  /// One extracted token: `text[start..<end]` becomes `id`.
  struct Match {
    var start: Int
    var end: Int
    var id: Int
  }

  private let byFirst: [UInt32: [Pattern]]
  private let asciiFirst: [Bool]

  init(patterns: [Pattern]) {
    var byFirst: [UInt32: [Pattern]] = [:]
    var ascii = [Bool](repeating: false, count: 128)
    for p in patterns {
      guard let first = p.scalars.first else { continue }
      byFirst[first, default: []].append(p)
      if first < 128 { ascii[Int(first)] = true }
    }
    for key in byFirst.keys { byFirst[key]?.sort { $0.scalars.count > $1.scalars.count } }
    self.byFirst = byFirst
    asciiFirst = ascii
  }

  /// Finds the tokens in `text[range]`, as HF's `AddedVocabulary::find_matches` does on a split.
  func matches(in text: UnsafeBufferPointer<UInt32>, range: Range<Int>) -> [Match] {
    var result: [Match] = []
    var i = range.lowerBound
    var consumed = range.lowerBound
    while i < range.upperBound {
      let c = text[i]
      if c < 128 ? !asciiFirst[Int(c)] : byFirst[c] == nil {
        i += 1
        continue
      }
      guard let pattern = longestMatch(at: i, in: text, upTo: range.upperBound) else {
        i += 1
        continue
      }
      var start = i
      var stop = i + pattern.scalars.count
      i = stop
      let token = pattern.token
      if token.singleWord {
        let startOK = start == range.lowerBound || !TokenMatcher.isWordCharacter(text[start - 1])
        let stopOK = stop == range.upperBound || !TokenMatcher.isWordCharacter(text[stop])
        if !startOK || !stopOK { continue }
      }
      if token.lstrip {
        var s = start
        while s > range.lowerBound, TokenMatcher.isWhitespace(text[s - 1]) { s -= 1 }
        start = max(s, consumed)
      }
      if token.rstrip {
        while stop < range.upperBound, TokenMatcher.isWhitespace(text[stop]) { stop += 1 }
      }
      result.append(Match(start: start, end: stop, id: pattern.id))
      consumed = stop
    }
    return result
  }

  private func longestMatch(at i: Int, in text: UnsafeBufferPointer<UInt32>, upTo end: Int) -> Pattern? {
    guard let candidates = byFirst[text[i]] else { return nil }
    for p in candidates where p.scalars.count <= end - i {
      var equal = true
      for k in 1..<max(p.scalars.count, 1) where text[i + k] != p.scalars[k] {
        equal = false
        break
      }
      if equal { return p }
    }
    return nil
  }

  /// Rust regex `\w`: alphabetic, marks, decimal digits, connector punctuation, join controls.
  static func isWordCharacter(_ value: UInt32) -> Bool {
    guard let scalar = Unicode.Scalar(value) else { return false }
    let p = scalar.properties
    if p.isAlphabetic || p.isJoinControl { return true }
    switch p.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
    default: return false
    }
  }

  /// Rust regex `\s`: the Unicode `White_Space` property.
  static func isWhitespace(_ value: UInt32) -> Bool {
    Unicode.Scalar(value)?.properties.isWhitespace ?? false
  }
}

/// `TokenMatcher` over UTF-8 bytes (the BPE pipeline's form of the text): leftmost-longest matching
/// with HF's `single_word`/`lstrip`/`rstrip` rules; match offsets are byte offsets.
final class ByteTokenMatcher: Sendable {
  struct Pattern: Sendable {
    var bytes: [UInt8]
    var id: Int
    var token: AddedToken
  }

  private let byFirst: [[Pattern]]

  init?(patterns: [Pattern]) {
    var byFirst = [[Pattern]](repeating: [], count: 256)
    var any = false
    for p in patterns where !p.bytes.isEmpty {
      byFirst[Int(p.bytes[0])].append(p)
      any = true
    }
    guard any else { return nil }
    for i in 0..<256 { byFirst[i].sort { $0.bytes.count > $1.bytes.count } }
    self.byFirst = byFirst
  }

  /// Finds the tokens in `text[range]`, as HF's `AddedVocabulary::find_matches` does on a split.
  func matches(in p: UnsafePointer<UInt8>, range: Range<Int>) -> [TokenMatcher.Match] {
    var result: [TokenMatcher.Match] = []
    var i = range.lowerBound
    var consumed = range.lowerBound
    let end = range.upperBound
    while i < end {
      let candidates = byFirst[Int(p[i])]
      if candidates.isEmpty {
        i += 1
        continue
      }
      var found: Pattern?
      for c in candidates where c.bytes.count <= end - i {
        if memcmp(p + i, c.bytes, c.bytes.count) == 0 {
          found = c
          break
        }
      }
      guard let pattern = found else {
        i += 1
        continue
      }
      var start = i
      var stop = i + pattern.bytes.count
      i = stop
      let token = pattern.token
      if token.singleWord {
        let startOK =
          start == range.lowerBound
          || !TokenMatcher.isWordCharacter(scalarAt(p, previousScalarStart(p, start)).value)
        let stopOK = stop == end || !TokenMatcher.isWordCharacter(scalarAt(p, stop).value)
        if !startOK || !stopOK { continue }
      }
      if token.lstrip {
        var s = start
        while s > range.lowerBound {
          let previous = previousScalarStart(p, s)
          guard TokenMatcher.isWhitespace(scalarAt(p, previous).value) else { break }
          s = previous
        }
        start = max(s, consumed)
      }
      if token.rstrip {
        while stop < end {
          let (v, n) = scalarAt(p, stop)
          guard TokenMatcher.isWhitespace(v) else { break }
          stop += n
        }
      }
      result.append(TokenMatcher.Match(start: start, end: stop, id: pattern.id))
      consumed = stop
    }
    return result
  }
}
