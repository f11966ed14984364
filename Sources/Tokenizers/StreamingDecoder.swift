/// Incremental decoding for streaming generation, as HF `tokenizers.decoders.DecodeStream` does it:
/// feed ids one at a time with `step(_:)` and get the new text, if any.
///
/// The text of a step is the decode of a short window of recent ids minus the decode of the window's
/// older part, so decoders that look at a sequence's first token (SentencePiece's leading-space `Strip`,
/// `Metaspace`) behave as in the full decode. Nothing is emitted while the decoded window ends in U+FFFD
/// (an incomplete UTF-8 character, for byte-level and byte-fallback vocabularies), so a piece never
/// holds half a character. `finish()` returns what is still held back (text that really ends in U+FFFD).
/// The pieces joined equal `decode` of all ids.
///
///     var stream = StreamingDecoder(tokenizer: tokenizer)
///     for id in generated { if let text = stream.step(id) { print(text, terminator: "") } }
///     if let rest = stream.finish() { print(rest, terminator: "") }
public struct StreamingDecoder: Sendable {
  public let tokenizer: Tokenizer
  public let skipSpecialTokens: Bool
  /// The window of ids still needed as context.
  private var ids: [Int] = []
  /// Decode of `ids[..<prefixIndex]`, already emitted.
  private var prefix = ""
  private var prefixIndex = 0

  public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
    self.tokenizer = tokenizer
    self.skipSpecialTokens = skipSpecialTokens
  }

  /// Adds one id; returns the text it completes (nil while a character or a token's text is incomplete).
  public mutating func step(_ id: Int) -> String? {
    if prefix.isEmpty && !ids.isEmpty {
      let newPrefix = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
      if newPrefix.unicodeScalars.last != "\u{FFFD}" {
        prefix = newPrefix
        prefixIndex = ids.count
      }
    }
    ids.append(id)
    let string = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
    guard string.utf8.count > prefix.utf8.count, string.unicodeScalars.last != "\u{FFFD}",
      string.utf8.starts(with: prefix.utf8)
    else { return nil }
    let text = String(decoding: string.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    let newPrefixIndex = ids.count - prefixIndex
    ids.removeFirst(prefixIndex)
    prefix = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
    prefixIndex = newPrefixIndex
    return text
  }

  /// Steps through several ids; returns the text they complete (nil when none).
  public mutating func step(_ ids: [Int]) -> String? {
    var out = ""
    var any = false
    for id in ids {
      if let text = step(id) {
        out += text
        any = true
      }
    }
    return any ? out : nil
  }

  /// The text held back at the end of generation (nil when none), e.g. a final invalid byte shown as U+FFFD.
  /// The decoder is reset and can be reused.
  public mutating func finish() -> String? {
    defer {
      ids = []
      prefix = ""
      prefixIndex = 0
    }
    let string = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
    guard string.utf8.count > prefix.utf8.count, string.utf8.starts(with: prefix.utf8) else { return nil }
    return String(decoding: string.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
  }
}
