import Foundation
import Generation
import Models
import Tokenizers
import XCTest

@testable import Torch

/// The continuous-batching engine against `TokenGenerator` run on each prompt alone: sequences that share the
/// decode batch, join it while others run (more requests than slots) and leave it at different steps get the
/// same greedy tokens as alone, on full attention (Qwen2, Llama 3, GPT-2's learned positions) and a sliding window
/// (Mistral).
final class ContinuousBatcherTests: XCTestCase {
  /// Collects a sequence's events.
  final class Collector: @unchecked Sendable {
    let lock = NSLock()
    let done = DispatchSemaphore(value: 0)
    var pieces: [String] = []
    var summary: SequenceSummary?
    var failure: String?

    func callback() -> @Sendable (SequenceEvent) -> Void {
      { [self] event in
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .text(let s): pieces.append(s)
        case .finished(let s):
          summary = s
          done.signal()
        case .failed(let m):
          failure = m
          done.signal()
        }
      }
    }

    func wait(_ test: XCTestCase) -> SequenceSummary? {
      XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "the sequence did not finish")
      lock.lock()
      defer { lock.unlock() }
      if let failure { XCTFail(failure) }
      return summary
    }
  }

  func prompts(vocab: Int) -> [[Int]] {
    (1...8).map { i in (0..<(2 + 3 * i)).map { 5 + (i * 37 + $0 * 11 + $0 * $0) % (vocab - 5) } }
  }

  func testConcurrentGreedySequencesMatchGeneratingAlone() throws {
    let root = try CausalLMFixtures.directory()
    let tokenizer = try Tokenizer(directory: root + "/qwen2")
    for variant in ["qwen2", "llama3", "gpt2", "mistral"] {
      let (model, _) = try AutoModelForCausalLM.fromPretrained(root + "/" + variant)
      let prompts = prompts(vocab: model.vocabularySize)
      var configs: [GenerationConfig] = []
      var alone: [[Int]] = []
      for (i, p) in prompts.enumerated() {
        var config = GenerationConfig()
        config.maxNewTokens = 6 + (i * 5) % 9  // sequences leave at different steps
        configs.append(config)
        alone.append(try TokenGenerator(model: model).generate(prompts: [p], config: config).tokens[0])
      }
      // 3 slots for 8 sequences: most join while others are running.
      let batcher = try ContinuousBatcher(model: model, tokenizer: tokenizer, slots: 3, capacity: 64)
      batcher.start()
      let collectors = prompts.map { _ in Collector() }
      for (i, p) in prompts.enumerated() {
        try batcher.submit(SequenceRequest(prompt: p, config: configs[i]), onEvent: collectors[i].callback())
        if i == 1 { Thread.sleep(forTimeInterval: 0.01) }  // the rest arrive mid-batch
      }
      for (i, c) in collectors.enumerated() {
        let summary = c.wait(self)
        XCTAssertEqual(summary?.tokens, alone[i], "\(variant) prompt \(i)")
        XCTAssertEqual(summary?.finishReason, .length)
        XCTAssertEqual(c.pieces.joined(), summary?.text, "\(variant): the pieces concatenate to the text")
        XCTAssertEqual(summary?.text, tokenizer.decode(alone[i], skipSpecialTokens: true))
      }
      batcher.shutdown()
    }
  }

  func testStopStringsEOSAndCancellation() throws {
    let dir = try CausalLMFixtures.directory() + "/qwen2"
    let lm = try CausalLM(contentsOf: dir)
    let batcher = try ContinuousBatcher(model: lm.model, tokenizer: lm.tokenizer, slots: 1, capacity: 128)
    batcher.start()
    defer { batcher.shutdown() }
    var config = lm.generationConfig
    config.doSample = false
    config.maxNewTokens = 30
    let prompt = try lm.encode("Once upon a time")
    let reference = try lm.generate(prompts: [prompt], config: config).completions[0]
    let plain = Collector()
    try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: plain.callback())
    let s = plain.wait(self)
    XCTAssertEqual(s?.tokens, reference.tokens)
    XCTAssertEqual(s?.text, reference.text)
    XCTAssertEqual(s?.finishReason, reference.finishReason)
    // A stop string taken from the reference's own text: the same cut as `generate`.
    if reference.text.count >= 4 {
      config.stopStrings = [String(reference.text.dropFirst(2).prefix(2))]
      let stopped = try lm.generate(prompts: [prompt], config: config).completions[0]
      let c = Collector()
      try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: c.callback())
      let t = c.wait(self)
      XCTAssertEqual(t?.text, stopped.text)
      XCTAssertEqual(t?.finishReason, .stop)
      XCTAssertEqual(c.pieces.joined(), stopped.text)
      config.stopStrings = []
    }
    // A cancelled sequence frees its one slot: the next one runs.
    config.maxNewTokens = 90
    let long = Collector()
    let handle = try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: long.callback())
    handle.cancel()
    config.maxNewTokens = 30
    let after = Collector()
    try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: after.callback())
    XCTAssertEqual(after.wait(self)?.tokens, reference.tokens)
    // Requests that cannot fit are refused before queueing; a full queue throws QueueFull.
    config.maxNewTokens = 200
    XCTAssertThrowsError(try batcher.check(SequenceRequest(prompt: prompt, config: config)))
    XCTAssertThrowsError(try batcher.check(SequenceRequest(prompt: [], config: config)))
  }

  func testSeededSamplingIsReproducibleBesideOtherSequences() throws {
    let dir = try CausalLMFixtures.directory() + "/qwen2"
    let lm = try CausalLM(contentsOf: dir)
    let batcher = try ContinuousBatcher(model: lm.model, tokenizer: lm.tokenizer, slots: 4, capacity: 128)
    batcher.start()
    defer { batcher.shutdown() }
    var config = GenerationConfig()
    config.doSample = true
    config.temperature = 0.9
    config.topK = 0
    config.maxNewTokens = 16
    config.seed = 1234
    let prompt = try lm.encode("Hello")
    let alone = Collector()
    try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: alone.callback())
    let first = alone.wait(self)?.tokens
    var others = config
    others.seed = 99
    let crowd = (0..<3).map { _ in Collector() }
    let again = Collector()
    for c in crowd { try batcher.submit(SequenceRequest(prompt: prompt, config: others), onEvent: c.callback()) }
    try batcher.submit(SequenceRequest(prompt: prompt, config: config), onEvent: again.callback())
    XCTAssertEqual(again.wait(self)?.tokens, first)
    for c in crowd { _ = c.wait(self) }
  }
}
