import Foundation
import Generation
import ReferenceTesting
import XCTest

@testable import LoRA

/// `torchswift generate --adapter DIR`: the adapter (saved by peft) changes the text, and the CLI's merged adapter
/// gives what the library's unmerged one gives (whose logits equal peft's, LoRAParityTests).
final class AdapterCLITests: XCTestCase {
  func run(_ args: [String]) throws -> TorchSwiftBinary.Run { try TorchSwiftBinary.run(args) }

  func testGenerateWithAdapter() throws {
    let fixtures = try LoRAParityTests.fixtures()
    let base = fixtures + "/causal-lm/qwen2"
    let adapter = fixtures + "/qwen2_all_linear/peft-adapter"
    let args = ["generate", "--model", base, "--prompt", "Swift is a", "--max-new-tokens", "12", "--greedy"]
    let plain = try run(args)
    let adapted = try run(args + ["--adapter", adapter])
    XCTAssertEqual(plain.status, 0)
    XCTAssertEqual(adapted.status, 0)
    XCTAssertNotEqual(plain.stdout, adapted.stdout, "the adapter changes the text")
    let lm = try CausalLM(contentsOf: base)
    try lm.loadAdapter(adapter, merge: false)
    var config = lm.generationConfig
    config.maxNewTokens = 12
    config.doSample = false
    XCTAssertEqual(adapted.stdout, try lm.generate(prompt: "Swift is a", config: config).text + "\n")
    let bad = try run(args + ["--adapter", fixtures + "/gpt2_c_attn/peft-adapter"])
    XCTAssertEqual(bad.status, 1, "an adapter for another base model")
  }
}
