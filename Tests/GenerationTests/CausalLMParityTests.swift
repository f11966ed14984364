import Foundation
import Generation
import Models
import ReferenceTesting
import XCTest

@testable import Torch

/// Every decoder-only family against transformers on small random models (fixtures: causal_lm_reference.py):
/// logits of a left-padded batch (fp32, ≤ 1e-4 relative) and 32 greedy tokens, identical, with and without the
/// KV cache, batch 1 and batch 3.
final class CausalLMParityTests: XCTestCase {
  /// The valid (non-padding) positions of `[B, T, V]` logits as one `[N, V]` tensor.
  func validRows(_ logits: Tensor, mask: Tensor) throws -> Tensor {
    let keep = try mask.bool().view(-1)  // [B·T]
    let v = try logits.size(-1)
    return try logits.reshape(-1, v).index([.tensor(keep)])
  }

  func checkLogits(_ variant: String) throws {
    let dir = try CausalLMFixtures.directory() + "/" + variant
    let ref = try CausalLMFixtures.reference(variant)
    let (model, report) = try AutoModelForCausalLM.fromPretrained(dir)
    XCTAssertTrue(report.unexpectedKeys.isEmpty, "\(variant): unexpected keys \(report.unexpectedKeys)")
    let ids = ref["input_ids"]!
    let mask = ref["attention_mask"]!
    for (name, positions) in [("logits_default", nil as Tensor?), ("logits_positions", ref["position_ids"]!)] {
      let logits = try model(inputIds: ids, attentionMask: mask, positionIds: positions)
      XCTAssertEqual(logits.shape, ref[name]!.shape, "\(variant) \(name)")
      let (a, r) = try worstDifference(validRows(logits, mask: mask), validRows(ref[name]!, mask: mask))
      XCTAssertLessThanOrEqual(r, 1e-4, "\(variant) \(name): worst |Δ| \(a), relative \(r)")
      XCTAssertFalse(try logits.isnan().any().item(Bool.self), "\(variant) \(name): NaN logits")
    }
  }

  func checkGreedy(_ variant: String) throws {
    let dir = try CausalLMFixtures.directory() + "/" + variant
    let ref = try CausalLMFixtures.reference(variant)
    let ids = try rows(ref["input_ids"]!)
    let mask = try rows(ref["attention_mask"]!)
    let prompts = zip(ids, mask).map { row, m in zip(row, m).filter { $0.1 == 1 }.map(\.0) }
    var config = try GenerationConfig.load(directory: dir)
    config.maxNewTokens = 32
    config.doSample = false
    config.eosTokenIds = [2]  // the reference's eos_token_id
    config.padTokenId = 0
    for kind in KVCacheKind.allCases {
      let suffix = kind == .none ? "nocache" : "cache"
      // A fresh model per run: dynamic NTK frequencies carry state from one call to the next, as in transformers.
      let one = try TokenGenerator(model: AutoModelForCausalLM.fromPretrained(dir).model)
        .generate(prompts: [prompts[0]], config: config, cache: kind)
      XCTAssertEqual(one.paddedTokens, try rows(ref["greedy_b1_\(suffix)"]!), "\(variant) batch 1, cache \(kind)")
      let three = try TokenGenerator(model: AutoModelForCausalLM.fromPretrained(dir).model)
        .generate(prompts: prompts, config: config, cache: kind)
      XCTAssertEqual(three.paddedTokens, try rows(ref["greedy_b3_\(suffix)"]!), "\(variant) batch 3, cache \(kind)")
    }
    // The captured-decode path (a CUDA graph on GPUs; the same step run eagerly here): fixed-shape inputs, the
    // cache written at a position held in a tensor, masks over the whole capacity.
    for (batch, name) in [([prompts[0]], "greedy_b1_cache"), (prompts, "greedy_b3_cache")] {
      let graphed = try TokenGenerator(model: AutoModelForCausalLM.fromPretrained(dir).model)
        .generate(prompts: batch, config: config, cache: .static, cudaGraph: true)
      XCTAssertEqual(graphed.paddedTokens, try rows(ref[name]!), "\(variant) \(name), graph-mode decode step")
    }
  }

  func testLlama3() throws {
    try checkLogits("llama3")
    try checkGreedy("llama3")
  }
  func testLlamaLinearSharded() throws {
    try checkLogits("llama_linear")
    try checkGreedy("llama_linear")
  }
  func testLlamaDynamicBFloat16Weights() throws {
    try checkLogits("llama_dynamic")
    try checkGreedy("llama_dynamic")
  }
  func testMistralSlidingWindow() throws {
    try checkLogits("mistral")
    try checkGreedy("mistral")
  }
  func testQwen2() throws {
    try checkLogits("qwen2")
    try checkGreedy("qwen2")
  }
  func testQwen3() throws {
    try checkLogits("qwen3")
    try checkGreedy("qwen3")
  }
  func testGPT2() throws {
    try checkLogits("gpt2")
    try checkGreedy("gpt2")
  }

  /// The processors against transformers' on the same scores (≤ 1e-6), one by one and chained.
  func testLogitsProcessors() throws {
    let ref = try Torch.loadSafetensors(CausalLMFixtures.directory() + "/processors.safetensors")
    let scores = ref["scores"]!
    let ids = ref["input_ids"]!
    let cases: [(String, [LogitsProcessor])] = [
      ("repetition_1.3", [RepetitionPenaltyLogitsProcessor(penalty: 1.3)]),
      ("temperature_0.7", [TemperatureLogitsWarper(temperature: 0.7)]),
      ("top_k_20", [TopKLogitsWarper(topK: 20)]),
      ("top_p_0.9", [TopPLogitsWarper(topP: 0.9)]),
      ("min_p_0.05", [MinPLogitsWarper(minP: 0.05)]),
      (
        "chain",
        logitsProcessors(
          for: {
            var c = GenerationConfig()
            c.doSample = true
            c.repetitionPenalty = 1.1
            c.temperature = 0.8
            c.topK = 50
            c.topP = 0.95
            c.minP = 0.02
            return c
          }())
      )
    ]
    for (name, chain) in cases {
      var out = scores
      for p in chain { out = try p(inputIds: ids, scores: out) }
      let want = ref[name]!
      XCTAssertEqual(try out.isinf().toArray(Bool.self), try want.isinf().toArray(Bool.self), "\(name): filtered set")
      let finite = try want.isinf().logicalNot()
      let (a, _) = try worstDifference(out.index([.tensor(finite)]), want.index([.tensor(finite)]))
      XCTAssertLessThanOrEqual(a, 1e-6, "\(name): worst |Δ| \(a)")
    }
  }

  /// The same seed gives the same sampled tokens; another seed other tokens.
  func testSeededSamplingIsReproducible() throws {
    let dir = try CausalLMFixtures.directory() + "/qwen3"
    let model = try AutoModelForCausalLM.fromPretrained(dir).model
    var config = GenerationConfig()
    config.maxNewTokens = 24
    config.doSample = true
    config.temperature = 1.5
    config.topK = 0
    config.seed = 1234
    let prompts = [[5, 6, 7, 8], [9, 10]]
    let a = try TokenGenerator(model: model).generate(prompts: prompts, config: config)
    let b = try TokenGenerator(model: model).generate(prompts: prompts, config: config)
    XCTAssertEqual(a.tokens, b.tokens)
    config.seed = 99
    let c = try TokenGenerator(model: model).generate(prompts: prompts, config: config)
    XCTAssertNotEqual(a.tokens, c.tokens)
  }
}
