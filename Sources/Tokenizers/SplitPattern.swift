/// What a `Split` pre-tokenizer (or `Replace`) looks for: a literal string, or a regex.
///
/// The regexes of GPT-2 (also ByteLevel's built-in one), Llama 3 and Qwen2 are recognised by their
/// exact text and run by hand-written matchers over UTF-8 bytes; other regexes run on Swift's `Regex`
/// with Unicode-scalar semantics (slower, same results for the usual syntax).
enum SplitPattern: Sendable {
  case literal([UInt8])
  case known(KnownPattern)
  case regex(RegexBox)

  /// GPT-2's pattern, used by `ByteLevel(use_regex: true)`.
  static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  static let llama3Regex =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let qwen2Regex =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

  /// A regex pattern (throws Swift's regex parse error).
  static func regex(_ pattern: String) throws -> SplitPattern {
    switch pattern {
    case gpt2Regex: return .known(.gpt2)
    case llama3Regex: return .known(.llama3)
    case qwen2Regex: return .known(.qwen2)
    default: return .regex(try RegexBox(pattern))
    }
  }

  /// HF `Pattern::find_matches`: `text[range]` cut into consecutive `(start, end, isMatch)` parts.
  func findMatches(_ p: UnsafePointer<UInt8>, _ range: Range<Int>, into out: inout [SplitPart]) {
    out.removeAll(keepingCapacity: true)
    if range.isEmpty {
      out.append(SplitPart(start: range.lowerBound, end: range.lowerBound, isMatch: false))
      return
    }
    var previous = range.lowerBound
    func add(_ start: Int, _ end: Int) {
      if previous != start { out.append(SplitPart(start: previous, end: start, isMatch: false)) }
      out.append(SplitPart(start: start, end: end, isMatch: true))
      previous = end
    }
    switch self {
    case let .known(pattern):
      CharacterClasses.bmp.withUnsafeBufferPointer { table in
        var i = range.lowerBound
        while i < range.upperBound {
          let n = pattern.matchLength(p, i, range.upperBound, table.baseAddress!)
          add(i, i + n)
          i += n
        }
      }
    case let .literal(needle):
      guard !needle.isEmpty else { break }
      var i = range.lowerBound
      while i + needle.count <= range.upperBound {
        if p[i] == needle[0] && (1..<needle.count).allSatisfy({ p[i + $0] == needle[$0] }) {
          add(i, i + needle.count)
          i += needle.count
        } else {
          i += 1
        }
      }
    case let .regex(box):
      let text = String(decoding: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count), as: UTF8.self)
      let utf8 = text.utf8
      for match in text.matches(of: box.regex) {
        let start = range.lowerBound + utf8.distance(from: utf8.startIndex, to: match.range.lowerBound)
        let end = start + utf8.distance(from: match.range.lowerBound, to: match.range.upperBound)
        add(start, end)
      }
    }
    if previous != range.upperBound { out.append(SplitPart(start: previous, end: range.upperBound, isMatch: false)) }
  }
}

/// One part of a split: a byte range and whether the pattern matched it.
struct SplitPart {
  var start: Int
  var end: Int
  var isMatch: Bool
}

/// A compiled general regex (Swift `Regex`, Unicode-scalar semantics).
final class RegexBox: @unchecked Sendable {
  let pattern: String
  let regex: Regex<AnyRegexOutput>

  init(_ pattern: String) throws {
    self.pattern = pattern
    regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
  }
}

/// Hand-written matchers of the GPT-2, Llama 3 and Qwen2 pre-tokenizer regexes. At every position one of
/// their alternatives matches, so the regex's matches tile the text; `matchLength` is the length (bytes) of
/// the match at `i`, found by trying the alternatives in order with the regex's backtracking rules.
enum KnownPattern: Sendable {
  case gpt2
  case llama3
  case qwen2

  @inline(__always)
  func matchLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ table: UnsafePointer<UInt8>) -> Int {
    @inline(__always) func cls(_ j: Int) -> (UInt8, Int) {
      let (v, n) = scalarAt(p, j)
      return (CharacterClasses.of(v, table), n)
    }
    let L = CharacterClasses.letter
    let N = CharacterClasses.number
    let S = CharacterClasses.space
    let NL = CharacterClasses.newline
    // Contractions: 's 't 're 've 'm 'll 'd (case-insensitive for Llama 3 / Qwen2).
    if p[i] == 0x27 && i + 1 < end {
      let folded = self != .gpt2
      @inline(__always) func lower(_ b: UInt8) -> UInt8 { folded && b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
      let c = lower(p[i + 1])
      if c == 0x73 || c == 0x74 || c == 0x6D || c == 0x64 { return 2 }  // s t m d
      if folded && p[i + 1] == 0xC5 && i + 2 < end && p[i + 2] == 0xBF { return 3 }  // ſ folds to s
      if i + 2 < end {
        let d = lower(p[i + 2])
        if (c == 0x72 && d == 0x65) || (c == 0x76 && d == 0x65) || (c == 0x6C && d == 0x6C) { return 3 }  // re ve ll
      }
    }
    let (c0, n0) = cls(i)
    func run(from j: Int, while want: UInt8, max: Int = Int.max) -> Int {
      var k = j
      var count = 0
      while k < end && count < max {
        let (c, n) = cls(k)
        guard c & want != 0 else { break }
        k += n
        count += 1
      }
      return k
    }
    func runOther(from j: Int) -> Int {
      var k = j
      while k < end {
        let (c, n) = cls(k)
        guard c & (L | N | S) == 0 else { break }
        k += n
      }
      return k
    }
    switch self {
    case .gpt2:
      // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
      var j = i
      var c = c0
      if p[i] == 0x20 && i + 1 < end {
        j = i + 1
        c = cls(j).0
      }
      if c & L != 0 { return run(from: j, while: L) - i }
      if c & N != 0 { return run(from: j, while: N) - i }
      if c & (L | N | S) == 0 { return runOther(from: j) - i }
    case .llama3, .qwen2:
      // `[^\r\n\p{L}\p{N}]?\p{L}+`
      if c0 & L != 0 { return run(from: i, while: L) - i }
      if c0 & (NL | N) == 0 && i + n0 < end && cls(i + n0).0 & L != 0 { return run(from: i + n0, while: L) - i }
      // `\p{N}{1,3}` / `\p{N}`
      if c0 & N != 0 { return run(from: i, while: N, max: self == .llama3 ? 3 : 1) - i }
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      var j = i
      var c = c0
      if p[i] == 0x20 && i + 1 < end {
        j = i + 1
        c = cls(j).0
      }
      if c & (L | N | S) == 0 {
        var k = runOther(from: j)
        while k < end && (p[k] == 0x0A || p[k] == 0x0D) { k += 1 }
        return k - i
      }
    }
    // Whitespace run: `\s*[\r\n]+` (Llama 3 / Qwen2), `\s+(?!\S)`, `\s+`.
    var k = i
    var lastStart = i
    var lastNewline = -1
    while k < end {
      let (c, n) = cls(k)
      guard c & S != 0 else { break }
      if c & NL != 0 { lastNewline = k }
      lastStart = k
      k += n
    }
    if k == i { return n0 }  // unreachable for valid input: every character is in one class
    if self != .gpt2 && lastNewline >= 0 { return lastNewline + 1 - i }
    if k == end || lastStart == i { return k - i }
    return lastStart - i
  }
}
