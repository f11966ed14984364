import Foundation
import Models
import SafeTensors
import Tokenizers
import XCTest

@testable import Torch

/// all-MiniLM-L6-v2 in Swift against transformers and sentence-transformers on 1,000 real tweets, and a
/// classification model (gelu_new, layer_norm_eps 1e-7) against transformers, including an export round trip.
final class BertParityTests: XCTestCase {
  func testMiniLMHiddenStatesPoolerAndSentenceEmbeddingsMatchReference() throws {
    let dir = try ModelsEnv.modelDir()
    let texts = try ModelsEnv.corpusTexts(1000)
    XCTAssertEqual(texts.count, 1000)
    let scratch = try ModelsEnv.scratch("minilm")
    try ModelsEnv.writeJSON(texts, to: scratch + "/texts.json")
    let (batch, maxLen) = (32, 128)
    try ModelsEnv.reference([
      "minilm", dir, scratch + "/texts.json", scratch + "/ref.safetensors", "\(batch)", "\(maxLen)"
    ])
    let ref = try SafeTensorsFile(path: scratch + "/ref.safetensors")

    let (model, report) = try BertModel.fromPretrained(dir)
    XCTAssertTrue(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty, report.description)
    var tokenizer = try Tokenizer(directory: dir)
    tokenizer.truncation = Truncation(maxLength: maxLen)
    tokenizer.padding = Padding(strategy: .batchLongest)
    var worstHidden = (0.0, 0.0), worstPooler = (0.0, 0.0)
    try withInferenceMode {
      for (b, start) in stride(from: 0, to: texts.count, by: batch).enumerated() {
        let chunk = Array(texts[start..<min(start + batch, texts.count)])
        let enc = try tokenizer.encodeBatch(chunk)
        let t = enc[0].count
        let ids = try Tensor(enc.flatMap(\.ids), shape: [chunk.count, t])
        let mask = try Tensor(enc.flatMap(\.attentionMask), shape: [chunk.count, t])
        let types = try Tensor(enc.flatMap(\.typeIds), shape: [chunk.count, t])
        XCTAssertTrue(try ids.equal(ref.tensor("b\(b).input_ids")), "batch \(b): input ids differ from transformers'")
        XCTAssertTrue(try mask.equal(ref.tensor("b\(b).attention_mask")), "batch \(b): attention mask differs")
        let out = try model(inputIds: ids, attentionMask: mask, tokenTypeIds: types)
        let h = try worst(out.lastHiddenState, ref.tensor("b\(b).last_hidden_state"))
        let p = try worst(out.poolerOutput!, ref.tensor("b\(b).pooler_output"))
        if h.rel > worstHidden.1 { worstHidden = h }
        if p.rel > worstPooler.1 { worstPooler = p }
      }
    }
    print(
      "MiniLM last_hidden_state worst: abs \(worstHidden.0), rel \(worstHidden.1); pooler worst: abs \(worstPooler.0), rel \(worstPooler.1)"
    )
    XCTAssertLessThanOrEqual(worstHidden.1, 1e-5)
    XCTAssertLessThanOrEqual(worstPooler.1, 1e-5)

    let st = try SentenceTransformer(directory: dir)
    let emb = try st.encode(texts, batchSize: 32)
    let e = try worst(emb, ref.tensor("sentence_embeddings"))
    print("sentence embeddings worst: abs \(e.abs), rel \(e.rel)")
    XCTAssertEqual(emb.shape, [1000, 384])
    XCTAssertLessThanOrEqual(e.rel, 1e-5)
  }

