import Foundation

/// Reusable per-thread buffers of the encoding pipeline.
struct Workspace {
  var input: [UInt32] = []
  var normalized: [UInt32] = []
  var origin: [Int32] = []
  var scratch: [UInt32] = []
  var hashes: [UInt64] = []
  var first = RawSequence()
  var second = RawSequence()
  var bpe = BPEWorkspace()
}

/// A per-thread `Workspace`, so repeated `encode` calls reuse their buffers.
final class WorkspaceBox {
  var workspace = Workspace()

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
      if let pointer { Unmanaged<WorkspaceBox>.fromOpaque(pointer).release() }
    }
    return key
  }()

  /// The calling thread's workspace (created on first use, released when the thread exits).
  static var current: WorkspaceBox {
    if let pointer = pthread_getspecific(key) {
      return Unmanaged<WorkspaceBox>.fromOpaque(pointer).takeUnretainedValue()
    }
    let box = WorkspaceBox()
    pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
    return box
  }
}

/// The immutable, shared part of a tokenizer.
final class TokenizerCore: Sendable {
  let configuration: TokenizerConfigurationBox
  let model: WordPiece
  /// The pipeline of a BPE tokenizer (nil: WordPiece).
  let bpe: BPEPipeline?
  let added: AddedVocabulary
  let idVocabulary: IdVocabulary
  let tables: UnicodeTables
  let normalizerASCII: [UInt8]
  let asciiKinds: [UInt8]
  let vocabularySize: Int
  let maxPieceLength: Int

  init(_ configuration: TokenizerConfiguration) {
    self.configuration = TokenizerConfigurationBox(configuration)
    tables = UnicodeTables.shared
    model = WordPiece(
      vocab: configuration.vocab, unkToken: configuration.unkToken,
      continuingSubwordPrefix: configuration.continuingSubwordPrefix,
      maxInputCharsPerWord: configuration.maxInputCharsPerWord)
    bpe = configuration.bpe.map { BPEPipeline($0, addedTokens: configuration.addedTokens) }
    normalizerASCII = configuration.normalizer?.asciiTable() ?? (0..<128).map { UInt8($0) }
    asciiKinds = BertPreTokenizer.asciiKinds
    let normalizer = configuration.normalizer
    let tables = self.tables
    let asciiTable = normalizerASCII
    added = AddedVocabulary(tokens: configuration.addedTokens) { content in
      let input = content.unicodeScalars.map(\.value)
      guard let normalizer, configuration.bpe == nil else { return input }
      var norm: [UInt32] = []
      var origin: [Int32] = []
      var scratch: [UInt32] = []
      input.withUnsafeBufferPointer { inputBuffer in
        asciiTable.withUnsafeBufferPointer { ascii in
          normalizer.normalize(
            inputBuffer, range: 0..<inputBuffer.count, ascii: ascii, tables: tables,
            norm: &norm, origin: &origin, scratch: &scratch)
        }
      }
      return norm
    }
    var extra: [Int: String] = [:]
    for (id, token) in added.tokensById { extra[id] = token.content }
    if let bpe {
      idVocabulary = IdVocabulary(tokens: bpe.model.tokens, extra: extra)
      vocabularySize = bpe.model.count + added.idsByContent.keys.filter { bpe.model.id(of: $0) == nil }.count
    } else {
      var tokens = [String?](repeating: nil, count: (configuration.vocab.values.max() ?? -1) + 1)
      for (token, id) in configuration.vocab { tokens[id] = token }
      idVocabulary = IdVocabulary(tokens: tokens, extra: extra)
      vocabularySize = Set(configuration.vocab.keys).union(added.idsByContent.keys).count
    }
    maxPieceLength = max(model.index.maxWordLength, model.index.maxContinuationLength) + 1
  }

