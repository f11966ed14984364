import Tokenizers

/// Turns a growing list of generated token ids into text pieces whose concatenation is the decoded text
/// (transformers' `TextStreamer` logic): decode what has been generated, hand out what is new, and hold back
/// text that may still change — a trailing U+FFFD (half a UTF-8 character, whose remaining bytes come in the
/// next tokens). Decoding the whole prefix each time keeps SentencePiece's leading-space rules right.
public struct TextStreamer {
  public let tokenizer: Tokenizer
  public let skipSpecialTokens: Bool
  public private(set) var tokens: [Int] = []
  private var emittedText = ""

  public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
    self.tokenizer = tokenizer
    self.skipSpecialTokens = skipSpecialTokens
  }

  /// Adds a token; returns the text it completes (possibly empty).
  public mutating func push(_ token: Int) -> String {
    tokens.append(token)
    let text = tokenizer.decode(tokens, skipSpecialTokens: skipSpecialTokens)
    if text.hasSuffix("\u{FFFD}") { return "" }
    return take(text)
  }

  /// Whatever is left (a trailing replacement character that never completed).
  public mutating func finish() -> String {
    take(tokenizer.decode(tokens, skipSpecialTokens: skipSpecialTokens))
  }

  private mutating func take(_ text: String) -> String {
    // The decoded prefix can differ from what was emitted (a decoder that cleans up spaces around later
    // tokens); emit only past the common prefix, as text is never taken back.
    guard text.hasPrefix(emittedText) else { return "" }
    let piece = String(text.dropFirst(emittedText.count))
    emittedText = text
    return piece
  }
}

/// A `TextStreamer` that also never hands out a stop string: text that could be the start of one is held back
/// until it is clear it is not, and `finish` ends the text before the stop string that ended generation (as the
/// completion's `text`).
public struct StoppingTextStreamer {
  var streamer: TextStreamer
  let stops: [String]
  var held = ""

  public init(tokenizer: Tokenizer, stopStrings: [String]) {
    streamer = TextStreamer(tokenizer: tokenizer)
    stops = stopStrings.filter { !$0.isEmpty }
  }

  /// Adds a token; returns the text that can be shown now (possibly empty).
  public mutating func push(_ token: Int) -> String {
    held += streamer.push(token)
    let safe = Self.emittable(held, stops: stops)
    held.removeFirst(safe.count)
    return safe
  }

  /// The rest of the text: up to the stop string `stoppedBy`, or everything still held.
  public mutating func finish(stoppedBy stop: String?) -> String {
    held += streamer.finish()
    guard let stop else { return held }
    guard let r = held.range(of: stop) else { return "" }
    return String(held[..<r.lowerBound])
  }

  /// The prefix of `text` that cannot be the beginning of a stop string.
  static func emittable(_ text: String, stops: [String]) -> String {
    guard !stops.isEmpty else { return text }
    if stops.contains(where: { text.contains($0) }) { return "" }
    var keep = text.count
    for stop in stops {
      for n in stride(from: min(stop.count, text.count), to: 0, by: -1) where text.hasSuffix(String(stop.prefix(n))) {
        keep = min(keep, text.count - n)
        break
      }
    }
    return String(text.prefix(keep))
  }
}
