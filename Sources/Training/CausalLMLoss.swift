import Models
import Torch

/// The causal-LM loss of transformers' `ForCausalLMLoss`: logits at position t predict the label at t + 1;
/// mean cross entropy over the labels that are not -100.
public func causalLMLoss(logits: Tensor, labels: Tensor) throws -> Tensor {
  let (b, t, v) = (logits.shape[0], logits.shape[1], logits.shape[2])
  guard labels.shape == [b, t] else { throw TrainingError("labels must be [\(b), \(t)], got \(labels.shape)") }
  let predicted = try logits.narrow(dim: 1, start: 0, length: t - 1).reshape(-1, v).to(dtype: .float32)  // [B·(T-1), V]
  let target = try labels.narrow(dim: 1, start: 1, length: t - 1).reshape(-1)  // [B·(T-1)]
  return try F.crossEntropy(predicted, target, ignoreIndex: CausalLMData.ignoreIndex)
}

extension CausalLanguageModel {
  /// The loss of a batch (`model(input_ids, attention_mask, labels=labels).loss`).
  public func loss(inputIds: Tensor, attentionMask: Tensor?, labels: Tensor) throws -> Tensor {
    try causalLMLoss(logits: self(inputIds: inputIds, attentionMask: attentionMask), labels: labels)
  }
}
