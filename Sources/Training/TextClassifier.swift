import Datasets
import Distributed
import Foundation
import Models
import NN
import Tokenizers
import Torch
import TrainingSupport

/// One text's prediction, as transformers' `pipeline("text-classification", top_k=None)` gives it.
public struct Prediction: Equatable, Sendable {
  /// The label of the highest score (`id2label`, or `LABEL_<id>` where the config names none).
  public var label: String
  /// Its label id.
  public var labelId: Int
  /// The pipeline's scores, indexed by label id (computed by torch in float32): softmax of the logits for
  /// single-label classification (more than one label), sigmoid for `multi_label_classification` or a single
  /// label, the logits themselves for `regression`.
  public var scores: [Float]
  /// The model's logits, indexed by label id.
  public var logits: [Float]
}

/// Inference with a `BertForSequenceClassification`: the one path behind `torchswift predict`, `torchswift eval`
/// and the evaluation during fine-tuning. Texts are tokenized once (truncated, unpadded), sorted by length
/// (longest first) into batches, padded to the longest of each batch, and run in inference mode under the
/// chosen autocast precision; results come back in input order.
public struct TextClassifier {
  public let model: BertForSequenceClassification
  /// Needed by `predict(_:)` and `encode(_:)`; evaluation of already encoded examples works without one.
  public let tokenizer: Tokenizer?
  /// The label names by id (`id2label`, `LABEL_<id>` where the config names none).
  public let labelNames: [String]
  public var maxLength: Int
  public var batchSize: Int
  public var precision: FineTuneConfig.Precision
  /// Token id of the padding (the tokenizer's `[PAD]`, 0 without a tokenizer).
  public var padId: Int32

  /// Where the model's weights are (inputs are moved there).
  public let device: Device

  public init(
    model: BertForSequenceClassification, tokenizer: Tokenizer?, device: Device = .cpu, maxLength: Int = 128,
    batchSize: Int = 32, precision: FineTuneConfig.Precision = .fp32, padId: Int32? = nil
  ) throws {
    guard maxLength >= 2 else { throw TrainingError("max length must be at least 2, got \(maxLength)") }
    guard batchSize > 0 else { throw TrainingError("batch size must be positive, got \(batchSize)") }
    self.model = model
    self.tokenizer = tokenizer
    self.device = device
    self.labelNames = (0..<model.config.numLabels).map { model.config.id2label[$0] ?? "LABEL_\($0)" }
    self.maxLength = maxLength
    self.batchSize = batchSize
    self.precision = precision
    self.padId = padId ?? tokenizer.map { Int32($0.tokenToId("[PAD]") ?? 0) } ?? 0
  }

  /// Loads a classification folder (config.json, model.safetensors, tokenizer files) onto `device`.
  public static func fromPretrained(
    _ directory: String, device: Device = .cpu, maxLength: Int = 128, batchSize: Int = 32,
    precision: FineTuneConfig.Precision = .fp32
  ) throws -> TextClassifier {
    let (model, _) = try BertForSequenceClassification.fromPretrained(directory, device: device)
    return try TextClassifier(
      model: model, tokenizer: try Tokenizer(directory: directory), device: device, maxLength: maxLength,
      batchSize: batchSize, precision: precision)
  }

  /// Token ids and segment ids of each text, truncated to `maxLength`, unpadded (`labels` default to 0).
  public func encode(_ texts: [String], labels: [Int]? = nil) throws -> [EncodedExample] {
    guard var tok = tokenizer else { throw TrainingError("this TextClassifier has no tokenizer to encode texts with") }
    if let labels, labels.count != texts.count {
      throw TrainingError("\(texts.count) texts but \(labels.count) labels")
    }
    tok.padding = nil
    tok.truncation = Truncation(maxLength: maxLength)
    return try tok.encodeBatch(texts).enumerated().map { i, e in
      EncodedExample(
        ids: e.ids.map { Int32($0) }, typeIds: e.typeIds.map { UInt8($0) }, label: Int32(labels?[i] ?? 0))
    }
  }

  /// Label, scores and logits of each text, in input order.
  public func predict(_ texts: [String]) throws -> [Prediction] {
    let n = model.config.numLabels
    let logits = try run(try encode(texts), labels: false).logits
    // The scores of all texts at once, from the float32 logits (evaluation needs only the logits).
    let scores = try ScoreFunction(config: model.config).apply(try Tensor(logits, shape: [texts.count, n])).floats()
    return (0..<texts.count).map { i in
      let rows = (i * n)..<((i + 1) * n)
      let p = Array(scores[rows])
      let best = p.indices.max { p[$0] < p[$1] } ?? 0
      return Prediction(label: labelNames[best], labelId: best, scores: p, logits: Array(logits[rows]))
    }
  }

