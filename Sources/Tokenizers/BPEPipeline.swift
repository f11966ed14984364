/// The parts of a tokenizer.json whose model is BPE, ready to run.
struct BPEConfiguration {
  var normalizer: CompiledNormalizer?
  var preTokenizer: CompiledPreTokenizer?
  var model: BPE
  var decoder: Decoder?
}

/// HF's encoding pipeline around a BPE model, on UTF-8 bytes: added tokens are split out of the raw
/// text (non-normalized ones) and of each normalized split (normalized ones); the rest is normalized,
/// pre-tokenized and segmented by the model.
final class BPEPipeline: Sendable {
  let normalizer: CompiledNormalizer?
  let preTokenizer: CompiledPreTokenizer?
  let model: BPE
  let decoder: Decoder?
  let rawMatcher: ByteTokenMatcher?
  let normalizedMatcher: ByteTokenMatcher?
  /// Token string of each added-token id, to report matches whose text differs (stripped spaces).
  let addedContents: [Int: [UInt8]]

  init(_ configuration: BPEConfiguration, addedTokens: [(id: Int, token: AddedToken)]) {
    normalizer = configuration.normalizer
    preTokenizer = configuration.preTokenizer
    model = configuration.model
    decoder = configuration.decoder
    var raw: [ByteTokenMatcher.Pattern] = []
    var normalized: [ByteTokenMatcher.Pattern] = []
    var contents: [Int: [UInt8]] = [:]
    var seen: [String: Int] = [:]
    for (id, token) in addedTokens where !token.content.isEmpty { seen[token.content] = id }
    for (id, token) in addedTokens.sorted(by: { $0.id < $1.id }) where seen[token.content] == id {
      let bytes = Array(token.content.utf8)
      contents[id] = bytes
      if token.normalized {
        let form = configuration.normalizer?.apply(bytes) ?? bytes
        normalized.append(.init(bytes: form, id: id, token: token))
      } else {
        raw.append(.init(bytes: bytes, id: id, token: token))
      }
    }
    rawMatcher = ByteTokenMatcher(patterns: raw)
    normalizedMatcher = ByteTokenMatcher(patterns: normalized)
    addedContents = contents
  }

  /// Tokenizes one input string into `out` (offsets in Unicode scalars of `text`).
  func tokenize(_ text: String, into out: inout RawSequence, ws: inout BPEWorkspace) {
    out.removeAll()
    var text = text
    var buffers = PipelineBuffers(taking: &ws)
    defer { buffers.giveBack(to: &ws) }
    var ascii = true
    text.withUTF8 { bytes in
      guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
      var word: Int32 = 0
      var position = 0
      let n = bytes.count
      if let matcher = rawMatcher {
        for m in matcher.matches(in: base, range: 0..<n) {
          if position < m.start {
            segment(base, position..<m.start, out: &out, word: &word, buffers: &buffers, ws: &ws)
          }
          addToken(
            m.id, UnsafeBufferPointer(start: base + m.start, count: m.end - m.start), m.start, m.end, &out, &word)
          position = m.end
        }
      }
      if position < n { segment(base, position..<n, out: &out, word: &word, buffers: &buffers, ws: &ws) }
      for b in bytes where b >= 0x80 {
        ascii = false
        break
      }
      if !ascii { Self.convertOffsets(bytes, &out) }
    }
  }

  private func addToken(
    _ id: Int, _ matched: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ out: inout RawSequence,
    _ word: inout Int32
  ) {
    if let content = addedContents[id], !content.elementsEqual(matched) {
      out.overrides[out.count] = String(decoding: matched, as: UTF8.self)
    }
    out.append(id: Int32(id), start: Int32(start), end: Int32(end), word: word)
    word += 1
  }

