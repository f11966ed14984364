import Foundation
import Models
import NN
import ReferenceTesting
import XCTest

@testable import LoRA
@testable import Torch

/// LoRA against `peft` 0.17.1 (fixtures: Fixtures/lora_reference.py): adapters saved by peft load and give peft's
/// logits and gradients; adapters saved here load in peft with the same logits; trainable counts as peft reports;
/// merge/unmerge; the merged export loads in transformers with the adapted model's logits.
final class LoRAParityTests: XCTestCase {
  static let script = ReferenceTools.packageRoot.appendingPathComponent("Tests/LoRATests/Fixtures/lora_reference.py")
    .path
  static let causalScript = ReferenceTools.packageRoot.appendingPathComponent(
    "Tests/GenerationTests/Fixtures/causal_lm_reference.py"
  ).path
  private static let lock = NSLock()
  nonisolated(unsafe) private static var made: String?

  static func fixtures() throws -> String {
    lock.lock()
    defer { lock.unlock() }
    if let made { return made }
    let root = ReferenceTools.packageRoot.appendingPathComponent(".build/test-fixtures").path
    // The causal-LM fixtures (shared with GenerationTests) and the peft adapters on them, keyed by both scripts.
    var hash: UInt64 = 1_469_598_103_934_665_603
    for path in [causalScript, script] {
      for byte in try Data(contentsOf: URL(fileURLWithPath: path)) { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    }
    let dir = root + "/lora-\(String(hash, radix: 16))"
    let causal = dir + "/causal-lm"
    if !FileManager.default.fileExists(atPath: dir + "/bert_seq_cls/info.json") {
      try? FileManager.default.removeItem(atPath: dir)
      _ = try ReferenceTools.runPython([causalScript, causal])
      _ = try ReferenceTools.runPython([script, "make", dir, causal])
    }
    made = dir
    return dir
  }

  struct Case {
    let dir: String
    let info: [String: Any]
    let ref: [String: Tensor]
    var base: String { info["base"] as! String }
    var isClassifier: Bool { (info["kind"] as? String) == "seqcls" }
  }

  func loadCase(_ name: String) throws -> Case {
    let dir = try Self.fixtures() + "/" + name
    let info =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/info.json")))
      as! [String: Any]
    return Case(dir: dir, info: info, ref: try Torch.loadSafetensors(dir + "/reference.safetensors"))
  }

  func baseModel(_ c: Case) throws -> Module {
    if c.isClassifier { return try BertForSequenceClassification.fromPretrained(c.base).model }
    return try AutoModelForCausalLM.fromPretrained(c.base).model
  }

  func logits(_ model: Module, _ ids: Tensor) throws -> Tensor {
    if let m = model as? BertForSequenceClassification { return try m(inputIds: ids).logits }
    return try (model as! any CausalLanguageModel)(inputIds: ids)
  }

  func close(_ a: Tensor, _ b: Tensor, _ what: String, rtol: Double = 1e-5) throws {
    XCTAssertEqual(a.shape, b.shape, what)
    let d = try a.sub(b).abs().max().item(Double.self)
    let scale = max(try b.abs().max().item(Double.self), 1e-30)
    XCTAssertLessThanOrEqual(d / scale, rtol, "\(what): worst |Δ| \(d), relative \(d / scale)")
  }

  /// What to ask peft/transformers for once all cases have run: one Python start for all of them.
  struct Request {
    var what: String
    var model: String
    var base: String?
    var ids: Tensor
    var expected: Tensor
  }

  func pythonLogits(_ requests: [Request]) throws {
    let payload: [[String: Any]] = try requests.map { r in
      let flat = try r.ids.toArray(Int64.self).map(Int.init)
      let width = r.ids.shape[1]
      let rows = stride(from: 0, to: flat.count, by: width).map { Array(flat[$0..<$0 + width]) }
      return ["model": r.model, "base": r.base ?? NSNull(), "ids": rows]
    }
    let out = try ReferenceTools.runPython(
      [Self.script, "logits"], input: try JSONSerialization.data(withJSONObject: payload))
    let results = try JSONSerialization.jsonObject(with: out) as! [[Double]]
    XCTAssertEqual(results.count, requests.count)
    for (r, values) in zip(requests, results) {
      try close(try Tensor(values.map { Float($0) }, shape: r.expected.shape), r.expected, r.what)
    }
  }

  func check(_ name: String, requests: inout [Request]) throws {
    let c = try loadCase(name)
    let model = try baseModel(c)
    let config = try LoRA.load(adapter: c.dir + "/peft-adapter", into: model)
    model.eval()
    let ids = c.ref["input_ids"]!
    // Logits of the adapted model.
    let out = try logits(model, ids)
    try close(out, c.ref["logits"]!, "\(name): logits vs peft")
    // Trainable and total counts as print_trainable_parameters.
    let counts = LoRA.parameterCounts(model, config: config)
    XCTAssertEqual(counts.trainable, c.info["trainable"] as? Int, "\(name): trainable parameters")
    XCTAssertEqual(counts.all, c.info["all"] as? Int, "\(name): all parameters")
    // Gradients of sum(logits · probe) of every trainable tensor.
    try out.mul(c.ref["probe"]!).sum().backward()
    let adapterPaths = Set(LoRA.layers(of: model).map(\.path))
    var compared = 0
    for (key, p) in model.namedParameters() where p.requiresGrad {
      let peft = try XCTUnwrap(
        LoRA.peftKey(key, model: model, config: config, adapterPaths: adapterPaths), "\(name): \(key)")
      let want = try XCTUnwrap(c.ref["grad:" + peft], "\(name): no peft gradient for \(peft)")
      try close(try XCTUnwrap(p.grad, "\(name): no gradient for \(key)"), want, "\(name): gradient of \(key)")
      compared += 1
    }
    XCTAssertEqual(compared, c.ref.keys.filter { $0.hasPrefix("grad:") }.count, "\(name): every peft gradient compared")

    // Saved here → loaded by peft → the same logits.
    let tmp = try ReferenceTools.temporaryDirectory(self).appendingPathComponent(name).path
    try LoRA.save(model, config: config, to: tmp + "/adapter")
    requests.append(
      Request(
        what: "\(name): our adapter loaded by peft", model: tmp + "/adapter", base: c.base, ids: ids,
        expected: try out.detach()))

    // Merge keeps the outputs; unmerge restores the base weights.
    let before = try model.stateDict().mapValues { try $0.clone() }
    try LoRA.merge(model)
    try close(try withNoGrad { try logits(model, ids) }, out.detach(), "\(name): merged logits")
    try LoRA.unmerge(model)
    for (key, t) in try model.stateDict() { try close(t, before[key]!, "\(name): \(key) after unmerge", rtol: 1e-6) }

    // merge_and_unload → a plain Hugging Face folder that transformers loads with the same logits.
    try LoRA.mergeAndUnload(model)
    XCTAssertTrue(LoRA.layers(of: model).isEmpty)
    let export = tmp + "/merged"
    if let m = model as? BertForSequenceClassification {
      try m.save(to: export)
    } else {
      try CausalLMExport.save(model as! any CausalLanguageModel, to: export, configFrom: c.base)
    }
    requests.append(
      Request(
        what: "\(name): merged export loaded by transformers", model: export, base: nil, ids: ids,
        expected: try out.detach()))
  }

  /// Llama (tied head) q/v with rsLoRA; Qwen2 all-linear with bias all; Mistral regex targets with bias lora_only;
  /// GPT-2's Conv1D; BERT classification with the classifier in modules_to_save.
  func testEveryCaseAgainstPEFT() throws {
    var requests: [Request] = []
    for name in ["llama_qv", "qwen2_all_linear", "mistral_regex", "gpt2_c_attn", "bert_seq_cls"] {
      try check(name, requests: &requests)
    }
    try pythonLogits(requests)
  }

  /// A fresh adapter starts as the identity (B = 0) and trains only what it should.
  func testNewAdapterStartsAtBase() throws {
    let c = try loadCase("llama_qv")
    let model = try baseModel(c)
    let ids = c.ref["input_ids"]!
    let base = try withNoGrad { try logits(model, ids) }
    let config = LoRAConfig(r: 8, loraAlpha: 16, targetModules: .names(["q_proj", "k_proj", "v_proj", "o_proj"]))
    let wrapped = try LoRA.apply(config, to: model)
    XCTAssertEqual(wrapped.count, 4 * 3)
    try close(try withNoGrad { try logits(model, ids) }, base, "fresh adapter = base")
    XCTAssertTrue(model.namedParameters().filter(\.1.requiresGrad).allSatisfy { $0.0.contains("lora_") })
  }

  func testBadAdapters() throws {
    let c = try loadCase("llama_qv")
    var model = try baseModel(c)
    XCTAssertThrowsError(try LoRA.apply(LoRAConfig(targetModules: .names(["nonexistent"])), to: model)) {
      XCTAssertTrue("\($0)".contains("match no"), "\($0)")
    }
    // An adapter for another base model (different shapes) is named.
    model = try AutoModelForCausalLM.fromPretrained(try Self.fixtures() + "/causal-lm/qwen3").model
    XCTAssertThrowsError(try LoRA.load(adapter: c.dir + "/peft-adapter", into: model)) {
      XCTAssertTrue("\($0)".contains("another base model") || "\($0)".contains("has no place"), "\($0)")
    }
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    try "{\"peft_type\": \"PREFIX_TUNING\"}".write(
      toFile: tmp + "/adapter_config.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try LoRA.load(adapter: tmp, into: model)) {
      XCTAssertTrue("\($0)".contains("PREFIX_TUNING"), "\($0)")
    }
  }
}
