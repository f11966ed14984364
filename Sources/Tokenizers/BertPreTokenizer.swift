/// HF `BertPreTokenizer`: split on whitespace (removed) and isolate every punctuation
/// character (HF's definition: ASCII punctuation plus Unicode `P*`, as observed from HF).
public struct BertPreTokenizer: Sendable, Equatable {
  public init() {}

  /// Character class used while splitting.
  enum Kind: UInt8 {
    case word = 0
    case whitespace = 1
    case punctuation = 2
  }

  /// Class of every ASCII scalar.
  static let asciiKinds: [UInt8] = (0..<128).map { (b: Int) -> UInt8 in
    let flags = UnicodeTables.shared.flags(of: UInt32(b))
    if flags.contains(.whitespace) { return Kind.whitespace.rawValue }
    if flags.contains(.punctuation) { return Kind.punctuation.rawValue }
    return Kind.word.rawValue
  }

  /// Calls `body(start, end)` for every word of `text[range]`, left to right.
  @inline(__always)
  static func forEachWord(
    _ text: UnsafeBufferPointer<UInt32>, range: Range<Int>, asciiKinds: UnsafeBufferPointer<UInt8>,
    tables: UnicodeTables, _ body: (Int, Int) throws -> Void
  ) rethrows {
    var wordStart = -1
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
      let c = text[i]
      let kind: UInt8
      if c < 0x80 {
        kind = asciiKinds[Int(c)]
      } else {
        let f = tables.flags(of: c)
        kind =
          f.contains(.whitespace)
          ? Kind.whitespace.rawValue
          : f.contains(.punctuation) ? Kind.punctuation.rawValue : Kind.word.rawValue
      }
      if kind == Kind.word.rawValue {
        if wordStart < 0 { wordStart = i }
      } else {
        if wordStart >= 0 {
          try body(wordStart, i)
          wordStart = -1
        }
        if kind == Kind.punctuation.rawValue { try body(i, i + 1) }
      }
      i += 1
    }
    if wordStart >= 0 { try body(wordStart, end) }
  }
}
