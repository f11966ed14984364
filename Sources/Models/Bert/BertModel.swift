import NN
import Torch

/// `BertPooler`: tanh(dense(hidden of the first token)).
public final class BertPooler: Module {
  @ModuleInfo public var dense: Linear

  public init(_ config: BertConfig) throws {
    super.init()
    dense = try Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize, initialize: false)
  }

  public func callAsFunction(_ hidden: Tensor) throws -> Tensor {
    let first = try hidden.select(dim: 1, index: 0)  // [B, H]
    return try dense(first).tanh()  // [B, H]
  }
}

/// The output of `BertModel`.
public struct BertModelOutput {
  /// `[B, T, H]`
  public var lastHiddenState: Tensor
  /// `[B, H]`, nil without a pooling layer.
  public var poolerOutput: Tensor?
}

/// `BertModel`: embeddings, encoder and (optionally) the pooler, with HF's module names so a checkpoint's
/// keys load with no rename table.
public final class BertModel: Module {
  public let config: BertConfig
  @ModuleInfo public var embeddings: BertEmbeddings
  @ModuleInfo public var encoder: BertEncoder
  @ModuleInfo public var pooler: BertPooler?

  /// A model with HF's initialisation (normal(0, initializer_range) weights, zero biases, unit LayerNorms).
  public init(_ config: BertConfig, addPoolingLayer: Bool = true) throws {
    try config.validate()
    self.config = config
    super.init()
    embeddings = try BertEmbeddings(config)
    encoder = try BertEncoder(config)
    pooler = addPoolingLayer ? try BertPooler(config) : nil
    try initWeights(self, std: config.initializerRange)
  }

  /// HF's attention mask for SDPA: nil when nothing is masked, else an additive `[B, 1, T, T]` float mask
  /// holding the dtype's lowest value at padded keys (as transformers' `_prepare_4d_attention_mask_for_sdpa`).
  public static func extendedAttentionMask(_ attentionMask: Tensor?, dtype: DType) throws -> Tensor? {
    guard let attentionMask else { return nil }
    if try attentionMask.bool().all().item(Bool.self) { return nil }
    let (b, t) = (try attentionMask.size(0), try attentionMask.size(1))
    let keep = try attentionMask.to(dtype: dtype).view(b, 1, 1, t)  // [B, 1, 1, T]
    let inverted = try keep.neg().add(1)  // 1 where padded
    let lowest: Double
    switch dtype {
    case .float16: lowest = -65504
    case .bfloat16: lowest = -3.3895313892515355e38
    case .float64: lowest = -Double.greatestFiniteMagnitude
    default: lowest = Double(-Float.greatestFiniteMagnitude)
    }
    let additive = try inverted.maskedFill(inverted.bool(), .double(lowest))  // [B, 1, 1, T]
    return try additive.expand([b, 1, t, t])  // [B, 1, T, T]
  }

  /// `inputIds [B, T]`, `attentionMask [B, T]` (1 = token, 0 = padding), `tokenTypeIds [B, T]`.
  public func callAsFunction(inputIds: Tensor, attentionMask: Tensor? = nil, tokenTypeIds: Tensor? = nil) throws
    -> BertModelOutput
  {
    guard inputIds.dim == 2 else {
      throw TorchError("BertModel: input_ids must be [batch, sequence], got \(inputIds.shape)")
    }
    let hidden = try embeddings(inputIds: inputIds, tokenTypeIds: tokenTypeIds)  // [B, T, H]
    let mask = try Self.extendedAttentionMask(attentionMask, dtype: hidden.dtype)  // [B, 1, T, T] or nil
    let last = try encoder(hidden, mask: mask)  // [B, T, H]
    return BertModelOutput(lastHiddenState: last, poolerOutput: try pooler?(last))
  }
}

/// HF's `_init_weights` for BERT: Linear and Embedding weights ~ N(0, std), biases 0, padding rows 0,
/// LayerNorm weight 1 and bias 0.
func initWeights(_ root: Module, std: Double) throws {
  for m in root.modules() {
    if let l = m as? Linear {
      try Init.normal_(l.weight, mean: 0, std: std)
      if let b = l.bias { try Init.zeros_(b) }
    } else if let e = m as? Embedding {
      try Init.normal_(e.weight, mean: 0, std: std)
      if let p = e.paddingIdx { _ = try withNoGrad { try e.weight[p].zero_() } }
    } else if let n = m as? LayerNorm {
      if let w = n.weight { try Init.ones_(w) }
      if let b = n.bias { try Init.zeros_(b) }
    }
  }
}
