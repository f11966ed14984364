/// The fast path for loading big BPE tokenizer.json files: `model.vocab` and `model.merges` (hundreds of
/// thousands of entries) are located by a skimming pass and read straight into the model's tables, and only
/// the rest of the document goes through the general JSON parser. Anything unexpected makes `locate` return
/// nil (or the readers throw `Unavailable`), and the caller falls back to the general parser, whose errors
/// name the problem.
struct TokenizerJSONScanner {
  /// Where the two big values are in the document.
  struct Sections {
    var vocab: Range<Int>
    var merges: Range<Int>?
  }

  struct Unavailable: Error {}

  let p: UnsafePointer<UInt8>
  let end: Int
  var i: Int

  init(_ p: UnsafePointer<UInt8>, _ range: Range<Int>) {
    self.p = p
    i = range.lowerBound
    end = range.upperBound
  }

  mutating func skipWhitespace() {
    while i < end, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
  }

  /// Reads a string at `i` into `out` (escapes decoded); false on malformed input.
  mutating func readString(into out: inout [UInt8]) -> Bool {
    out.removeAll(keepingCapacity: true)
    guard i < end, p[i] == 0x22 else { return false }
    i += 1
    var start = i
    while i < end {
      let b = p[i]
      if b == 0x22 {
        out.append(contentsOf: UnsafeBufferPointer(start: p + start, count: i - start))
        i += 1
        return true
      }
      if b < 0x20 { return false }
      if b == 0x5C {
        out.append(contentsOf: UnsafeBufferPointer(start: p + start, count: i - start))
        i += 1
        guard i < end else { return false }
        let e = p[i]
        i += 1
        switch e {
        case 0x22, 0x5C, 0x2F: out.append(e)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x6E: out.append(0x0A)
        case 0x72: out.append(0x0D)
        case 0x74: out.append(0x09)
        case 0x75:
          guard var code = hex4() else { return false }
          if (0xD800...0xDBFF).contains(code) {
            guard i + 1 < end, p[i] == 0x5C, p[i + 1] == 0x75 else { return false }
            i += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return false }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          } else if (0xDC00...0xDFFF).contains(code) {
            return false
          }
          appendScalar(code, to: &out)
        default: return false
        }
        start = i
        continue
      }
      i += 1
    }
    return false
  }

  private mutating func hex4() -> UInt32? {
    guard i + 4 <= end else { return nil }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = p[i]
      let d: UInt8
      switch c {
      case 0x30...0x39: d = c - 0x30
      case 0x41...0x46: d = c - 0x41 + 10
      case 0x61...0x66: d = c - 0x61 + 10
      default: return nil
      }
      v = v << 4 | UInt32(d)
      i += 1
    }
    return v
  }

  /// A non-negative integer (no fraction or exponent).
  mutating func readInt() -> Int? {
    var v = 0
    let start = i
    while i < end, p[i] >= 0x30 && p[i] <= 0x39, i - start < 12 {
      v = v * 10 + Int(p[i] - 0x30)
      i += 1
    }
    guard i > start, i == end || (p[i] != 0x2E && p[i] != 0x65 && p[i] != 0x45 && !(p[i] >= 0x30 && p[i] <= 0x39))
    else { return nil }
    return v
  }

  /// Skips a string at `i` (escapes are checked later, by whichever parser reads it).
  mutating func skipString() -> Bool {
    guard i < end, p[i] == 0x22 else { return false }
    i += 1
    while i < end {
      let b = p[i]
      if b == 0x22 {
        i += 1
        return true
      }
      if b < 0x20 { return false }
      i += b == 0x5C ? 2 : 1
    }
    return false
  }

  /// Skips one value of any kind; false on malformed input.
  mutating func skipValue(depth: Int = 0) -> Bool {
    guard i < end, depth < 512 else { return false }
    switch p[i] {
    case 0x22: return skipString()
    case 0x7B, 0x5B:
      let close: UInt8 = p[i] == 0x7B ? 0x7D : 0x5D
      let isObject = close == 0x7D
      i += 1
      skipWhitespace()
      if i < end, p[i] == close {
        i += 1
        return true
      }
      while true {
        if isObject {
          guard skipString() else { return false }
          skipWhitespace()
          guard i < end, p[i] == 0x3A else { return false }
          i += 1
          skipWhitespace()
        }
        guard skipValue(depth: depth + 1) else { return false }
        skipWhitespace()
        guard i < end else { return false }
        if p[i] == 0x2C {
          i += 1
          skipWhitespace()
          continue
        }
        guard p[i] == close else { return false }
        i += 1
        return true
      }
    default:
      while i < end,
        !(p[i] == 0x2C || p[i] == 0x7D || p[i] == 0x5D || p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09)
      {
        i += 1
      }
      return true
    }
  }

  /// Visits the members of the object at `i`: `body(key)` must consume the value.
  mutating func members(_ body: (inout TokenizerJSONScanner, [UInt8]) -> Bool) -> Bool {
    skipWhitespace()
    guard i < end, p[i] == 0x7B else { return false }
    i += 1
    skipWhitespace()
    if i < end, p[i] == 0x7D {
      i += 1
      return true
    }
    var key: [UInt8] = []
    while true {
      skipWhitespace()
      guard readString(into: &key) else { return false }
      skipWhitespace()
      guard i < end, p[i] == 0x3A else { return false }
      i += 1
      skipWhitespace()
      guard body(&self, key) else { return false }
      skipWhitespace()
      guard i < end else { return false }
      if p[i] == 0x2C {
        i += 1
        continue
      }
      guard p[i] == 0x7D else { return false }
      i += 1
      return true
    }
  }

  /// Where `model.vocab` and `model.merges` are, when the model is BPE.
  static func locate(_ bytes: UnsafeBufferPointer<UInt8>) -> Sections? {
    guard let base = bytes.baseAddress else { return nil }
    var s = TokenizerJSONScanner(base, 0..<bytes.count)
    var vocab: Range<Int>?
    var merges: Range<Int>?
    var isBPE = false
    var value: [UInt8] = []
    let ok = s.members { s, key in
      guard key.elementsEqual("model".utf8) else { return s.skipValue() }
      return s.members { s, key in
        let start = s.i
        if key.elementsEqual("type".utf8) {
          guard s.readString(into: &value) else { return false }
          isBPE = value.elementsEqual("BPE".utf8)
          return true
        }
        guard s.skipValue() else { return false }
        if key.elementsEqual("vocab".utf8) { vocab = start..<s.i }
        if key.elementsEqual("merges".utf8) { merges = start..<s.i }
        return true
      }
    }
    s.skipWhitespace()
    guard ok, s.i == bytes.count, isBPE, let vocab else { return nil }
    return Sections(vocab: vocab, merges: merges)
  }

  /// The document with the two sections replaced by empty containers.
  static func stripped(_ bytes: UnsafeBufferPointer<UInt8>, _ sections: Sections) -> [UInt8] {
    var cuts: [(Range<Int>, [UInt8])] = [(sections.vocab, [0x7B, 0x7D])]
    if let merges = sections.merges { cuts.append((merges, [0x5B, 0x5D])) }
    cuts.sort { $0.0.lowerBound < $1.0.lowerBound }
    var out: [UInt8] = []
    var position = 0
    for (range, replacement) in cuts {
      out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<range.lowerBound]))
      out += replacement
      position = range.upperBound
    }
    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position...]))
    return out
  }

  /// Reads `{"token": id, ...}` into the builder.
  static func readVocabulary(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, into builder: inout BPEVocabularyBuilder)
    throws
  {
    var s = TokenizerJSONScanner(p, range)
    var failed = false
    let ok = s.members { s, key in
      guard let id = s.readInt(), id < Int(Int32.max) else {
        failed = true
        return false
      }
      key.withUnsafeBufferPointer { builder.addToken($0, id: id) }
      return true
    }
    guard ok, !failed else { throw Unavailable() }
  }

  /// Reads `["a b", ...]` or `[["a", "b"], ...]` into the builder (which throws for unknown tokens).
  static func readMerges(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, into builder: inout BPEVocabularyBuilder)
    throws
  {
    var s = TokenizerJSONScanner(p, range)
    var a: [UInt8] = []
    var b: [UInt8] = []
    s.skipWhitespace()
    guard s.i < s.end, s.p[s.i] == 0x5B else { throw Unavailable() }
    s.i += 1
    s.skipWhitespace()
    if s.i < s.end, s.p[s.i] == 0x5D { return }
    while true {
      s.skipWhitespace()
      guard s.i < s.end else { throw Unavailable() }
      if s.p[s.i] == 0x22 {
        guard s.readString(into: &a) else { throw Unavailable() }
        guard let space = a.firstIndex(of: 0x20), !a[(space + 1)...].contains(0x20) else { throw Unavailable() }
        b.removeAll(keepingCapacity: true)
        b.append(contentsOf: a[(space + 1)...])
        a.removeSubrange(space...)
      } else {
        guard s.p[s.i] == 0x5B else { throw Unavailable() }
        s.i += 1
        s.skipWhitespace()
        guard s.readString(into: &a) else { throw Unavailable() }
        s.skipWhitespace()
        guard s.i < s.end, s.p[s.i] == 0x2C else { throw Unavailable() }
        s.i += 1
        s.skipWhitespace()
        guard s.readString(into: &b) else { throw Unavailable() }
        s.skipWhitespace()
        guard s.i < s.end, s.p[s.i] == 0x5D else { throw Unavailable() }
        s.i += 1
      }
      try a.withUnsafeBufferPointer { a in try b.withUnsafeBufferPointer { b in try builder.addMerge(a, b) } }
      s.skipWhitespace()
      guard s.i < s.end else { throw Unavailable() }
      if s.p[s.i] == 0x2C {
        s.i += 1
        continue
      }
      guard s.p[s.i] == 0x5D else { throw Unavailable() }
      return
    }
  }
}