  /// Normalizes one split of the raw text, splits out normalized added tokens, and tokenizes the rest.
  private func segment(
    _ base: UnsafePointer<UInt8>, _ range: Range<Int>, out: inout RawSequence, word: inout Int32,
    buffers: inout PipelineBuffers, ws: inout BPEWorkspace
  ) {
    let input = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    buffers.arena.removeAll(keepingCapacity: true)
    var exact = true
    if let normalizer {
      let normalized = normalizer.apply(Array(input))
      exact = normalized.elementsEqual(input)
      buffers.arena += normalized
    } else {
      buffers.arena.append(contentsOf: input)
    }
    let count = buffers.arena.count
    func piece(_ s: Int, _ e: Int) -> Piece {
      exact
        ? Piece(
          start: s, end: e, origin: range.lowerBound + s, originalStart: range.lowerBound + s,
          originalEnd: range.lowerBound + e)
        : Piece(start: s, end: e, origin: -1, originalStart: range.lowerBound, originalEnd: range.upperBound)
    }
    guard let matcher = normalizedMatcher else {
      if count > 0 { words(piece(0, count), out: &out, word: &word, buffers: &buffers, ws: &ws) }
      return
    }
    let matches = buffers.arena.withUnsafeBufferPointer { matcher.matches(in: $0.baseAddress!, range: 0..<count) }
    var position = 0
    for m in matches {
      if position < m.start { words(piece(position, m.start), out: &out, word: &word, buffers: &buffers, ws: &ws) }
      let p = piece(m.start, m.end)
      buffers.arena.withUnsafeBufferPointer { a in
        addToken(
          m.id, UnsafeBufferPointer(rebasing: a[m.start..<m.end]), p.originalStart, p.originalEnd, &out, &word)
      }
      position = m.end
    }
    if position < count { words(piece(position, count), out: &out, word: &word, buffers: &buffers, ws: &ws) }
  }

  /// Pre-tokenizes one split and runs the model on each word.
  private func words(
    _ split: Piece, out: inout RawSequence, word: inout Int32, buffers: inout PipelineBuffers,
    ws: inout BPEWorkspace
  ) {
    buffers.pieces.removeAll(keepingCapacity: true)
    buffers.pieces.append(split)
    if let preTokenizer {
      preTokenizer.run(
        arena: &buffers.arena, pieces: &buffers.pieces, spare: &buffers.spare, parts: &buffers.parts)
    }
    let arena = buffers.arena
    let pieces = buffers.pieces
    arena.withUnsafeBufferPointer { arena in
      let base = arena.baseAddress!
      for piece in pieces {
        buffers.ids.removeAll(keepingCapacity: true)
        buffers.ends.removeAll(keepingCapacity: true)
        model.tokenize(base + piece.start, piece.end - piece.start, ids: &buffers.ids, ends: &buffers.ends, ws: &ws)
        var previous: Int32 = 0
        for k in 0..<buffers.ids.count {
          let end = buffers.ends[k]
          if piece.origin >= 0 {
            out.append(
              id: buffers.ids[k], start: Int32(piece.origin) + previous, end: Int32(piece.origin) + end, word: word)
          } else {
            out.append(
              id: buffers.ids[k], start: Int32(piece.originalStart), end: Int32(piece.originalEnd), word: word)
          }
          previous = end
        }
        word += 1
      }
    }
  }

  /// Turns byte offsets into Unicode-scalar offsets (an offset inside a character counts that character).
  private static func convertOffsets(_ bytes: UnsafeBufferPointer<UInt8>, _ out: inout RawSequence) {
    var scalarsBefore = [Int32](repeating: 0, count: bytes.count + 1)
    var count: Int32 = 0
    for i in 0..<bytes.count {
      scalarsBefore[i] = count
      if bytes[i] & 0xC0 != 0x80 { count += 1 }
    }
    scalarsBefore[bytes.count] = count
    for k in 0..<out.tokens.count {
      out.tokens[k].start = scalarsBefore[Int(out.tokens[k].start)]
      let end = Int(out.tokens[k].end)
      var e = end
      while e < bytes.count && bytes[e] & 0xC0 == 0x80 { e += 1 }
      out.tokens[k].end = scalarsBefore[e]
    }
  }

  // MARK: Decoding

  /// Joins token strings with the decoder (HF: with spaces when there is none).
  func decode(_ tokens: [String]) -> String {
    guard let decoder else { return tokens.joined(separator: " ") }
    return decoder.decode(tokens)
  }
}

/// The pipeline's scratch arrays, moved out of the workspace while the model uses the workspace.
struct PipelineBuffers {
  var arena: [UInt8]
  var pieces: [Piece]
  var spare: [Piece]
  var parts: [SplitPart]
  var ids: [Int32]
  var ends: [Int32]

  init(taking ws: inout BPEWorkspace) {
    arena = ws.arena
    pieces = ws.pieces
    spare = ws.spare
    parts = ws.parts
    ids = ws.ids
    ends = ws.ends
    ws.arena = []
    ws.pieces = []
    ws.spare = []
    ws.parts = []
    ws.ids = []
    ws.ends = []
  }

  func giveBack(to ws: inout BPEWorkspace) {
    ws.arena = arena
    ws.pieces = pieces
    ws.spare = spare
    ws.parts = parts
    ws.ids = ids
    ws.ends = ends
  }
}
