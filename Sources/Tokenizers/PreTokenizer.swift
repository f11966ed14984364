/// HF `SplitDelimiterBehavior`: what becomes of the parts a pattern matched.
public enum SplitDelimiterBehavior: String, Sendable {
  case removed = "Removed"
  case isolated = "Isolated"
  case mergedWithPrevious = "MergedWithPrevious"
  case mergedWithNext = "MergedWithNext"
  case contiguous = "Contiguous"
}

/// HF `PrependScheme` of `Metaspace`: when to put the replacement character in front of a split.
public enum PrependScheme: String, Sendable {
  case always
  case first
  case never
}

/// HF pre-tokenizers of the BPE pipeline (BERT's own is `BertPreTokenizer`).
public indirect enum PreTokenizer: Sendable {
  case byteLevel(ByteLevel)
  /// `pattern` is a literal string unless `isRegex`.
  case split(pattern: String, isRegex: Bool, behavior: SplitDelimiterBehavior, invert: Bool)
  case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
  case digits(individualDigits: Bool)
  /// `\w+|[^\w\s]+`
  case whitespace
  /// Splits on whitespace, which is removed.
  case whitespaceSplit
  case sequence([PreTokenizer])
}

/// A split of the text being pre-tokenized: bytes `arena[start..<end]`; `origin` is the original byte
/// offset of `arena[start]` while the bytes are unchanged from the input (-1 once changed), and
/// `originalStart`/`originalEnd` the span of the input it comes from.
struct Piece {
  var start: Int
  var end: Int
  var origin: Int
  var originalStart: Int
  var originalEnd: Int

  /// The sub-piece `start..<end` (absolute arena offsets).
  @inline(__always)
  func sub(_ s: Int, _ e: Int) -> Piece {
    if origin >= 0 {
      let o = origin + (s - start)
      return Piece(start: s, end: e, origin: o, originalStart: o, originalEnd: o + (e - s))
    }
    let os = s == start ? originalStart : originalStart + 1
    return Piece(start: s, end: e, origin: -1, originalStart: min(os, originalEnd), originalEnd: originalEnd)
  }
}

/// A pre-tokenizer ready to run: a flat list of steps.
final class CompiledPreTokenizer: Sendable {
  enum Step: Sendable {
    case split(SplitPattern, SplitDelimiterBehavior, invert: Bool)
    case prefixSpace
    case metaspace(replacement: [UInt8], scheme: PrependScheme, split: Bool)
    case digits(individual: Bool)
    case whitespaceSplit
  }

  let steps: [Step]
  /// The pipeline ends in `ByteLevel`: the model sees raw bytes.
  let byteLevel: Bool

