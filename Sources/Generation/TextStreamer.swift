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