  /// The float32 logits of each encoded example (input order) and, when `labels`, the summed cross-entropy loss.
  func run(_ examples: [EncodedExample], labels: Bool) throws -> Outputs {
    let n = model.config.numLabels
    var logits = [Float](repeating: 0, count: examples.count * n)
    var lossSum = 0.0
    // Longest first, so the batch that needs the most memory runs first and padding stays small.
    let order = examples.indices.sorted { (examples[$0].count, $1) > (examples[$1].count, $0) }
    let batches = stride(from: 0, to: order.count, by: batchSize).map {
      Array(order[$0..<min($0 + batchSize, order.count)])
    }
    let loader = try DataLoader(
      examples: examples, batchSize: batchSize, shuffle: false, groupByLength: false, padId: padId, device: device)
    model.eval()
    try withInferenceMode {
      let it = loader.makeIterator(batches: batches)
      defer { it.cancel() }
      var k = 0
      while let b = try it.next() {
        let out = try precision.run(on: device) {
          try model(
            inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds,
            labels: labels ? b.labels : nil)
        }
        let flat = try out.logits.float().cpu().floats()  // [B, C]
        for (j, i) in batches[k].enumerated() {
          logits.replaceSubrange((i * n)..<((i + 1) * n), with: flat[(j * n)..<((j + 1) * n)])
        }
        if labels, let loss = out.loss { lossSum += try loss.item(Double.self) * Double(b.size) }
        k += 1
      }
    }
    return Outputs(numLabels: n, logits: logits, lossSum: lossSum)
  }

  /// Classification metrics and mean cross-entropy over labelled examples. With a process group each rank runs
  /// every `worldSize`-th example from its rank on (no collective inside the loop) and the confusion matrix and
  /// loss are summed over the ranks: every rank returns the metrics of the whole set.
  public func evaluate(_ examples: [EncodedExample], processGroup: ProcessGroup? = nil) throws -> (
    metrics: ClassificationMetrics, loss: Double
  ) {
    let k = labelNames.count
    let mine =
      processGroup.map { pg in Array(stride(from: pg.rank, to: examples.count, by: pg.worldSize).map { examples[$0] }) }
      ?? examples
    if let i = examples.firstIndex(where: { !(0..<Int32(k)).contains($0.label) }) {
      throw TrainingError("example \(i) has label \(examples[i].label); the model has \(k) labels (0..<\(k))")
    }
    let out = try run(mine, labels: true)
    // Confusion counts (row = label, column = prediction), then the loss sum and the example count.
    var counts = [Double](repeating: 0, count: k * k + 2)
    for (i, e) in mine.enumerated() { counts[Int(e.label) * k + out.argmax(i)] += 1 }
    counts[k * k] = out.lossSum
    counts[k * k + 1] = Double(mine.count)
    if let processGroup { counts = try processGroup.allReduce(counts, op: .sum) }
    var predictions: [Int] = []
    var truth: [Int] = []
    for t in 0..<k {
      for p in 0..<k {
        let c = Int(counts[t * k + p].rounded())
        predictions += Array(repeating: p, count: c)
        truth += Array(repeating: t, count: c)
      }
    }
    let metrics = try ClassificationMetrics(
      predictions: predictions, labels: truth, numClasses: k, labelNames: labelNames)
    return (metrics, counts[k * k] / max(counts[k * k + 1], 1))
  }

  /// What a run produced, row-major `[examples, numLabels]`.
  struct Outputs {
    let numLabels: Int
    let logits: [Float]
    let lossSum: Double

    /// The first label id with the highest logit (as torch's argmax).
    func argmax(_ i: Int) -> Int {
      let row = logits[(i * numLabels)..<((i + 1) * numLabels)]
      return (row.indices.max { row[$0] < row[$1] } ?? i * numLabels) - i * numLabels
    }
  }

  /// What the text-classification pipeline applies to the logits (its `function_to_apply` default).
  enum ScoreFunction {
    case softmax, sigmoid, none

    init(config: BertConfig) {
      if config.problemType == "regression" {
        self = .none
      } else if config.problemType == "multi_label_classification" || config.numLabels == 1 {
        self = .sigmoid
      } else {
        self = .softmax
      }
    }

    func apply(_ logits: Tensor) throws -> Tensor {
      switch self {
      case .softmax: return try logits.softmax(dim: -1)
      case .sigmoid: return try logits.sigmoid()
      case .none: return logits
      }
    }
  }
}

/// Metrics of a saved classification model on a labelled file (labels mapped through the model's label2id).
public func evaluateModel(
  model dir: String, data: String, textColumn: String, labelColumn: String, maxLength: Int,
  batchSize: Int, device: Device, precision: FineTuneConfig.Precision = .fp32,
  prepare: (Module) throws -> Void = { _ in }
) throws -> (metrics: ClassificationMetrics, loss: Double, skipped: Int) {
  let classifier = try TextClassifier.fromPretrained(
    dir, device: device, maxLength: maxLength, batchSize: batchSize, precision: precision)
  try prepare(classifier.model)  // e.g. --quantize
  let set = try TextClassificationDataset.load(
    path: data, textColumn: textColumn, labelColumn: labelColumn, labels: classifier.labelNames)
  guard set.count > 0 else { throw TrainingError("\(data): no examples to evaluate") }
  let encoded = try classifier.encode(set.examples.map(\.text), labels: set.examples.map(\.label))
  let (m, loss) = try classifier.evaluate(encoded)
  return (m, loss, set.report.skippedRecords)
}
