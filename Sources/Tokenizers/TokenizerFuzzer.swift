import Foundation

/// Random-text fuzzing of a `Tokenizer`: strings drawn from every Unicode plane with extra
/// weight on the classes the pipeline treats specially (combining marks, controls,
/// zero-width and other spaces, CJK, punctuation, emoji, special-token text), surrogate-free.
public struct TokenizerFuzzer {
  /// Outcome of a run.
  public struct Report {
    public var iterations = 0
    public var tokens = 0
    public var failures: [String] = []
    public var summary: String {
      "fuzz: \(iterations) inputs, \(tokens) tokens, \(failures.count) failures"
        + (failures.isEmpty ? "" : "\n" + failures.prefix(5).joined(separator: "\n"))
    }
  }

  private var state: UInt64

  public init(seed: UInt64) { state = seed | 1 }

  /// xorshift64*.
  public mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }

  public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

  private static let pools: [[ClosedRange<UInt32>]] = [
    [0x20...0x7E],  // ASCII
    [0x00...0x1F, 0x7F...0x9F, 0xAD...0xAD],  // controls
    [0x300...0x36F, 0x1AB0...0x1AFF, 0x20D0...0x20FF, 0xFE20...0xFE2F],  // combining marks
    [
      0x200B...0x200F, 0x2028...0x202F, 0x2060...0x206F, 0xFEFF...0xFEFF, 0xA0...0xA0, 0x3000...0x3000, 0x1680...0x1680,
      0x2000...0x200A
    ],  // spaces & zero-width
    [0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF, 0x20000...0x2A6DF],  // CJK
    [0x3040...0x30FF, 0xAC00...0xD7A3, 0x1100...0x11FF],  // kana, Hangul
    [0xC0...0x24F, 0x370...0x3FF, 0x400...0x4FF, 0x1E00...0x1EFF],  // accented Latin, Greek, Cyrillic
    [0x2000...0x206F, 0x3000...0x303F, 0xFF00...0xFFEF, 0x21...0x2F],  // punctuation
    [0x1F300...0x1FAFF, 0x1F1E6...0x1F1FF, 0x200D...0x200D, 0xFE0F...0xFE0F],  // emoji, ZWJ, VS16
    [0x0...0xD7FF, 0xE000...0x10FFFF]  // anything
  ]

  /// A random surrogate-free string of up to `maxLength` scalars.
  public mutating func randomString(maxLength: Int = 64) -> String {
    var scalars = String.UnicodeScalarView()
    let length = below(maxLength + 1)
    var i = 0
    while i < length {
      if below(40) == 0 {
        let specials = [
          "[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", " ", "##", "don't", String(repeating: "a", count: 101)
        ]
        scalars.append(contentsOf: specials[below(specials.count)].unicodeScalars)
        i += 1
        continue
      }
      let pool = TokenizerFuzzer.pools[below(TokenizerFuzzer.pools.count)]
      let range = pool[below(pool.count)]
      let value = range.lowerBound + UInt32(below(Int(range.upperBound - range.lowerBound) + 1))
      if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
      i += 1
    }
    return String(scalars)
  }

  /// Checks the structural invariants of one encoding of `text` (optionally a pair).
  public static func check(_ encoding: Encoding, text: String, pair: String?, tokenizer: Tokenizer) -> String? {
    let n = encoding.count
    guard encoding.typeIds.count == n, encoding.attentionMask.count == n, encoding.offsets.count == n,
      encoding.specialTokensMask.count == n, encoding.wordIds.count == n, encoding.tokens.count == n
    else {
      return "array lengths differ"
    }
    let vocabularyLimit = max(tokenizer.vocabularySize, (tokenizer.addedTokens.map(\.id).max() ?? 0) + 1)
    let lengths = [text.unicodeScalars.count, pair?.unicodeScalars.count ?? 0]
    for i in 0..<n {
      let id = encoding.ids[i]
      if id < 0 || id >= vocabularyLimit { return "id \(id) out of range at \(i)" }
      if encoding.attentionMask[i] != 0 && encoding.attentionMask[i] != 1 { return "bad attention mask at \(i)" }
      if encoding.attentionMask[i] == 0 && encoding.specialTokensMask[i] != 1 {
        return "padding not marked special at \(i)"
      }
      let o = encoding.offsets[i]
      let limit = lengths[min(max(encoding.sequenceIds[i] ?? 0, 0), 1)]
      if o.start < 0 || o.end < o.start || o.end > limit { return "offset \(o) outside the text at \(i)" }
      if encoding.specialTokensMask[i] == 0 && o.end == o.start { return "empty offset for a text token at \(i)" }
    }
    if !text.isEmpty && pair == nil && encoding.specialTokensMask.allSatisfy({ $0 == 1 }) && encoding.count > 0 {
      // All-special is fine only when normalization removes everything; decoding must not crash either way.
      _ = tokenizer.decode(encoding.ids)
    }
    _ = tokenizer.decode(encoding.ids, skipSpecialTokens: false)
    return nil
  }

  /// Fuzzes for `seconds`, alternating single inputs, pairs, truncation and padding.
  public mutating func run(tokenizer base: Tokenizer, seconds: Double) -> Report {
    var report = Report()
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      var tokenizer = base
      let text = randomString(maxLength: below(4) == 0 ? 300 : 40)
      let pair: String? = below(3) == 0 ? randomString() : nil
      switch below(4) {
      case 0: tokenizer.truncation = nil
      case 1: tokenizer.truncation = Truncation(maxLength: below(20), strategy: .longestFirst)
      default:
        tokenizer.truncation = Truncation(
          maxLength: 5 + below(40), strategy: below(2) == 0 ? .longestFirst : .onlyFirst,
          direction: below(2) == 0 ? .right : .left)
      }
      tokenizer.padding =
        below(2) == 0
        ? nil
        : Padding(
          strategy: below(2) == 0 ? .batchLongest : .fixed(below(64)),
          direction: below(2) == 0 ? .right : .left,
          padToMultipleOf: below(3) == 0 ? 8 : nil)
      report.iterations += 1
      do {
        let encoding = try tokenizer.encode(text, pair: pair)
        report.tokens += encoding.count
        if let problem = TokenizerFuzzer.check(encoding, text: text, pair: pair, tokenizer: tokenizer) {
          report.failures.append("\(problem) for \(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
      } catch TokenizerError.truncation {
        // HF raises the same errors (e.g. only_first on a sequence that is too short).
      } catch {
        report.failures.append(
          "unexpected error \(error) for \(text.unicodeScalars.map { String($0.value, radix: 16) })")
      }
    }
    return report
  }
}
