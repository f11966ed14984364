/// GPT-2's byte-level alphabet (HF `bytes_char`): each byte is shown as one printable character,
/// so that a byte-level vocabulary is a set of ordinary strings.
///
/// The pipeline never maps text into this alphabet: byte-level vocabularies are mapped back to raw
/// bytes once, at load time, and BPE runs on the text's UTF-8 bytes directly.
enum ByteLevelAlphabet {
  /// The character of each byte.
  static let characters: [UInt32] = {
    var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    var table = [UInt32](repeating: 0, count: 256)
    for b in printable { table[b] = UInt32(b) }
    var next: UInt32 = 256
    for b in 0..<256 where !printable.contains(b) {
      table[b] = next
      next += 1
      printable.append(b)
    }
    return table
  }()

  /// The byte of each alphabet character (index = character value, -1 outside the alphabet).
  static let bytes: [Int16] = {
    var table = [Int16](repeating: -1, count: 0x144)
    for (b, c) in characters.enumerated() { table[Int(c)] = Int16(b) }
    return table
  }()

  /// The raw bytes a byte-level token string stands for; nil when a character is outside the alphabet.
  static func decode(_ token: String) -> [UInt8]? {
    var out: [UInt8] = []
    out.reserveCapacity(token.utf8.count)
    for scalar in token.unicodeScalars {
      let v = Int(scalar.value)
      guard v < bytes.count, bytes[v] >= 0 else { return nil }
      out.append(UInt8(bytes[v]))
    }
    return out
  }

  /// The byte-level string of raw bytes.
  static func encode<S: Sequence>(_ raw: S) -> String where S.Element == UInt8 {
    var out: [UInt8] = []
    for b in raw { appendScalar(characters[Int(b)], to: &out) }
    return String(decoding: out, as: UTF8.self)
  }
}

/// HF `pre_tokenizers.ByteLevel`: optionally prepends a space to each split, optionally splits it with
/// GPT-2's regex, then (conceptually) maps its bytes to the byte-level alphabet.
public struct ByteLevel: Sendable, Equatable {
  public var addPrefixSpace: Bool
  public var trimOffsets: Bool
  public var useRegex: Bool

  public init(addPrefixSpace: Bool = true, trimOffsets: Bool = true, useRegex: Bool = true) {
    self.addPrefixSpace = addPrefixSpace
    self.trimOffsets = trimOffsets
    self.useRegex = useRegex
  }

  /// HF `decoders.ByteLevel`: each token's characters back to bytes (a token with a character outside
  /// the alphabet contributes its own UTF-8), all joined and read as UTF-8 with replacement.
  static func decode(_ tokens: [[UInt8]]) -> [[UInt8]] {
    var raw: [UInt8] = []
    for token in tokens {
      let start = raw.count
      var ok = true
      token.withUnsafeBufferPointer { t in
        var i = 0
        while i < t.count {
          let (v, n) = scalarAt(t.baseAddress!, i)
          let b = Int(v) < ByteLevelAlphabet.bytes.count ? ByteLevelAlphabet.bytes[Int(v)] : -1
          if b < 0 {
            ok = false
            return
          }
          raw.append(UInt8(b))
          i += n
        }
      }
      if !ok {
        raw.removeSubrange(start...)
        raw += token
      }
    }
    return [Array(String(decoding: raw, as: UTF8.self).utf8)]
  }
}
