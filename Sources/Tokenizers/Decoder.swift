/// HF decoders: each turns the list of token strings into a new list (`decode_chain`); `decode` joins
/// the final list. Strings are handled as UTF-8 bytes, like Rust's `str`, and stay valid UTF-8 between
/// steps (invalid byte sequences become U+FFFD where HF's do).
public indirect enum Decoder: Sendable {
  case byteLevel
  case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
  /// Replaces the pattern (literal or regex) with `content` in each token.
  case replace(pattern: String, isRegex: Bool, content: String)
  /// `<0xNN>` tokens become bytes, read as UTF-8 (one U+FFFD per byte of an invalid run).
  case byteFallback
  /// Joins all tokens into one.
  case fuse
  /// Removes up to `start` leading and `stop` trailing `content` characters of each token.
  case strip(content: Unicode.Scalar, start: Int, stop: Int)
  /// HF `BPEDecoder`: the suffix becomes a space (nothing on the last token).
  case bpe(suffix: String)
  case wordPiece(WordPieceDecoder)
  case sequence([Decoder])

  /// Decodes token strings into text.
  public func decode(_ tokens: [String]) -> String {
    String(decoding: Decoder.join(decodeChain(tokens.map { Array($0.utf8) })), as: UTF8.self)
  }

  func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
    switch self {
    case .byteLevel:
      return ByteLevel.decode(tokens)
    case let .metaspace(replacement, scheme, _):
      var rep: [UInt8] = []
      appendScalar(replacement.value, to: &rep)
      return tokens.enumerated().map { i, token in
        let drop = i == 0 && scheme != .never
        return Decoder.replaceLiteral(token, rep, drop ? [] : [0x20])
      }
    case let .replace(pattern, false, content):
      let p = Array(pattern.utf8)
      let c = Array(content.utf8)
      return tokens.map { Decoder.replaceLiteral($0, p, c) }
    case let .replace(pattern, isRegex, content):
      guard let compiled = try? isRegex ? SplitPattern.regex(pattern) : .literal(Array(pattern.utf8)) else {
        return tokens
      }
      let bytes = Array(content.utf8)
      return tokens.map { CompiledNormalizer.replace($0, compiled, bytes) }
    case .byteFallback:
      return Decoder.byteFallback(tokens)
    case .fuse:
      return [Decoder.join(tokens)]
    case let .strip(content, start, stop):
      return tokens.map { Decoder.strip($0, content.value, start, stop) }
    case let .bpe(suffix):
      let s = Array(suffix.utf8)
      return tokens.enumerated().map { i, token in
        Decoder.replaceLiteral(token, s, i == tokens.count - 1 ? [] : [0x20])
      }
    case let .wordPiece(decoder):
      return [Array(decoder.decode(tokens.map { String(decoding: $0, as: UTF8.self) }).utf8)]
    case let .sequence(items):
      return items.reduce(tokens) { $1.decodeChain($0) }
    }
  }

  static func join(_ tokens: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(tokens.reduce(0) { $0 + $1.count })
    for token in tokens { out.append(contentsOf: token) }
    return out
  }

  static func replaceLiteral(_ token: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, token.count >= pattern.count, token.contains(pattern[0]) else { return token }
    var out: [UInt8] = []
    out.reserveCapacity(token.count)
    var i = 0
    while i < token.count {
      if token[i] == pattern[0] && i + pattern.count <= token.count
        && token[i..<(i + pattern.count)].elementsEqual(pattern)
      {
        out += content
        i += pattern.count
      } else {
        out.append(token[i])
        i += 1
      }
    }
    return out
  }

  /// The byte of a `<0xNN>` token (Rust's `u8::from_str_radix` on the two characters).
  static func fallbackByte(_ token: [UInt8]) -> UInt8? {
    guard token.count == 6, token[0] == 0x3C, token[1] == 0x30, token[2] == 0x78, token[5] == 0x3E else { return nil }
    func digit(_ c: UInt8) -> UInt8? {
      switch c {
      case 0x30...0x39: return c - 0x30
      case 0x41...0x46: return c - 0x41 + 10
      case 0x61...0x66: return c - 0x61 + 10
      default: return nil
      }
    }
    if token[3] == 0x2B { return digit(token[4]) }
    guard let high = digit(token[3]), let low = digit(token[4]) else { return nil }
    return high << 4 | low
  }

  static func byteFallback(_ tokens: [[UInt8]]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var pending: [UInt8] = []
    func flush() {
      guard !pending.isEmpty else { return }
      if String(validating: pending, as: UTF8.self) != nil {
        out.append(pending)
      } else {
        for _ in pending { out.append([0xEF, 0xBF, 0xBD]) }
      }
      pending.removeAll()
    }
    for token in tokens {
      if let b = fallbackByte(token) {
        pending.append(b)
      } else {
        flush()
        out.append(token)
      }
    }
    flush()
    return out
  }

  /// HF `Strip`, including its cut of the end counted in bytes rather than characters.
  static func strip(_ token: [UInt8], _ content: UInt32, _ start: Int, _ stop: Int) -> [UInt8] {
    let scalars = Array(String(decoding: token, as: UTF8.self).unicodeScalars)
    var startCut = 0
    for (i, c) in scalars.enumerated() {
      guard i < start && c.value == content else { break }
      startCut += 1
    }
    var stopCut = 0
    for (i, c) in scalars.reversed().enumerated() {
      guard i < stop && c.value == content else { break }
      stopCut += 1
    }
    let keep = token.count - startCut - stopCut
    var out: [UInt8] = []
    for c in scalars.dropFirst(startCut).prefix(max(keep, 0)) { appendScalar(c.value, to: &out) }
    return out
  }
}