  func testClassifierLogitsMatchTransformersAndExportRoundTrips() throws {
    let vocabDir = try ModelsEnv.modelDir()
    let scratch = try ModelsEnv.scratch("classifier")
    let modelDir = scratch + "/model"
    try ModelsEnv.reference(["make-classifier", modelDir, vocabDir])
    let texts = try ModelsEnv.corpusTexts(40) + ["", "Ünïcödé façade — 東京 🚀", "a b", "[MASK] token in text"]
    try ModelsEnv.writeJSON(texts, to: scratch + "/texts.json")
    try ModelsEnv.reference(["logits", modelDir, scratch + "/texts.json", scratch + "/ref.safetensors"])
    let ref = try SafeTensorsFile(path: scratch + "/ref.safetensors")

    let (model, report) = try BertForSequenceClassification.fromPretrained(modelDir)
    XCTAssertTrue(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty, report.description)
    XCTAssertEqual(model.config.hiddenAct, "gelu_new")
    XCTAssertEqual(model.config.layerNormEps, 1e-7)
    XCTAssertEqual(model.config.id2label, [0: "negative", 1: "neutral", 2: "positive"])
    let ids = try ref.tensor("input_ids"), mask = try ref.tensor("attention_mask")
    let logits = try withInferenceMode { try model(inputIds: ids, attentionMask: mask).logits }
    let w = try worst(logits, ref.tensor("logits"))
    print("classifier logits worst: abs \(w.abs), rel \(w.rel)")
    XCTAssertLessThanOrEqual(w.rel, 1e-5)

    // Export: transformers loads it with no missing keys and the same logits.
    let exported = scratch + "/exported"
    try model.save(to: exported, tokenizerDir: modelDir)
    let info = try ModelsEnv.reference(["logits", exported, scratch + "/texts.json", scratch + "/ref2.safetensors"])
    let loaded = try JSONSerialization.jsonObject(with: Data(info.utf8)) as! [String: Any]
    XCTAssertEqual((loaded["missing"] as? [String]) ?? ["?"], [], "missing keys when transformers loads the export")
    XCTAssertEqual((loaded["unexpected"] as? [String]) ?? ["?"], [])
    XCTAssertEqual(loaded["architectures"] as? [String], ["BertForSequenceClassification"])
    XCTAssertEqual(loaded["id2label"] as? [String: String], ["0": "negative", "1": "neutral", "2": "positive"])
    let again = try SafeTensorsFile(path: scratch + "/ref2.safetensors").tensor("logits")
    XCTAssertTrue(try again.equal(ref.tensor("logits")), "exported weights reproduce transformers' logits exactly")
  }

  /// Training under bfloat16 autocast gives transformers' loss and logits under torch.autocast on the same
  /// inputs, and gradients as close to the float32 gradients as transformers' own autocast gradients.
  /// (Under autocast the query/key/value projections run as one GEMM: one saved input instead of three,
  /// and the input gradient summed in float32 instead of from three bfloat16 roundings, so gradients of
  /// the layers below the top one differ from transformers' at bfloat16's resolution, 2⁻⁸ ≈ 3.9e-3.)
  func testAutocastLossAndGradientsMatchTransformers() throws {
    let vocabDir = try ModelsEnv.modelDir()
    let scratch = try ModelsEnv.scratch("autocast")
    let modelDir = scratch + "/model"
    try ModelsEnv.reference(["make-classifier", modelDir, vocabDir, "gelu"])
    try ModelsEnv.writeJSON(try ModelsEnv.corpusTexts(12), to: scratch + "/texts.json")
    try ModelsEnv.reference(["autocast-grads", modelDir, scratch + "/texts.json", scratch + "/ref.safetensors"])
    let ref = try SafeTensorsFile(path: scratch + "/ref.safetensors")

    let (model, _) = try BertForSequenceClassification.fromPretrained(modelDir)
    _ = model.eval()
    let out = try withAutocast(.bfloat16, device: .cpu) {
      try model(
        inputIds: ref.tensor("input_ids"), attentionMask: ref.tensor("attention_mask"), labels: ref.tensor("labels"))
    }
    XCTAssertEqual(out.logits.dtype, .bfloat16, "the classifier runs in bfloat16 under autocast")
    try out.loss!.backward()
    let l = try worst(out.loss!.reshape(1), ref.tensor("loss"))
    let g = try worst(out.logits.float(), ref.tensor("logits"))
    print("autocast loss rel \(l.rel), logits rel \(g.rel)")
    XCTAssertLessThanOrEqual(l.rel, 1e-5, "loss (bfloat16 forward, same kernels as transformers)")
    XCTAssertLessThanOrEqual(g.rel, 1e-5, "logits")

    // Per tensor within a few bfloat16 roundings of transformers' autocast gradient; over all tensors, no
    // further from the float32 gradients than transformers' autocast gradients are.
    var checked = 0, worstVsHF = (name: "", rel: 0.0)
    var swiftErr = 0.0, hfErr = 0.0, norm = 0.0
    for (name, p) in model.namedParameters() {
      let grad = try XCTUnwrap(p.grad, "\(name) has no gradient")
      let hf = try ref.tensor("grad." + name), fp32 = try ref.tensor("fp32.grad." + name)
      checked += 1
      swiftErr += try grad.sub(fp32).pow(2).sum().item(Double.self)
      hfErr += try hf.sub(fp32).pow(2).sum().item(Double.self)
      norm += try fp32.pow(2).sum().item(Double.self)
      // The key bias shifts every score of a query row equally, which softmax ignores: its true gradient is
      // zero and both sides hold only rounding noise, so its size is checked instead of its digits.
      if name.hasSuffix("attention.self.key.bias") {
        XCTAssertLessThanOrEqual(try grad.abs().max().item(Double.self), 1e-6, "\(name): noise only")
        continue
      }
      let w = try worst(grad, hf)
      if w.rel > worstVsHF.rel { worstVsHF = (name, w.rel) }
    }
    let swiftRel = (swiftErr / norm).squareRoot(), hfRel = (hfErr / norm).squareRoot()
    print(
      "autocast gradients: \(checked) tensors; worst vs transformers rel \(worstVsHF.rel) (\(worstVsHF.name)); "
        + "distance to float32: TorchSwift \(swiftRel), transformers \(hfRel)")
    XCTAssertEqual(checked, ref.names.filter { $0.hasPrefix("grad.") }.count)
    XCTAssertLessThanOrEqual(worstVsHF.rel, 4 * 0.00390625, "gradients within four bfloat16 roundings of transformers'")
    XCTAssertGreaterThan(hfRel, 0, "the reference's autocast gradients differ from float32 (autocast was on)")
    XCTAssertLessThanOrEqual(swiftRel, 1.1 * hfRel, "autocast gradients no less precise than transformers'")
  }

