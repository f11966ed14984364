import Datasets
import Foundation
import Models
import Tokenizers
import Torch
import TrainingSupport

/// Metrics of a saved classification model on a labelled file (labels mapped through the model's label2id).
public func evaluateModel(
  model dir: String, data: String, textColumn: String, labelColumn: String, maxLength: Int,
  batchSize: Int, device: Device
) throws -> (metrics: ClassificationMetrics, loss: Double, skipped: Int) {
  let (model, _) = try BertForSequenceClassification.fromPretrained(dir, device: device)
  let names = (0..<model.config.numLabels).map { model.config.id2label[$0] ?? "LABEL_\($0)" }
  let set = try TextClassificationDataset.load(
    path: data, textColumn: textColumn, labelColumn: labelColumn, labels: names)
  guard set.count > 0 else { throw TrainingError("\(data): no examples to evaluate") }
  var tok = try Tokenizer(directory: dir)
  tok.padding = nil
  tok.truncation = Truncation(maxLength: maxLength)
  let enc = try tok.encodeBatch(set.examples.map(\.text))
  let encoded = zip(enc, set.examples).map {
    EncodedExample(ids: $0.ids.map { Int32($0) }, typeIds: $0.typeIds.map { UInt8($0) }, label: Int32($1.label))
  }
  let (m, loss) = try Evaluator(
    model: model, device: device, batchSize: batchSize, padId: Int32(tok.tokenToId("[PAD]") ?? 0)
  )
  .evaluate(encoded, labelNames: names)
  return (m, loss, set.report.skippedRecords)
}
