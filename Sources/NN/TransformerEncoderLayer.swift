import Torch

/// `torch.nn.TransformerEncoderLayer`: self-attention and a feed-forward block, each with dropout, a
/// residual connection and LayerNorm — after each block (default, "post-norm") or before (`normFirst`).
///
/// Children and state-dict names as PyTorch: `self_attn`, `linear1`, `dropout`, `linear2`, `norm1`,
/// `norm2`, `dropout1`, `dropout2`.
public final class TransformerEncoderLayer: Module {
  /// The feed-forward activation (PyTorch's `activation="relu"` / `"gelu"`).
  public enum Activation: String, Sendable {
    case relu, gelu
  }

  public let dModel: Int
  public let nhead: Int
  public let dimFeedforward: Int
  public let dropoutP: Double
  public let activation: Activation
  public let layerNormEps: Double
  public let batchFirst: Bool
  public let normFirst: Bool
  public let bias: Bool

  @ModuleInfo(key: "self_attn") public var selfAttn: MultiheadAttention
  @ModuleInfo public var linear1: Linear
  @ModuleInfo public var dropout: Dropout
  @ModuleInfo public var linear2: Linear
  @ModuleInfo public var norm1: LayerNorm
  @ModuleInfo public var norm2: LayerNorm
  @ModuleInfo public var dropout1: Dropout
  @ModuleInfo public var dropout2: Dropout

  /// A layer built and initialised as PyTorch builds it (`initialize: false` skips the random draws).
  public init(
    dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: Activation = .relu,
    layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true,
    initialize: Bool = true
  ) throws {
    guard dimFeedforward > 0 else {
      throw TorchError("TransformerEncoderLayer: dim_feedforward must be greater than 0, got \(dimFeedforward)")
    }
    self.dModel = dModel
    self.nhead = nhead
    self.dimFeedforward = dimFeedforward
    self.dropoutP = dropout
    self.activation = activation
    self.layerNormEps = layerNormEps
    self.batchFirst = batchFirst
    self.normFirst = normFirst
    self.bias = bias
    super.init()
    selfAttn = try MultiheadAttention(
      embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias,
      batchFirst: batchFirst, initialize: initialize)
    linear1 = try Linear(inFeatures: dModel, outFeatures: dimFeedforward, bias: bias, initialize: initialize)
    self.dropout = try Dropout(p: dropout)
    linear2 = try Linear(inFeatures: dimFeedforward, outFeatures: dModel, bias: bias, initialize: initialize)
    norm1 = try LayerNorm(dModel, eps: layerNormEps, bias: bias)
    norm2 = try LayerNorm(dModel, eps: layerNormEps, bias: bias)
    dropout1 = try Dropout(p: dropout)
    dropout2 = try Dropout(p: dropout)
  }

  /// A layer with the given activation name ("relu" or "gelu").
  public convenience init(
    dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1, activation: String,
    layerNormEps: Double = 1e-5, batchFirst: Bool = false, normFirst: Bool = false, bias: Bool = true
  ) throws {
    guard let act = Activation(rawValue: activation) else {
      throw TorchError("activation should be relu/gelu, not \(activation)")
    }
    try self.init(
      dModel: dModel, nhead: nhead, dimFeedforward: dimFeedforward, dropout: dropout, activation: act,
      layerNormEps: layerNormEps, batchFirst: batchFirst, normFirst: normFirst, bias: bias)
  }

  /// An independent copy with equal weights, mode, dtype, device and frozen flags (PyTorch's `copy.deepcopy`).
  public func copy() throws -> TransformerEncoderLayer {
    let layer = try TransformerEncoderLayer(
      dModel: dModel, nhead: nhead, dimFeedforward: dimFeedforward, dropout: dropoutP,
      activation: activation, layerNormEps: layerNormEps, batchFirst: batchFirst,
      normFirst: normFirst, bias: bias, initialize: false)
    if let p = parameters().first { try layer.to(device: p.device, dtype: p.dtype) }
    try layer.load(stateDict: try stateDict(), strict: true)
    for (mine, theirs) in zip(parameters(), layer.parameters()) where !mine.requiresGrad {
      try theirs.requiresGrad_(false)
    }
    layer.train(training)
    return layer
  }

  /// `src` `[S, B, E]` (or `[B, S, E]` with `batchFirst`, or unbatched `[S, E]`) → same shape.
  /// `srcMask` `[S, S]` or `[B·H, S, S]`, `srcKeyPaddingMask` `[B, S]`: boolean (true = masked out) or additive float.
  public func callAsFunction(
    _ src: Tensor, srcMask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil,
    isCausal: Bool = false
  ) throws -> Tensor {
    try forward(src, srcMask: srcMask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal)
  }

  /// See `callAsFunction`.
  public func forward(
    _ src: Tensor, srcMask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil,
    isCausal: Bool = false
  ) throws -> Tensor {
    let kpm = try canonicalMask(srcKeyPaddingMask, name: "src_key_padding_mask", dtype: src.dtype)  // [B, S]
    let mask = try canonicalMask(srcMask, name: "src_mask", dtype: src.dtype)  // [S, S]
    var x = src  // [S, B, E]
    if normFirst {
      let n1 = try norm1(x)  // [S, B, E]
      x = try x.add(try selfAttentionBlock(n1, mask: mask, keyPaddingMask: kpm, isCausal: isCausal))  // [S, B, E]
      let n2 = try norm2(x)  // [S, B, E]
      x = try x.add(try feedForwardBlock(n2))  // [S, B, E]
    } else {
      let a = try selfAttention(x, mask: mask, keyPaddingMask: kpm, isCausal: isCausal)  // [S, B, E]
      x = try norm1.forward(a, residual: x, dropout: dropout1)  // norm1(x + dropout1(a)) [S, B, E]
      let f = try feedForward(x)  // [S, B, E]
      x = try norm2.forward(f, residual: x, dropout: dropout2)  // norm2(x + dropout2(f)) [S, B, E]
    }
    return x
  }

  private func selfAttentionBlock(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?, isCausal: Bool) throws -> Tensor
  {
    try dropout1(try selfAttention(x, mask: mask, keyPaddingMask: keyPaddingMask, isCausal: isCausal))  // [S, B, E]
  }

  /// Self-attention without its trailing dropout.
  private func selfAttention(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?, isCausal: Bool) throws -> Tensor {
    let (a, _) = try selfAttn(
      x, x, x, keyPaddingMask: keyPaddingMask, needWeights: false, attnMask: mask,
      isCausal: isCausal)  // [S, B, E]
    return a
  }

  private func feedForwardBlock(_ x: Tensor) throws -> Tensor {
    try dropout2(try feedForward(x))  // [S, B, E]
  }

  /// The feed-forward block without its trailing dropout; activation + dropout fused on CUDA.
  private func feedForward(_ x: Tensor) throws -> Tensor {
    let h = try linear1(x)  // [S, B, F]
    let a = try F.activationDropout(
      h, activation: activation == .relu ? .relu : .gelu, p: dropout.p,
      training: dropout.training)  // dropout(act(h)) [S, B, F]
    return try linear2(a)  // [S, B, E]
  }
}