  /// Encodes with truncation and post-processing (no padding).
  func encode(
    _ text: String, pair: String?, addSpecialTokens: Bool, truncation: Truncation?,
    workspace ws: inout Workspace
  ) throws -> Encoding {
    if let bpe {
      bpe.tokenize(text, into: &ws.first, ws: &ws.bpe)
    } else {
      try tokenize(
        text, into: &ws.first, input: &ws.input, normalized: &ws.normalized, origin: &ws.origin,
        scratch: &ws.scratch, hashes: &ws.hashes)
    }
    var second: RawSequence?
    if let pair {
      if let bpe {
        bpe.tokenize(pair, into: &ws.second, ws: &ws.bpe)
      } else {
        try tokenize(
          pair, into: &ws.second, input: &ws.input, normalized: &ws.normalized, origin: &ws.origin,
          scratch: &ws.scratch, hashes: &ws.hashes)
      }
      second = ws.second
    }
    let processor = configuration.value.postProcessor
    let special = addSpecialTokens ? processor : nil
    func build(_ a: RawSequence, _ b: RawSequence?) -> Encoding {
      if let special { return special.apply(first: a, second: b, vocabulary: idVocabulary) }
      return TemplateProcessing.concatenate(first: a, second: b, vocabulary: idVocabulary)
    }
    guard let truncation else { return build(ws.first, second) }
    let added = special?.addedTokens(isPair: pair != nil) ?? 0
    let (firsts, seconds) = try truncation.apply(first: ws.first, second: second, addedTokens: added)
    if firsts.count == 1 && (seconds?.count ?? 1) == 1 { return build(firsts[0], seconds?[0]) }
    // Overflowing windows: HF post-processes each template piece and merges them left to right, and each
    // merge combines the overflowing encodings of both sides; replay those merges on window choices.
    let template =
      special.map { seconds == nil ? $0.single : $0.pair }
      ?? [.sequence(isPair: false, typeId: 0)] + (seconds == nil ? [] : [.sequence(isPair: true, typeId: 1)])
    var pieces: [OverflowNode] = []
    for piece in template {
      switch piece {
      case .special: pieces.append(OverflowNode())
      case let .sequence(isPair, _):
        guard let windows = isPair ? seconds?.count : firsts.count else { continue }
        pieces.append(
          OverflowNode(
            window: 0, isPair: isPair,
            overflowing: (1..<windows).map { OverflowNode(window: $0, isPair: isPair) }))
      }
    }
    let merged = pieces.reduce(OverflowNode()) { $0.merged(with: $1) }
    func materialize(_ node: OverflowNode) -> Encoding {
      var encoding = build(firsts[node.first], seconds?[node.second])
      encoding.overflowing = node.overflowing.map(materialize)
      return encoding
    }
    return materialize(merged)
  }

  /// Id of a token: added tokens first, then the model vocabulary.
  func tokenToId(_ token: String) -> Int? {
    if let id = added.idsByContent[token] { return id }
    if let bpe { return bpe.model.id(of: token).map(Int.init) }
    return model.vocab[token]
  }

  /// Joins token strings with the tokenizer's decoder (with spaces when it has none).
  func decode(_ tokens: [String]) -> String {
    if let bpe { return bpe.decode(tokens) }
    if let decoder = configuration.value.decoder { return decoder.decode(tokens) }
    return tokens.joined(separator: " ")
  }

  /// Splits added tokens, normalizes, pre-tokenizes and runs WordPiece over one input string.
  func tokenize(
    _ text: String, into out: inout RawSequence, input: inout [UInt32], normalized: inout [UInt32],
    origin: inout [Int32], scratch: inout [UInt32], hashes: inout [UInt64]
  ) throws {
    out.removeAll()
    input.removeAll(keepingCapacity: true)
    var text = text
    text.withUTF8 { bytes in
      input.reserveCapacity(bytes.count)
      decodeUTF8(bytes, into: &input)
    }
    if hashes.count < maxPieceLength { hashes = [UInt64](repeating: 0, count: maxPieceLength) }
    var word: Int32 = 0
    try input.withUnsafeBufferPointer { inputBuffer in
      try hashes.withUnsafeMutableBufferPointer { hashBuffer in
        guard let hashPointer = hashBuffer.baseAddress else { return }
        let n = inputBuffer.count
        guard let matcher = added.rawMatcher else {
          try processSegment(
            inputBuffer, 0..<n, out: &out, word: &word, normalized: &normalized,
            origin: &origin, scratch: &scratch, hashes: hashPointer)
          return
        }
        var position = 0
        for match in matcher.matches(in: inputBuffer, range: 0..<n) {
          if position < match.start {
            try processSegment(
              inputBuffer, position..<match.start, out: &out, word: &word,
              normalized: &normalized, origin: &origin, scratch: &scratch, hashes: hashPointer)
          }
          recordMatchText(inputBuffer[match.start..<match.end], id: match.id, out: &out)
          out.append(id: Int32(match.id), start: Int32(match.start), end: Int32(match.end), word: word)
          word += 1
          position = match.end
        }
        if position < n {
          try processSegment(
            inputBuffer, position..<n, out: &out, word: &word, normalized: &normalized,
            origin: &origin, scratch: &scratch, hashes: hashPointer)
        }
      }
    }
  }

