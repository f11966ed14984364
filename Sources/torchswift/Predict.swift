import ArgumentParser
import Foundation
import Models
import Tokenizers
import Torch
import Training

/// `torchswift predict`: label and probabilities per text from a BertForSequenceClassification folder.
struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify texts with a BertForSequenceClassification folder (e.g. the output of finetune).")

  @Option(help: "Model folder (config.json, model.safetensors, tokenizer files).") var model: String
  @Flag(help: "One JSON object per line: label, probabilities, logits.") var json = false
  @Option(name: .customLong("max-length"), help: "Truncate to N tokens.") var maxLength = 128
  @Option(name: .customLong("batch-size"), help: "Texts per batch.") var batchSize = 32
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: ArgumentHelp(precisionHelp)) var precision = "fp32"
  @OptionGroup var input: TextInput

  func run() throws {
    guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    let dev = try deviceOption(device)
    let autocast = try precisionOption(precision, device: dev)
    let (clf, _) = try BertForSequenceClassification.fromPretrained(model, device: dev)
    let texts = try input.load()
    let classifier = Classifier(
      model: clf, tokenizer: try Tokenizer(directory: model), maxLength: maxLength, device: dev)
    let results = try autocast.run(on: dev) { try classifier.logits(texts, batchSize: batchSize) }
    let names = (0..<clf.config.numLabels).map { clf.config.id2label[$0] ?? "LABEL_\($0)" }
    var out = ""
    for logits in results {
      let m = logits.max() ?? 0
      let exps = logits.map { Foundation.exp(Double($0 - m)) }
      let z = exps.reduce(0, +)
      let probs = exps.map { Float($0 / z) }
      let best = probs.indices.max { probs[$0] < probs[$1] } ?? 0
      if json {
        let p = "{" + names.enumerated().map { "\(jsonString($1)): \(probs[$0])" }.joined(separator: ", ") + "}"
        out += "{\"label\": \(jsonString(names[best])), \"probabilities\": \(p), \"logits\": \(jsonNumbers(logits))}\n"
      } else {
        out +=
          names[best] + "\t"
          + names.enumerated().map { "\($1)=\(String(format: "%.4f", probs[$0]))" }.joined(separator: " ") + "\n"
      }
    }
    FileHandle.standardOutput.write(Data(out.utf8))
  }
}

/// Batched inference with a classification model: texts sorted by length, padded per batch.
struct Classifier {
  let model: BertForSequenceClassification
  let tokenizer: Tokenizer
  let maxLength: Int
  let device: Device

  func logits(_ texts: [String], batchSize: Int) throws -> [[Float]] {
    var tok = tokenizer
    tok.truncation = Truncation(maxLength: maxLength)
    tok.padding = Padding(strategy: .batchLongest)
    let encodings = try tok.encodeBatch(texts)
    let order = texts.indices.sorted { encodings[$0].count > encodings[$1].count }
    var result = [[Float]](repeating: [], count: texts.count)
    model.eval()
    try withInferenceMode {
      for start in stride(from: 0, to: order.count, by: batchSize) {
        let idx = Array(order[start..<min(start + batchSize, order.count)])
        let batch = try tok.encodeBatch(idx.map { texts[$0] })
        let t = batch[0].count
        let ids = try Tensor(batch.flatMap(\.ids), shape: [idx.count, t], device: device)
        let mask = try Tensor(batch.flatMap(\.attentionMask), shape: [idx.count, t], device: device)
        let types = try Tensor(batch.flatMap(\.typeIds), shape: [idx.count, t], device: device)
        let logits = try model(inputIds: ids, attentionMask: mask, tokenTypeIds: types).logits.float()  // [B, C]
        let n = model.config.numLabels
        let flat = try logits.floats()
        for (j, i) in idx.enumerated() { result[i] = Array(flat[(j * n)..<((j + 1) * n)]) }
      }
    }
    return result
  }
}
