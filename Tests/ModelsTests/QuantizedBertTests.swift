import Foundation
import Models
import NN
import SafeTensors
import XCTest

@testable import Torch

/// Quantized BERT classifiers against PyTorch: dynamic int8 (every Linear, as torch.ao.quantization.quantize_dynamic
/// quantizes them, one weight scale per tensor as its default qconfig) gives quantize_dynamic's logits; every scheme's
/// logits stay close to the float model's.
final class QuantizedBertTests: XCTestCase {
  func testDynamicInt8MatchesQuantizeDynamicAndEverySchemeStaysClose() throws {
    let vocabDir = try ModelsEnv.modelDir()
    let scratch = try ModelsEnv.scratch("quantized-classifier")
    let modelDir = scratch + "/model"
    try ModelsEnv.reference(["make-classifier", modelDir, vocabDir])
    let texts = try ModelsEnv.corpusTexts(24) + ["", "a b"]
    try ModelsEnv.writeJSON(texts, to: scratch + "/texts.json")
    try ModelsEnv.reference(["logits", modelDir, scratch + "/texts.json", scratch + "/float.safetensors"])
    try ModelsEnv.reference(
      ["logits", modelDir, scratch + "/texts.json", scratch + "/dynamic.safetensors", "dynamic-int8"])
    let float = try SafeTensorsFile(path: scratch + "/float.safetensors")
    let dynamic = try SafeTensorsFile(path: scratch + "/dynamic.safetensors")
    let ids = try float.tensor("input_ids"), mask = try float.tensor("attention_mask")

    let model = try BertForSequenceClassification.fromPretrained(modelDir).model
    let report = try quantize(model, scheme: .dynamicInt8, skip: [], perChannel: false)
    XCTAssertEqual(report.quantized.count, 2 * 6 + 2, "q/k/v/o + 2 FFN per layer, pooler, classifier")
    let logits = try withInferenceMode { try model(inputIds: ids, attentionMask: mask).logits }
    let w = try worst(logits, dynamic.tensor("logits"))
    let cost = try worst(dynamic.tensor("logits"), float.tensor("logits"))
    print("dynamic-int8 BERT logits vs quantize_dynamic: rel \(w.rel); quantize_dynamic vs float: rel \(cost.rel)")
    XCTAssertLessThanOrEqual(w.rel, 1e-4)

    for (scheme, tol) in [(QuantizationScheme.int8, 0.02), (.int4, 0.2), (.dynamicInt8, 0.05)] {
      let m = try BertForSequenceClassification.fromPretrained(modelDir).model
      let r = try quantize(m, scheme: scheme, groupSize: 32)
      XCTAssertEqual(r.skipped.map(\.name), ["classifier"])
      let y = try withInferenceMode { try m(inputIds: ids, attentionMask: mask).logits }
      let e = try worst(y, float.tensor("logits"))
      print("BERT \(scheme.rawValue): logits rel. error vs float \(e.rel), bytes \(r.bytesBefore) -> \(r.bytesAfter)")
      XCTAssertLessThanOrEqual(e.rel, tol, "\(scheme)")
    }
  }
}
