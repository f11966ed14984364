import Foundation
import Generation
import Models
import ReferenceTesting
import XCTest

@testable import Torch

/// Bad model folders and requests give errors that name the file, tensor or limit.
final class CausalLMErrorTests: XCTestCase {
  func copyFixture(_ variant: String) throws -> String {
    let dir = try ReferenceTools.temporaryDirectory(self).appendingPathComponent(variant).path
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.copyItem(atPath: CausalLMFixtures.directory() + "/" + variant, toPath: dir)
    return dir
  }

  func editConfig(_ dir: String, _ edit: (inout [String: Any]) -> Void) throws {
    let path = dir + "/config.json"
    var obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    edit(&obj)
    try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: path))
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  func testMissingShardIsNamed() throws {
    let dir = try copyFixture("llama_linear")
    try FileManager.default.removeItem(atPath: dir + "/model-00003-of-00012.safetensors")
    let m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("model-00003-of-00012.safetensors") && m.contains("missing"), m)
  }

  func testShapeDifferentFromConfigIsNamed() throws {
    let dir = try copyFixture("qwen2")
    try editConfig(dir) { $0["intermediate_size"] = 96 }
    let m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("mlp.") && m.contains("has shape [128, 64]") && m.contains("[96, 64]"), m)
  }

  func testMissingTensorIsNamed() throws {
    let dir = try copyFixture("llama3")
    try editConfig(dir) { $0["num_hidden_layers"] = 4 }
    let m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("lacks") && m.contains("model.layers.3."), m)
  }

  func testUnsupportedArchitectureListsSupported() throws {
    let dir = try copyFixture("gpt2")
    try editConfig(dir) { $0["architectures"] = ["FalconForCausalLM"] }
    var m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("FalconForCausalLM") && m.contains("LlamaForCausalLM") && m.contains("GPT2LMHeadModel"), m)
    try editConfig(dir) {
      $0.removeValue(forKey: "architectures")
      $0["model_type"] = "falcon"
    }
    m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("model_type 'falcon'") && m.contains("Qwen3ForCausalLM"), m)
  }

  func testBadConfigValueIsNamed() throws {
    let dir = try copyFixture("llama3")
    try editConfig(dir) { $0["num_key_value_heads"] = 3 }
    var m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("num_key_value_heads (3)"), m)
    let qwen = try copyFixture("qwen3")
    try editConfig(qwen) { $0["num_hidden_layers"] = 4 }
    m = message { _ = try AutoModelForCausalLM.fromPretrained(qwen) }
    XCTAssertTrue(m.contains("layer_types lists 3 layers for num_hidden_layers 4"), m)
    try editConfig(dir) {
      $0["num_key_value_heads"] = 2
      $0["rope_scaling"] = ["rope_type": "longrope", "factor": 2.0]
    }
    m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("longrope") && m.contains("yarn"), m)
    try editConfig(dir) { $0["hidden_size"] = "wide" }
    m = message { _ = try AutoModelForCausalLM.fromPretrained(dir) }
    XCTAssertTrue(m.contains("hidden_size"), m)
  }

  func testPromptLongerThanContext() throws {
    let model = try AutoModelForCausalLM.fromPretrained(CausalLMFixtures.directory() + "/gpt2").model
    let m = message {
      _ = try TokenGenerator(model: model).generate(
        prompts: [Array(repeating: 5, count: 200)], config: GenerationConfig())
    }
    XCTAssertTrue(m.contains("200 tokens") && m.contains("128"), m)
    let bad = message {
      _ = try TokenGenerator(model: model).generate(prompts: [[5, 400]], config: GenerationConfig())
    }
    XCTAssertTrue(bad.contains("400") && bad.contains("vocabulary"), bad)
  }

  /// GPT-2's learned positions end at n_positions: generation stops there with `length`.
  func testGenerationStopsAtLearnedPositions() throws {
    let model = try AutoModelForCausalLM.fromPretrained(CausalLMFixtures.directory() + "/gpt2").model
    var config = GenerationConfig()
    config.maxNewTokens = 50
    config.eosTokenIds = []
    let r = try TokenGenerator(model: model).generate(prompts: [Array(repeating: 5, count: 120)], config: config)
    XCTAssertEqual(r.tokens[0].count, 8)
    XCTAssertEqual(r.finishReasons, [.length])
  }
}
