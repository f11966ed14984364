import ChatTemplates
import Foundation
import LoRA
import Models
import ReferenceTesting
import Tokenizers
import XCTest

@testable import Torch
@testable import Training

/// Causal-LM training against a plain PyTorch + transformers (+ peft) loop on the same model, batches and
/// settings (Fixtures/sft_reference.py), and the assistant-only label mask against transformers' chat template.
final class CausalLMTrainingTests: XCTestCase {
  static let script = ReferenceTools.packageRoot.appendingPathComponent(
    "Tests/CausalLMTrainingTests/Fixtures/sft_reference.py"
  ).path

  func python(_ command: String, _ request: [String: Any]) throws -> Any {
    let out = try ReferenceTools.runPython(
      [Self.script, command], input: try JSONSerialization.data(withJSONObject: request))
    return try JSONSerialization.jsonObject(with: out)
  }

  /// 5 steps × 2 micro-batches of 2 random sequences (one right-padded, some labels masked).
  func batches(vocab: Int) throws -> [[[CausalLMExample]]] {
    var state: UInt64 = 7
    func next(_ n: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(n))
    }
    return (0..<5).map { _ in
      (0..<2).map { _ in
        (0..<2).map { row in
          let length = row == 0 ? 12 : 9
          let ids = (0..<length).map { _ in 3 + next(vocab - 3) }
          let labels = ids.enumerated().map { $0.offset < 3 ? CausalLMData.ignoreIndex : $0.element }
          return CausalLMExample(inputIds: ids, labels: labels)
        }
      }
    }
  }

  func compare(lora: Bool) throws {
    let base = try SharedFixtures.causalLM() + "/llama3"
    let model = try AutoModelForCausalLM.fromPretrained(base).model
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    var adapter: String? = nil
    if lora {
      Torch.manualSeed(5)
      let config = LoRAConfig(r: 4, loraAlpha: 8, targetModules: .names(["q_proj", "v_proj", "down_proj"]))
      try LoRA.apply(config, to: model)
      // B starts at zero; give it values so the first steps move every adapter tensor.
      try withNoGrad { for (_, l) in LoRA.layers(of: model) { _ = try l.loraB.weight.normal_(mean: 0, std: 0.1) } }
      try LoRA.save(model, config: config, to: tmp + "/adapter")
      adapter = tmp + "/adapter"
    }
    var config = CausalLMTrainingConfig()
    config.learningRate = 1e-3
    config.weightDecay = 0.01
    config.warmupSteps = 2
    config.lrSchedule = "linear"
    config.maxGradNorm = 1.0
    config.gradientAccumulation = 2
    let steps = try batches(vocab: model.vocabularySize)
    var tensors: [String: Tensor] = [:]
    for (s, micro) in steps.enumerated() {
      for (m, batch) in micro.enumerated() {
        let (ids, mask, labels) = try CausalLMData.collate(batch, padId: 0)
        tensors["step\(s)_micro\(m)_input_ids"] = ids
        tensors["step\(s)_micro\(m)_attention_mask"] = mask
        tensors["step\(s)_micro\(m)_labels"] = labels
      }
    }
    try Torch.saveSafetensors(tensors, to: tmp + "/batches.safetensors")
    let trainer = try CausalLMTrainer(model: model, config: config)
    try trainer.makeScheduler(totalSteps: steps.count)
    let ours = try steps.map { try trainer.step($0) }
    let reference =
      try python(
        "train",
        [
          "base": base, "adapter": adapter ?? NSNull(), "batches": tmp + "/batches.safetensors", "steps": 5,
          "micro": 2, "lr": 1e-3, "weight_decay": 0.01, "warmup": 2, "max_grad_norm": 1.0
        ]) as! [Double]
    XCTAssertEqual(ours.count, reference.count)
    for (i, (a, b)) in zip(ours, reference).enumerated() {
      XCTAssertEqual(a, b, accuracy: 1e-4, "step \(i): TorchSwift \(a), PyTorch \(b)")
    }
    XCTAssertLessThan(ours.last!, ours.first!, "the loss goes down")
  }

  func testFullFineTuningMatchesPyTorch() throws { try compare(lora: false) }
  func testLoRAFineTuningMatchesPEFT() throws { try compare(lora: true) }

  func testAssistantOnlyLabels() throws {
    let dir = try SharedFixtures.causalLM() + "/qwen2"
    let tokenizer = try Tokenizer(directory: dir)
    let template = try ChatTemplate(directory: dir)
    let conversations: [[ChatMessage]] = [
      [.user("Hello there"), .assistant("Hi! How can I help?")],
      [
        .system("Be brief."), .user("What is 2+2?"), .assistant("4"), .user("And 3+3?"),
        .assistant("6, as you'd expect.")
      ],
      [.user("Grüße 東京 🙂"), .assistant("Tschüss"), .user("no reply yet")]
    ]
    let reference =
      try python(
        "masks",
        [
          "tokenizer": dir,
          "conversations": conversations.map { $0.map { ["role": $0.role, "content": $0.content ?? ""] } }
        ]) as! [[String: [Int]]]
    for (i, conv) in conversations.enumerated() {
      let ours = try CausalLMData.chat(conv, template: template, tokenizer: tokenizer, maxLength: 10_000)
      XCTAssertEqual(ours.inputIds, reference[i]["input_ids"], "conversation \(i): ids")
      XCTAssertEqual(ours.labels, reference[i]["labels"], "conversation \(i): labels")
      XCTAssertTrue(ours.labels.contains { $0 != CausalLMData.ignoreIndex })
    }
    XCTAssertThrowsError(
      try CausalLMData.chat([.user("only a question")], template: template, tokenizer: tokenizer, maxLength: 100))
  }

  func testPackedTextAndBadData() throws {
    let dir = try SharedFixtures.causalLM() + "/qwen2"
    let tokenizer = try Tokenizer(directory: dir)
    let lines = ["The quick brown fox jumps over the lazy dog.", "", "Swift is a language."]
    let blocks = try CausalLMData.packedText(lines, tokenizer: tokenizer, blockSize: 8)
    let stream = try lines.filter { !$0.isEmpty }.flatMap { try tokenizer.encode($0).ids }
    XCTAssertEqual(blocks.count, stream.count / 8)
    XCTAssertEqual(blocks.flatMap(\.inputIds), Array(stream[..<(blocks.count * 8)]))
    XCTAssertEqual(blocks.map(\.labels), blocks.map(\.inputIds))
    XCTAssertThrowsError(try CausalLMData.packedText(["hi"], tokenizer: tokenizer, blockSize: 512))
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    try "{\"text\": \"no messages\"}\n".write(toFile: tmp + "/bad.jsonl", atomically: true, encoding: .utf8)
    let template = try ChatTemplate(directory: dir)
    XCTAssertThrowsError(
      try CausalLMData.chatJSONL(tmp + "/bad.jsonl", template: template, tokenizer: tokenizer, maxLength: 64)
    ) { XCTAssertTrue("\($0)".contains("bad.jsonl:1") && "\($0)".contains("messages"), "\($0)") }
  }
}