  func testBaseCheckpointGetsNewClassifierHeadAndReport() throws {
    let dir = try ModelsEnv.modelDir()
    Torch.manualSeed(0)
    let (model, report) = try BertForSequenceClassification.fromPretrained(dir, id2label: [0: "a", 1: "b", 2: "c"])
    XCTAssertEqual(report.missingKeys, ["classifier.bias", "classifier.weight"])
    XCTAssertEqual(report.unexpectedKeys, [])
    XCTAssertTrue(report.description.contains("newly initialized"))
    let std = try model.classifier.weight.std().item(Double.self)
    XCTAssertEqual(std, 0.02, accuracy: 0.003, "new head ~ N(0, initializer_range)")
    XCTAssertEqual(try model.classifier.bias!.abs().sum().item(Double.self), 0)
    let base = try BertModel.fromPretrained(dir).model
    XCTAssertTrue(try model.bert.embeddings.wordEmbeddings.weight.equal(base.embeddings.wordEmbeddings.weight))
  }

  func testBadConfigAndMissingWeightsGiveClearErrors() throws {
    let scratch = try ModelsEnv.scratch("badconfig")
    try #"{"model_type": "bert", "hidden_size": 10, "num_attention_heads": 3}"#.write(
      toFile: scratch + "/config.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try BertModel.fromPretrained(scratch)) { e in
      XCTAssertTrue("\(e)".contains("not a multiple of num_attention_heads"), "\(e)")
    }
    try
      #"{"model_type": "bert", "hidden_size": 12, "num_attention_heads": 3, "num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 20}"#
      .write(
        toFile: scratch + "/config.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try BertModel.fromPretrained(scratch)) { e in
      XCTAssertTrue("\(e)".contains("no model weights"), "\(e)")
    }
    try #"{"model_type": "gpt2"}"#.write(toFile: scratch + "/config.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try BertConfig(contentsOf: scratch + "/config.json")) { e in
      XCTAssertTrue("\(e)".contains("model_type is 'gpt2'"), "\(e)")
    }
  }
}
