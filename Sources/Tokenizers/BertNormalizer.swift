/// HF `BertNormalizer`: clean text, isolate CJK ideographs, strip accents, lowercase.
///
/// Works on Unicode scalar values and records, for every output scalar, the index of the
/// original scalar it came from, which is how offsets are mapped back to the input.
public struct BertNormalizer: Sendable, Equatable {
  /// Remove control characters and map every whitespace character to U+0020.
  public var cleanText: Bool
  /// Surround CJK ideographs with spaces so they become single-character words.
  public var handleChineseChars: Bool
  /// Strip accents (NFD, then drop non-spacing marks); `nil` follows `lowercase`.
  public var stripAccents: Bool?
  /// Lowercase (Rust `char::to_lowercase`, one scalar may become several).
  public var lowercase: Bool

  public init(
    cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true
  ) {
    self.cleanText = cleanText
    self.handleChineseChars = handleChineseChars
    self.stripAccents = stripAccents
    self.lowercase = lowercase
  }

  /// Whether accents are stripped once `nil` is resolved.
  public var stripsAccents: Bool { stripAccents ?? lowercase }

  /// Output of the normalizer for each ASCII byte: the replacement byte, or `removed`.
  func asciiTable() -> [UInt8] {
    (0..<128).map { (b: Int) -> UInt8 in
      let c = UInt8(b)
      if cleanText {
        if c == 0x09 || c == 0x0A || c == 0x0D { return 0x20 }
        if c < 0x20 || c == 0x7F { return BertNormalizer.removed }
      }
      if lowercase, c >= 0x41, c <= 0x5A { return c + 32 }
      return c
    }
  }

  /// Marker in `asciiTable()` for a byte that `clean_text` deletes.
  static let removed: UInt8 = 0xFF

  /// Normalizes `input[range]`, appending scalars to `norm` and their source indices to `origin`.
  func normalize(
    _ input: UnsafeBufferPointer<UInt32>, range: Range<Int>, ascii: UnsafeBufferPointer<UInt8>,
    tables: UnicodeTables, norm: inout [UInt32], origin: inout [Int32], scratch: inout [UInt32]
  ) {
    let strip = stripsAccents
    // Pending run of non-starters (NFD canonical ordering only permutes within such runs).
    var run = MarkRun()
    // Source of the last character HF's NFD "consumed" (see `flush`).
    var lastSource: Int32 = 0
    for i in range {
      let c = input[i]
      let source = Int32(i)
      if c < 0x80 {
        let mapped = ascii[Int(c)]
        if mapped != BertNormalizer.removed {
          if !run.isEmpty { flush(&run, tables: tables, norm: &norm, origin: &origin) }
          norm.append(UInt32(mapped))
          origin.append(source)
          lastSource = source
        }
        continue
      }
      let f = tables.flags(of: c)
      if cleanText {
        if f.contains(.removedByCleanText) { continue }
        if f.contains(.cleanTextToSpace) {
          if !run.isEmpty { flush(&run, tables: tables, norm: &norm, origin: &origin) }
          norm.append(0x20)
          origin.append(source)
          lastSource = source
          continue
        }
      }
      let isChinese = handleChineseChars && f.contains(.chinese)
      if isChinese {
        if !run.isEmpty { flush(&run, tables: tables, norm: &norm, origin: &origin) }
        norm.append(0x20)
        origin.append(source)
        lastSource = source
      }
      if strip && f.contains(.decomposes) {
        scratch.removeAll(keepingCapacity: true)
        tables.appendDecomposition(of: c, to: &scratch)
        for (k, d) in scratch.enumerated() {
          appendDecomposed(
            d, flags: tables.flags(of: d), source: source, first: k == 0, tables: tables,
            norm: &norm, origin: &origin, run: &run, lastSource: &lastSource)
        }
      } else if strip {
        appendDecomposed(
          c, flags: f, source: source, first: true, tables: tables, norm: &norm, origin: &origin,
          run: &run, lastSource: &lastSource)
      } else {
        appendLowercased(c, flags: f, source: source, tables: tables, norm: &norm, origin: &origin)
      }
      if isChinese {
        norm.append(0x20)
        origin.append(source)
      }
    }
    if !run.isEmpty { flush(&run, tables: tables, norm: &norm, origin: &origin) }
  }

  /// Non-starters awaiting canonical reordering.
  struct MarkRun {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    var sources: [Int32] = []
    /// Whether the scalar is the first of its character's decomposition.
    var first: [Bool] = []
    /// Source of the last character consumed before the run.
    var before: Int32 = 0
    var isEmpty: Bool { scalars.isEmpty }
    /// Positions of the scalars that start a decomposition, in input order.
    var indicesOfFirst: [Int] { first.indices.filter { first[$0] } }
  }

  /// One scalar of the NFD output when stripping accents: starters go straight through
  /// (non-spacing ones are dropped), non-starters wait in `run` for canonical ordering.
  @inline(__always)
  private func appendDecomposed(
    _ d: UInt32, flags f: UnicodeTables.Flags, source: Int32, first: Bool, tables: UnicodeTables,
    norm: inout [UInt32], origin: inout [Int32], run: inout MarkRun, lastSource: inout Int32
  ) {
    let ccc = f.contains(.combining) ? tables.combiningClass(of: d) : 0
    if ccc != 0 {
      if run.isEmpty { run.before = lastSource }
      run.scalars.append(d)
      run.classes.append(ccc)
      run.sources.append(source)
      run.first.append(first)
      lastSource = source
      return
    }
    if !run.isEmpty { flush(&run, tables: tables, norm: &norm, origin: &origin) }
    lastSource = source
    if f.contains(.nonspacingMark) { return }
    appendLowercased(d, flags: f, source: source, tables: tables, norm: &norm, origin: &origin)
  }

  /// Emits a run of non-starters in canonical order, then drops non-spacing marks.
  ///
  /// Alignment follows HF's NFD (`unicode-normalization-alignments` + `NormalizedString::transform`):
  /// each scalar that starts a character's decomposition "consumes" the next original character
  /// in order, and every other scalar inherits the last consumed character — so after
  /// reordering a mark may be attributed to a neighbouring character, exactly as HF reports it.
  private func flush(_ run: inout MarkRun, tables: UnicodeTables, norm: inout [UInt32], origin: inout [Int32]) {
    let order = run.classes.indices.sorted {
      run.classes[$0] < run.classes[$1] || (run.classes[$0] == run.classes[$1] && $0 < $1)
    }
    var consumed = run.indicesOfFirst.makeIterator()
    var last = run.before
    for index in order {
      if run.first[index], let next = consumed.next() { last = run.sources[next] }
      let d = run.scalars[index]
      let f = tables.flags(of: d)
      if f.contains(.nonspacingMark) { continue }
      appendLowercased(d, flags: f, source: last, tables: tables, norm: &norm, origin: &origin)
    }
    run.scalars.removeAll(keepingCapacity: true)
    run.classes.removeAll(keepingCapacity: true)
    run.sources.removeAll(keepingCapacity: true)
    run.first.removeAll(keepingCapacity: true)
  }

  @inline(__always)
  private func appendLowercased(
    _ c: UInt32, flags f: UnicodeTables.Flags, source: Int32, tables: UnicodeTables,
    norm: inout [UInt32], origin: inout [Int32]
  ) {
    if lowercase && f.contains(.lowercaseDiffers), let mapped = tables.lowercase[c] {
      for l in mapped {
        norm.append(l)
        origin.append(source)
      }
    } else {
      norm.append(c)
      origin.append(source)
    }
  }
}
