import Foundation
import LoRA
import Models
import ReferenceTesting
import XCTest

@testable import Torch

/// `torchswift sft` end to end on the fixture model with its tokenizer and ChatML template.
final class SFTCommandTests: XCTestCase {
  /// Exit status and everything printed (stdout, then stderr).
  func torchswift(_ args: [String]) throws -> (status: Int32, output: String) {
    let r = try TorchSwiftBinary.run(args)
    return (r.status, r.stdout + r.stderr)
  }

  func testLoRAChatAndFullTextRuns() throws {
    let base = try SharedFixtures.causalLM() + "/qwen2"
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    let chat = (1...10).map { i in
      #"{"messages": [{"role": "user", "content": "What is \#(i) plus \#(i)?"}, {"role": "assistant", "content": "It is \#(2 * i)."}]}"#
    }.joined(separator: "\n")
    try chat.write(toFile: tmp + "/chat.jsonl", atomically: true, encoding: .utf8)
    var r = try torchswift([
      "sft", "--model", base, "--data", tmp + "/chat.jsonl", "--lora-r", "4", "--max-steps", "3", "--batch-size", "2",
      "--lr", "5e-3", "--output", tmp + "/adapter"
    ])
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("trainable params:") && r.output.contains("perplexity"), r.output)
    // The adapter loads (PEFT format) and changes the model.
    let model = try AutoModelForCausalLM.fromPretrained(base).model
    let ids = try Tensor([Int64(5), 6, 7, 8], shape: [1, 4])
    let before = try withNoGrad { try model(inputIds: ids) }
    let config = try LoRA.load(adapter: tmp + "/adapter", into: model)
    XCTAssertEqual(config.r, 4)
    XCTAssertEqual(config.taskType, "CAUSAL_LM")
    let after = try withNoGrad { try model(inputIds: ids) }
    XCTAssertGreaterThan(try after.sub(before).abs().max().item(Double.self), 1e-4)

    // Plain text, full fine-tuning: an HF folder that loads, with weights that moved.
    let text = (1...60).map { "Line \($0): the quick brown fox jumps over the lazy dog." }.joined(separator: "\n")
    try text.write(toFile: tmp + "/text.txt", atomically: true, encoding: .utf8)
    r = try torchswift([
      "sft", "--model", base, "--data", tmp + "/text.txt", "--block-size", "16", "--max-steps", "2", "--output",
      tmp + "/full"
    ])
    XCTAssertEqual(r.status, 0, r.output)
    let tuned = try AutoModelForCausalLM.fromPretrained(tmp + "/full").model
    let moved = try withNoGrad { try tuned(inputIds: ids) }
    XCTAssertGreaterThan(try moved.sub(before).abs().max().item(Double.self), 1e-4)

    // Bad data: a line without messages names the file and line, exits 1 and writes nothing.
    try "{\"text\": \"oops\"}\n".write(toFile: tmp + "/bad.jsonl", atomically: true, encoding: .utf8)
    r = try torchswift([
      "sft", "--model", base, "--data", tmp + "/bad.jsonl", "--output", tmp + "/never", "--logdir", tmp + "/never-logs"
    ])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.output.contains("bad.jsonl:1"), r.output)
    XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/never"))
  }
}
