/// HF `decoders.WordPiece`: joins tokens with spaces, glues continuation pieces
/// (dropping their prefix) and optionally applies HF's `cleanup` of spaces before punctuation
/// and English contractions (applied token by token, as HF does).
///
/// All string operations are on UTF-8 bytes, like Rust's `str` methods; Swift's
/// `Character`-based `hasPrefix`/`replacing` would differ around combining marks.
public struct WordPieceDecoder: Sendable, Equatable {
  public var prefix: String
  public var cleanup: Bool

  public init(prefix: String = "##", cleanup: Bool = true) {
    self.prefix = prefix
    self.cleanup = cleanup
  }

  /// Decodes token strings into text.
  public func decode(_ tokens: [String]) -> String {
    let prefixBytes = Array(prefix.utf8)
    var result: [UInt8] = []
    for (i, token) in tokens.enumerated() {
      var piece = Array(token.utf8)
      if i != 0 {
        if piece.starts(with: prefixBytes) {
          piece.removeFirst(prefixBytes.count)
        } else {
          piece.insert(0x20, at: 0)
        }
      }
      if cleanup { piece = WordPieceDecoder.cleanUp(piece) }
      result += piece
    }
    return String(decoding: result, as: UTF8.self)
  }

  private static let replacements: [([UInt8], [UInt8])] = [
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
    (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")
  ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

  /// HF's `cleanup` (same replacements, same order, non-overlapping left to right).
  static func cleanUp(_ text: [UInt8]) -> [UInt8] {
    guard text.contains(0x20) else { return text }
    var current = text
    for (pattern, replacement) in replacements {
      current = replaceAll(current, pattern, replacement)
    }
    return current
  }

  private static func replaceAll(_ text: [UInt8], _ pattern: [UInt8], _ replacement: [UInt8]) -> [UInt8] {
    guard text.count >= pattern.count else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
      if i + pattern.count <= text.count, text[i] == pattern[0], text[i..<(i + pattern.count)].elementsEqual(pattern) {
        out += replacement
        i += pattern.count
      } else {
        out.append(text[i])
        i += 1
      }
    }
    return out
  }
}
