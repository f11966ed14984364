import NN
import Torch

/// `BertSelfAttention`: multi-head scaled dot-product attention (libtorch's fused SDPA kernels).
public final class BertSelfAttention: Module {
  public let numHeads: Int
  public let headSize: Int
  public let dropoutP: Double
  @ModuleInfo public var query: Linear
  @ModuleInfo public var key: Linear
  @ModuleInfo public var value: Linear

  public init(_ config: BertConfig) throws {
    numHeads = config.numAttentionHeads
    headSize = config.hiddenSize / config.numAttentionHeads
    dropoutP = config.attentionProbsDropoutProb
    super.init()
    query = try Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize, initialize: false)
    key = try Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize, initialize: false)
    value = try Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize, initialize: false)
  }

  /// `[B, T, H]` → `[B, heads, T, d]`.
  func heads(_ x: Tensor) throws -> Tensor {
    let (b, t) = (try x.size(0), try x.size(1))
    return try x.view(b, t, numHeads, headSize).transpose(1, 2)
  }

  /// Under autocast: the query, key and value projections as one GEMM over the concatenated weights. Three
  /// separate projections would each keep their own low-precision copy of `hidden` for backward and
  /// round three input gradients before adding them; one GEMM keeps one copy and sums in the GEMM's
  /// float32 accumulator (a third less activation memory for this block, and fewer kernels).
  func fusedProjections(_ hidden: Tensor) throws -> (Tensor, Tensor, Tensor) {
    let (b, t) = (try hidden.size(0), try hidden.size(1))
    let weight = try Tensor.cat([query.weight, key.weight, value.weight])  // [3H, H]
    let bias = try query.bias.map { qb in try Tensor.cat([qb, key.bias!, value.bias!]) }  // [3H]
    // Split (backward: one cat straight into the [B, T, 3H] layout the GEMM's backward reads), then transpose.
    let parts = try F.linear(hidden, weight: weight, bias: bias)  // [B, T, 3H]
      .view(b, t, 3 * numHeads, headSize)  // [B, T, 3h, d]
      .split(numHeads, dim: 2)  // 3 × [B, T, h, d]
    return (try parts[0].transpose(1, 2), try parts[1].transpose(1, 2), try parts[2].transpose(1, 2))  // [B, h, T, d]
  }

  /// `hidden [B, T, H]`, `mask` broadcastable to `[B, heads, T, T]` (bool: true = attend) → `[B, T, H]`.
  public func callAsFunction(_ hidden: Tensor, mask: Tensor?) throws -> Tensor {
    let (b, t) = (try hidden.size(0), try hidden.size(1))
    let q: Tensor, k: Tensor, v: Tensor
    if autocastDType(hidden.device) != nil {
      (q, k, v) = try fusedProjections(hidden)
    } else {
      q = try heads(query(hidden))  // [B, h, T, d]
      k = try heads(key(hidden))  // [B, h, T, d]
      v = try heads(value(hidden))  // [B, h, T, d]
    }
    let p = training ? dropoutP : 0
    let context = try F.scaledDotProductAttention(q, k, v, attnMask: mask, dropoutP: p)  // [B, h, T, d]
    return try context.transpose(1, 2).reshape(b, t, numHeads * headSize)  // [B, T, H]
  }
}

/// `BertSelfOutput`: projection, dropout, residual and LayerNorm.
public final class BertSelfOutput: Module {
  @ModuleInfo public var dense: Linear
  @ModuleInfo(key: "LayerNorm") public var layerNorm: LayerNorm
  @ModuleInfo public var dropout: Dropout

  public init(_ config: BertConfig) throws {
    super.init()
    dense = try Linear(inFeatures: config.hiddenSize, outFeatures: config.hiddenSize, initialize: false)
    layerNorm = try LayerNorm(config.hiddenSize, eps: config.layerNormEps)
    dropout = try Dropout(p: config.hiddenDropoutProb)
  }

  public func callAsFunction(_ hidden: Tensor, residual: Tensor) throws -> Tensor {
    let projected = try dense(hidden)  // [B, T, H]
    // LayerNorm(residual + dropout(projected))
    return try layerNorm.forward(projected, residual: residual, dropout: dropout)  // [B, T, H]
  }
}

/// `BertAttention`: self-attention (`self`) and its output block (`output`).
public final class BertAttention: Module {
  @ModuleInfo(key: "self") public var selfAttention: BertSelfAttention
  @ModuleInfo public var output: BertSelfOutput

  public init(_ config: BertConfig) throws {
    super.init()
    selfAttention = try BertSelfAttention(config)
    output = try BertSelfOutput(config)
  }

  public func callAsFunction(_ hidden: Tensor, mask: Tensor?) throws -> Tensor {
    let attended = try selfAttention(hidden, mask: mask)  // [B, T, H]
    return try output(attended, residual: hidden)  // [B, T, H]
  }
}
