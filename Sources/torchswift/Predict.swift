import ArgumentParser
import CLISupport
import Foundation
import Torch
import Training

/// `torchswift predict`: label and probabilities per text from a BertForSequenceClassification folder.
struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Classify texts with a BertForSequenceClassification folder (e.g. the output of finetune).")

  @Option(help: "Model folder (config.json, model.safetensors, tokenizer files).") var model: String
  @Flag(
    help:
      "One JSON object per line: label, probabilities (the pipeline's scores: softmax; sigmoid for multi-label or one-label models; the logits for regression), logits."
  ) var json = false
  @Option(name: .customLong("max-length"), help: "Truncate to N tokens.") var maxLength = 128
  @Option(name: .customLong("batch-size"), help: "Texts per batch.") var batchSize = 32
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: ArgumentHelp(precisionHelp)) var precision = "fp32"
  @OptionGroup var input: TextInput
  @OptionGroup var quantization: QuantizeOptions

  func run() throws {
    guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    let dev = try deviceOption(device)
    let precision = try precisionOption(precision, device: dev)
    let texts = try input.load()
    try checkModelFolder(model)
    let classifier = try TextClassifier.fromPretrained(
      model, device: dev, maxLength: maxLength, batchSize: batchSize,
      precision: precision)
    try quantization.apply(to: classifier.model)
    let predictions = try classifier.predict(texts)
    let names = classifier.labelNames
    var out = ""
    for p in predictions {
      if json {
        let probs = "{" + zip(names, p.scores).map { "\(jsonString($0)): \($1)" }.joined(separator: ", ") + "}"
        out +=
          "{\"label\": \(jsonString(p.label)), \"probabilities\": \(probs), \"logits\": \(jsonNumbers(p.logits))}\n"
      } else {
        out +=
          p.label + "\t"
          + zip(names, p.scores).map { "\($0)=\(String(format: "%.4f", $1))" }.joined(separator: " ") + "\n"
      }
    }
    FileHandle.standardOutput.write(Data(out.utf8))
  }
}
