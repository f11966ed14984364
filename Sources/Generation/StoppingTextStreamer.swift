import Tokenizers

/// Text pieces of generated tokens (the tokenizer's `StreamingDecoder`: never half a UTF-8 character,
/// SentencePiece's leading space right) that also never hands out a stop string: text that could be the start of one is held back
/// until it is clear it is not, and `finish` ends the text before the stop string that ended generation (as the
/// completion's `text`).
public struct StoppingTextStreamer {
  var streamer: StreamingDecoder
  let stops: [String]
  var held = ""

  public init(tokenizer: Tokenizer, stopStrings: [String]) {
    streamer = StreamingDecoder(tokenizer: tokenizer)
    stops = stopStrings.filter { !$0.isEmpty }
  }

  /// Adds a token; returns the text that can be shown now (possibly empty).
  public mutating func push(_ token: Int) -> String {
    held += streamer.step(token) ?? ""
    let safe = Self.emittable(held, stops: stops)
    held.removeFirst(safe.count)
    return safe
  }

  /// The rest of the text: up to the stop string `stoppedBy`, or everything still held.
  public mutating func finish(stoppedBy stop: String?) -> String {
    held += streamer.finish() ?? ""
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
