import Foundation
import Generation
import Models
import NN
import ReferenceTesting
import XCTest

@testable import Torch

/// Weight-only int8/int4 and dynamic int8 on the fixture models (causal_lm_reference.py): the accuracy cost against
/// the float model (logit error; greedy agreement over 32 tokens), and `torchswift quantize` folders that reload to
/// the same logits. The kernels themselves are checked against PyTorch in NNTests/QuantizedLinearTests.
final class QuantizedGenerationTests: XCTestCase {
  func torchswift(_ args: [String]) throws -> TorchSwiftBinary.Run { try TorchSwiftBinary.run(args) }

  func greedy(_ model: any CausalLanguageModel, _ prompts: [[Int]], dir: String) throws -> [[Int]] {
    var config = try GenerationConfig.load(directory: dir)
    config.maxNewTokens = 32
    config.doSample = false
    config.eosTokenIds = [2]
    config.padTokenId = 0
    return try TokenGenerator(model: model).generate(prompts: prompts, config: config, cache: .static).paddedTokens
  }

  func prompts(_ ref: [String: Tensor]) throws -> [[Int]] {
    let ids = try rows(ref["input_ids"]!)
    let mask = try rows(ref["attention_mask"]!)
    return zip(ids, mask).map { row, m in zip(row, m).filter { $0.1 == 1 }.map(\.0) }
  }

  /// Fraction of generated positions equal to the float model's.
  func agreement(_ a: [[Int]], _ b: [[Int]]) -> Double {
    let pairs = zip(a, b).flatMap { zip($0, $1) }
    return Double(pairs.filter { $0 == $1 }.count) / Double(max(pairs.count, 1))
  }

  func testAccuracyCostOnTheFixtureModels() throws {
    // (scheme, group size, largest relative logit error, smallest next-token (argmax) agreement). The fixture models
    // are random, so their next-token distributions are flat and argmax flips easily: the bounds are loose on
    // purpose (measured on llama3/qwen3: int8 0.021–0.023 error, 0.96–1.0 top-1; dynamic-int8 (per tensor)
    // 0.06–0.08, 0.92–0.96; int4 g32 0.25–0.32, 0.54); they catch a broken kernel or layout, whose error is of
    // order 1 and whose top-1 agreement is chance (1/320).
    let cases: [(QuantizationScheme, Int, Double, Double)] = [
      (.int8, 128, 0.04, 0.9), (.dynamicInt8, 128, 0.12, 0.75), (.int4, 32, 0.45, 0.4)
    ]
    for variant in ["llama3", "qwen3"] {
      let dir = try CausalLMFixtures.directory() + "/" + variant
      let ref = try CausalLMFixtures.reference(variant)
      let ids = ref["input_ids"]!
      let mask = ref["attention_mask"]!
      let float = try AutoModelForCausalLM.fromPretrained(dir).model
      let floatLogits = try float(inputIds: ids, attentionMask: mask, positionIds: nil)
      let floatTokens = try greedy(float, prompts(ref), dir: dir)
      for (scheme, g, maxError, minAgreement) in cases {
        let model = try AutoModelForCausalLM.fromPretrained(dir).model
        let report = try quantize(model, scheme: scheme, groupSize: g)
        XCTAssertEqual(report.quantized.count, 3 * 7, "\(variant) \(scheme): every projection of 3 layers")
        let logits = try model(inputIds: ids, attentionMask: mask, positionIds: nil)
        let (_, rel) = try worstDifference(logits.mul(mask.unsqueeze(2)), floatLogits.mul(mask.unsqueeze(2)))
        // Teacher-forced next-token agreement over the valid positions of the batch.
        let same = try logits.argmax(dim: -1).eq(floatLogits.argmax(dim: -1)).to(dtype: .float32).mul(mask)
        let top1 = try same.sum().item(Double.self) / mask.sum().item(Double.self)
        let agree = agreement(try greedy(model, prompts(ref), dir: dir), floatTokens)
        print(
          String(
            format: "quantized %@ %@%@: logits max rel. error %.4f, next-token agreement %.3f, 32-token greedy "
              + "agreement %.3f, bytes %d -> %d", variant, scheme.rawValue, scheme == .int4 ? " g\(g)" : "", rel, top1,
            agree, report.bytesBefore, report.bytesAfter))
        XCTAssertLessThan(rel, maxError, "\(variant) \(scheme)")
        XCTAssertGreaterThanOrEqual(top1, minAgreement, "\(variant) \(scheme)")
        XCTAssertLessThan(report.bytesAfter, report.bytesBefore)
      }
    }
  }

