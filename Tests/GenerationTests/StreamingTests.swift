import Foundation
import Generation
import XCTest

/// `CausalLM.stream` hands out pieces whose concatenation is the completion's text, stop strings included.
final class StreamingTests: XCTestCase {
  func collect(_ stream: AsyncThrowingStream<String, Error>) async throws -> [String] {
    var pieces: [String] = []
    for try await piece in stream { pieces.append(piece) }
    return pieces
  }

  func testStreamConcatenatesToCompletion() async throws {
    let lm = try CausalLM(contentsOf: CausalLMFixtures.directory() + "/gpt2")
    var config = lm.generationConfig
    config.maxNewTokens = 24
    config.doSample = false
    let whole = try lm.generate(prompt: "The quick brown fox", config: config)
    let pieces = try await collect(try lm.stream(prompt: "The quick brown fox", config: config))
    XCTAssertGreaterThan(pieces.count, 1)
    XCTAssertEqual(pieces.joined(), whole.text)
    XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") && !whole.text.contains("\u{FFFD}") })

    // A stop string taken from the middle of the text: generation stops there, and neither the completion nor
    // any piece holds it.
    let chars = Array(whole.text)
    let stop = String(chars[(chars.count / 2)..<(chars.count / 2 + 2)])
    config.stopStrings = [stop]
    let stopped = try lm.generate(prompt: "The quick brown fox", config: config)
    XCTAssertEqual(stopped.finishReason, .stop)
    XCTAssertFalse(stopped.text.contains(stop))
    XCTAssertTrue(whole.text.hasPrefix(stopped.text + stop), "\(stopped.text) + \(stop) vs \(whole.text)")
    let stoppedPieces = try await collect(try lm.stream(prompt: "The quick brown fox", config: config))
    XCTAssertEqual(stoppedPieces.joined(), stopped.text)
  }

  func testChatRendersTemplateOnce() throws {
    let lm = try CausalLM(contentsOf: CausalLMFixtures.directory() + "/qwen2")
    let data = try Data(
      contentsOf: URL(fileURLWithPath: CausalLMFixtures.directory() + "/qwen2/text_reference.json"))
    let ref = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let tokens = try lm.chatPromptTokens([.system("Be brief."), .user("Hello there")])
    XCTAssertEqual(tokens, ref["chat_prompt_ids"] as? [Int], "apply_chat_template(..., add_generation_prompt=True)")
  }
}
