import NN
import Torch

/// The output of `BertForSequenceClassification`.
public struct SequenceClassifierOutput {
  /// `[B, numLabels]`
  public var logits: Tensor
  /// Cross-entropy (or MSE for one label / BCE for multi-label problems) when labels were given.
  public var loss: Tensor?
}

/// `BertForSequenceClassification`: BERT, dropout and a linear classifier on the pooled output.
public final class BertForSequenceClassification: Module {
  public let config: BertConfig
  @ModuleInfo public var bert: BertModel
  @ModuleInfo public var dropout: Dropout
  @ModuleInfo public var classifier: Linear

  public init(_ config: BertConfig) throws {
    self.config = config
    super.init()
    bert = try BertModel(config)
    dropout = try Dropout(p: config.classifierDropout ?? config.hiddenDropoutProb)
    classifier = try Linear(inFeatures: config.hiddenSize, outFeatures: config.numLabels, initialize: false)
    try initWeights(classifier, std: config.initializerRange)
  }

  public func callAsFunction(
    inputIds: Tensor, attentionMask: Tensor? = nil, tokenTypeIds: Tensor? = nil,
    labels: Tensor? = nil
  ) throws -> SequenceClassifierOutput {
    let out = try bert(inputIds: inputIds, attentionMask: attentionMask, tokenTypeIds: tokenTypeIds)
    guard let pooled = out.poolerOutput else { throw TorchError("BertForSequenceClassification needs the pooler") }
    let logits = try classifier(dropout(pooled))  // [B, numLabels]
    guard let labels else { return SequenceClassifierOutput(logits: logits, loss: nil) }
    let problem =
      config.problemType
      ?? (config.numLabels == 1
        ? "regression"
        : (labels.dtype == .int64 || labels.dtype == .int32
          ? "single_label_classification" : "multi_label_classification"))
    let loss: Tensor
    switch problem {
    case "regression": loss = try F.mseLoss(logits.squeeze(), labels.squeeze().to(dtype: logits.dtype))
    case "multi_label_classification": loss = try F.binaryCrossEntropyWithLogits(logits, labels.to(dtype: logits.dtype))
    default: loss = try F.crossEntropy(logits.view(-1, config.numLabels), labels.view(-1))
    }
    return SequenceClassifierOutput(logits: logits, loss: loss)
  }
}