  func testQuantizedFolderReloadsIdentically() throws {
    let dir = try CausalLMFixtures.directory() + "/qwen2"  // a variant with a tokenizer
    let ref = try CausalLMFixtures.reference("qwen2")
    let out = try ReferenceTools.temporaryDirectory(self).path
    for (scheme, extra) in [("int8", [String]()), ("int4", ["--group-size", "32"]), ("dynamic-int8", [])] {
      let folder = out + "/" + scheme
      let run = try torchswift(
        ["quantize", "--model", dir, "--scheme", scheme, "--output", folder] + extra)
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(run.stdout.contains("layer(s) quantized"), run.stdout)
      let config =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json")))
        as! [String: Any]
      let q = config["quantization_config"] as! [String: Any]
      XCTAssertEqual(q["scheme"] as? String, scheme)
      XCTAssertEqual((q["modules"] as? [String])?.count, 21)
      XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/tokenizer.json"))
      // The folder loads as any folder, to the logits of the model quantized in memory.
      let (loaded, report) = try AutoModelForCausalLM.fromPretrained(folder)
      XCTAssertTrue(report.unexpectedKeys.isEmpty, "\(report.unexpectedKeys)")
      let inMemory = try AutoModelForCausalLM.fromPretrained(dir).model
      try quantize(inMemory, scheme: QuantizationScheme(rawValue: scheme)!, groupSize: scheme == "int4" ? 32 : 128)
      let a = try loaded(inputIds: ref["input_ids"]!, attentionMask: ref["attention_mask"]!, positionIds: nil)
      let b = try inMemory(inputIds: ref["input_ids"]!, attentionMask: ref["attention_mask"]!, positionIds: nil)
      XCTAssertEqual(try a.sub(b).abs().max().item(Double.self), 0, scheme)
      let size = try FileManager.default.attributesOfItem(atPath: folder + "/model.safetensors")[.size] as! Int
      let original = try FileManager.default.attributesOfItem(atPath: dir + "/model.safetensors")[.size] as! Int
      XCTAssertLessThan(size, original, scheme)
      // generate runs on it, and refuses to quantize it twice.
      let gen = try torchswift(["generate", "--model", folder, "--prompt", "hello", "--max-new-tokens", "4"])
      XCTAssertEqual(gen.status, 0, gen.stderr)
      let twice = try torchswift(
        ["generate", "--model", folder, "--prompt", "hello", "--max-new-tokens", "4", "--quantize", "int8"])
      XCTAssertNotEqual(twice.status, 0)
      XCTAssertTrue(twice.stderr.contains("already quantized"), twice.stderr)
    }
  }

  func testQuantizeFlagOnGenerate() throws {
    let dir = try CausalLMFixtures.directory() + "/qwen2"
    let run = try torchswift(
      [
        "generate", "--model", dir, "--prompt", "hello", "--max-new-tokens", "4", "--quantize", "int4", "--group-size",
        "64"
      ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("quantize: int4 (group size 64): 21 linear layer(s) quantized"), run.stderr)
    for (args, message) in [
      (["--quantize", "int3"], "--quantize must be int8, int4 or dynamic-int8"),
      (["--quantize", "int4", "--group-size", "48"], "--group-size must be 32, 64, 128 or 256"),
      (["--group-size", "64"], "--group-size needs --quantize int4")
    ] {
      let bad = try torchswift(["generate", "--model", dir, "--prompt", "hi"] + args)
      XCTAssertNotEqual(bad.status, 0)
      XCTAssertTrue(bad.stderr.contains(message), "\(args): \(bad.stderr)")
    }
  }
}