  init(_ preTokenizer: PreTokenizer) throws {
    var steps: [Step] = []
    var byteLevel = false
    func add(_ p: PreTokenizer) throws {
      switch p {
      case let .byteLevel(b):
        if b.addPrefixSpace { steps.append(.prefixSpace) }
        if b.useRegex { steps.append(.split(.known(.gpt2), .isolated, invert: false)) }
        byteLevel = true
        return
      case let .split(pattern, isRegex, behavior, invert):
        steps.append(
          .split(isRegex ? try SplitPattern.regex(pattern) : .literal(Array(pattern.utf8)), behavior, invert: invert))
      case let .metaspace(replacement, scheme, split):
        var bytes: [UInt8] = []
        appendScalar(replacement.value, to: &bytes)
        steps.append(.metaspace(replacement: bytes, scheme: scheme, split: split))
      case let .digits(individual): steps.append(.digits(individual: individual))
      case .whitespace: steps.append(.split(.regex(try RegexBox(#"\w+|[^\w\s]+"#)), .removed, invert: true))
      case .whitespaceSplit: steps.append(.whitespaceSplit)
      case let .sequence(items):
        for item in items {
          guard !byteLevel else { throw PreTokenizerError.byteLevelNotLast }
          try add(item)
        }
        return
      }
    }
    try add(preTokenizer)
    self.steps = steps
    self.byteLevel = byteLevel
  }

  /// Runs every step over `pieces` (bytes in `arena`, which steps that change bytes append to).
  func run(arena: inout [UInt8], pieces: inout [Piece], spare: inout [Piece], parts: inout [SplitPart]) {
    for step in steps {
      spare.removeAll(keepingCapacity: true)
      for piece in pieces {
        apply(step, piece, arena: &arena, out: &spare, parts: &parts)
      }
      swap(&pieces, &spare)
    }
  }

  private func apply(
    _ step: Step, _ piece: Piece, arena: inout [UInt8], out: inout [Piece], parts: inout [SplitPart]
  ) {
    switch step {
    case let .split(pattern, behavior, invert):
      arena.withUnsafeBufferPointer { a in
        pattern.findMatches(a.baseAddress!, piece.start..<piece.end, into: &parts)
      }
      if invert { for i in parts.indices { parts[i].isMatch.toggle() } }
      Self.emit(&parts, behavior, piece, into: &out)
    case .prefixSpace:
      if arena[piece.start] == 0x20 {
        out.append(piece)
        return
      }
      let start = arena.count
      arena.append(0x20)
      for i in piece.start..<piece.end { arena.append(arena[i]) }
      out.append(
        Piece(
          start: start, end: arena.count, origin: -1, originalStart: piece.originalStart,
          originalEnd: piece.originalEnd))
    case let .metaspace(replacement, scheme, split):
      var bytes = piece
      let hasSpace = arena[piece.start..<piece.end].contains(0x20)
      let startsWith =
        piece.end - piece.start >= replacement.count
        && arena[piece.start..<(piece.start + replacement.count)].elementsEqual(replacement)
      let prepend: Bool
      switch scheme {
      case .always: prepend = !startsWith && !(hasSpace && arena[piece.start] == 0x20)
      case .first:
        prepend = !startsWith && !(hasSpace && arena[piece.start] == 0x20) && piece.originalStart == 0
      case .never: prepend = false
      }
      if hasSpace || prepend {
        let start = arena.count
        if prepend { arena += replacement }
        for i in piece.start..<piece.end {
          if arena[i] == 0x20 { arena += replacement } else { arena.append(arena[i]) }
        }
        bytes = Piece(
          start: start, end: arena.count, origin: -1, originalStart: piece.originalStart,
          originalEnd: piece.originalEnd)
      }
      guard split else {
        out.append(bytes)
        return
      }
      arena.withUnsafeBufferPointer { a in
        SplitPattern.literal(replacement).findMatches(a.baseAddress!, bytes.start..<bytes.end, into: &parts)
      }
      Self.emit(&parts, .mergedWithNext, bytes, into: &out)
    case let .digits(individual):
      Self.characterParts(arena, piece, into: &parts) { $0 & CharacterClasses.number != 0 }
      Self.emit(&parts, individual ? .isolated : .contiguous, piece, into: &out)
    case .whitespaceSplit:
      Self.characterParts(arena, piece, into: &parts) { $0 & CharacterClasses.space != 0 }
      Self.emit(&parts, .removed, piece, into: &out)
    }
  }

  /// HF's `find_matches` for a character predicate: every matching character is a match of its own.
  private static func characterParts(
    _ arena: [UInt8], _ piece: Piece, into parts: inout [SplitPart], _ matches: (UInt8) -> Bool
  ) {
    parts.removeAll(keepingCapacity: true)
    arena.withUnsafeBufferPointer { a in
      CharacterClasses.bmp.withUnsafeBufferPointer { table in
        let p = a.baseAddress!
        var last = piece.start
        var i = piece.start
        while i < piece.end {
          let (v, n) = scalarAt(p, i)
          if matches(CharacterClasses.of(v, table.baseAddress!)) {
            if last < i { parts.append(SplitPart(start: last, end: i, isMatch: false)) }
            parts.append(SplitPart(start: i, end: i + n, isMatch: true))
            last = i + n
          }
          i += n
        }
        if last < piece.end { parts.append(SplitPart(start: last, end: piece.end, isMatch: false)) }
      }
    }
  }

  /// HF `NormalizedString::split`: applies the behavior to the matched parts and emits the non-empty pieces.
  static func emit(
    _ parts: inout [SplitPart], _ behavior: SplitDelimiterBehavior, _ piece: Piece, into out: inout [Piece]
  ) {
    switch behavior {
    case .removed:
      for part in parts where !part.isMatch && part.end > part.start { out.append(piece.sub(part.start, part.end)) }
      return
    case .isolated:
      for part in parts where part.end > part.start { out.append(piece.sub(part.start, part.end)) }
      return
    case .contiguous, .mergedWithPrevious:
      var merged: [SplitPart] = []
      var previous = false
      for part in parts {
        let join = behavior == .contiguous ? part.isMatch == previous : part.isMatch && !previous
        if join, !merged.isEmpty {
          merged[merged.count - 1].end = part.end
        } else {
          merged.append(part)
        }
        previous = part.isMatch
      }
      parts = merged
    case .mergedWithNext:
      var merged: [SplitPart] = []
      var previous = false
      for part in parts.reversed() {
        if part.isMatch && !previous, !merged.isEmpty {
          merged[merged.count - 1].start = part.start
        } else {
          merged.append(part)
        }
        previous = part.isMatch
      }
      parts = merged.reversed()
    }
    for part in parts where part.end > part.start { out.append(piece.sub(part.start, part.end)) }
  }
}

enum PreTokenizerError: Error {
  case byteLevelNotLast
}