  /// Normalizes one split of the raw input and tokenizes it.
  private func processSegment(
    _ input: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, out: inout RawSequence,
    word: inout Int32, normalized: inout [UInt32], origin: inout [Int32],
    scratch: inout [UInt32], hashes: UnsafeMutablePointer<UInt64>
  ) throws {
    normalized.removeAll(keepingCapacity: true)
    origin.removeAll(keepingCapacity: true)
    if let normalizer = configuration.value.normalizer {
      normalizerASCII.withUnsafeBufferPointer { ascii in
        normalizer.normalize(
          input, range: range, ascii: ascii, tables: tables, norm: &normalized,
          origin: &origin, scratch: &scratch)
      }
    } else {
      for i in range {
        normalized.append(input[i])
        origin.append(Int32(i))
      }
    }
    try normalized.withUnsafeBufferPointer { norm in
      try origin.withUnsafeBufferPointer { originBuffer in
        guard let matcher = added.normalizedMatcher else {
          try splitAndTokenize(norm, 0..<norm.count, origin: originBuffer, out: &out, word: &word, hashes: hashes)
          return
        }
        var position = 0
        for match in matcher.matches(in: norm, range: 0..<norm.count) {
          if position < match.start {
            try splitAndTokenize(
              norm, position..<match.start, origin: originBuffer, out: &out, word: &word,
              hashes: hashes)
          }
          recordMatchText(norm[match.start..<match.end], id: match.id, out: &out)
          out.append(
            id: Int32(match.id), start: originBuffer[match.start], end: originBuffer[match.end - 1] + 1,
            word: word)
          word += 1
          position = match.end
        }
        if position < norm.count {
          try splitAndTokenize(
            norm, position..<norm.count, origin: originBuffer, out: &out, word: &word,
            hashes: hashes)
        }
      }
    }
  }

  /// HF reports an added token's matched text (with stripped spaces, or normalized) as its token string.
  private func recordMatchText(_ scalars: Slice<UnsafeBufferPointer<UInt32>>, id: Int, out: inout RawSequence) {
    let text = makeString(scalars: scalars)
    if let token = idVocabulary.token(for: id), token.unicodeScalars.elementsEqual(text.unicodeScalars) { return }
    out.overrides[out.count] = text
  }

  /// Pre-tokenizes normalized text and runs WordPiece on each word.
  @inline(__always)
  private func splitAndTokenize(
    _ norm: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, origin: UnsafeBufferPointer<Int32>,
    out: inout RawSequence, word: inout Int32, hashes: UnsafeMutablePointer<UInt64>
  ) throws {
    guard !range.isEmpty else { return }
    guard configuration.value.preTokenizer != nil else {
      try model.tokenize(
        norm, start: range.lowerBound, end: range.upperBound, origin: origin, word: word,
        hashes: hashes, out: &out)
      word += 1
      return
    }
    try asciiKinds.withUnsafeBufferPointer { kinds in
      try BertPreTokenizer.forEachWord(norm, range: range, asciiKinds: kinds, tables: tables) { start, end in
        try model.tokenize(norm, start: start, end: end, origin: origin, word: word, hashes: hashes, out: &out)
        word += 1
      }
    }
  }
}

/// Immutable holder of the configuration a core was built from.
final class TokenizerConfigurationBox: @unchecked Sendable {
  let value: TokenizerConfiguration
  init(_ value: TokenizerConfiguration) { self.value = value }
}

/// Which truncation window of each input an encoding holds, and its overflowing encodings: HF
/// `Encoding::merge_with`'s combination of overflowing parts, replayed on window indices.
struct OverflowNode {
  var first = 0
  var second = 0
  var overflowing: [OverflowNode] = []

  init() {}

  init(window: Int, isPair: Bool, overflowing: [OverflowNode] = []) {
    if isPair { second = window } else { first = window }
    self.overflowing = overflowing
  }

  /// HF `merge_with`: each of our overflowings with the other (and with each of its overflowings), then
  /// ourselves with each of its overflowings; windows chosen by `other` replace ours.
  func merged(with other: OverflowNode) -> OverflowNode {
    var result = self
    var combined: [OverflowNode] = []
    for mine in overflowing {
      combined.append(mine.merged(with: other))
      for theirs in other.overflowing { combined.append(mine.merged(with: theirs)) }
    }
    for theirs in other.overflowing { combined.append(merged(with: theirs)) }
    result.overflowing = combined
    result.takeWindows(of: other)
    return result
  }

  private mutating func takeWindows(of other: OverflowNode) {
    if other.first != 0 { first = other.first }
    if other.second != 0 { second = other.second }
  }
}
