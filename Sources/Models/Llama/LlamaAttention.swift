import NN
import Torch

/// `LlamaAttention`: grouped-query self-attention with rotary positions; also Mistral's, Qwen2's (q/k/v biases)
/// and Qwen3's (RMSNorm over each head of q and k).
public final class LlamaAttention: Module {
  public let layerIndex: Int
  public let numHeads: Int
  public let numKeyValueHeads: Int
  public let headDim: Int
  public let slidingWindow: Int?
  @ModuleInfo(key: "q_proj") public var qProj: Linear
  @ModuleInfo(key: "k_proj") public var kProj: Linear
  @ModuleInfo(key: "v_proj") public var vProj: Linear
  @ModuleInfo(key: "o_proj") public var oProj: Linear
  @ModuleInfo(key: "q_norm") public var qNorm: RMSNorm?
  @ModuleInfo(key: "k_norm") public var kNorm: RMSNorm?
  private lazy var qkv = FusedProjection { [unowned self] in [self.qProj, self.kProj, self.vProj] }

  public init(_ spec: DecoderSpec, layerIndex: Int) throws {
    self.layerIndex = layerIndex
    numHeads = spec.numAttentionHeads
    numKeyValueHeads = spec.numKeyValueHeads
    headDim = spec.headDim
    slidingWindow = spec.slidingWindows[layerIndex]
    super.init()
    let h = spec.hiddenSize
    qProj = try Linear(inFeatures: h, outFeatures: numHeads * headDim, bias: spec.qkvBias, initialize: false)
    kProj = try Linear(inFeatures: h, outFeatures: numKeyValueHeads * headDim, bias: spec.qkvBias, initialize: false)
    vProj = try Linear(inFeatures: h, outFeatures: numKeyValueHeads * headDim, bias: spec.qkvBias, initialize: false)
    oProj = try Linear(inFeatures: numHeads * headDim, outFeatures: h, bias: spec.outputBias, initialize: false)
    qNorm = spec.qkNorm ? try RMSNorm(headDim, eps: spec.rmsNormEps) : nil
    kNorm = spec.qkNorm ? try RMSNorm(headDim, eps: spec.rmsNormEps) : nil
  }

  /// `hidden [B, T, H]`, rotary `cos` and signed `sin` `[B, 1, T, d]` (see `applyRotary`) → `[B, T, H]`.
  public func callAsFunction(
    _ hidden: Tensor, cos: Tensor, sin: Tensor, mask: AttentionMask, cache: KVCache?
  ) throws -> Tensor {
    let (b, t) = (hidden.shape[0], hidden.shape[1])
    let projected = try qkv(hidden)  // q [B, T, h·d], k and v [B, T, kv·d]: one GEMM in inference
    var q = try projected[0].view(b, t, numHeads, headDim)  // [B, T, h, d]
    var k = try projected[1].view(b, t, numKeyValueHeads, headDim)  // [B, T, kv, d]
    let v = try projected[2].view(b, t, numKeyValueHeads, headDim).transpose(1, 2)  // [B, kv, T, d]
    if let qNorm, let kNorm {
      q = try qNorm(q)  // [B, T, h, d]
      k = try kNorm(k)  // [B, T, kv, d]
    }
    q = try applyRotary(q.transpose(1, 2), cos: cos, signedSin: sin)  // [B, h, T, d]
    k = try applyRotary(k.transpose(1, 2), cos: cos, signedSin: sin)  // [B, kv, T, d]
    var keys = k
    var values = v
    if let cache { (keys, values) = try cache.update(layer: layerIndex, keys: k, values: v) }  // [B, kv, K, d]
    let context = try attend(q, keys, values, mask: mask, scale: nil)  // [B, h, T, d]
    let merged = try context.transpose(1, 2).reshape(b, t, numHeads * headDim)  // [B, T, h·d]
    return try oProj(merged)  // [B, T, H]
  }
}

/// `LlamaMLP`: `down(act(gate(x)) · up(x))`.
public final class LlamaMLP: Module {
  public let hiddenAct: String
  @ModuleInfo(key: "gate_proj") public var gateProj: Linear
  @ModuleInfo(key: "up_proj") public var upProj: Linear
  @ModuleInfo(key: "down_proj") public var downProj: Linear
  private lazy var gateUp = FusedProjection { [unowned self] in [self.gateProj, self.upProj] }

  public init(_ spec: DecoderSpec) throws {
    hiddenAct = spec.hiddenAct
    super.init()
    let (h, i) = (spec.hiddenSize, spec.intermediateSize)
    gateProj = try Linear(inFeatures: h, outFeatures: i, bias: spec.mlpBias, initialize: false)
    upProj = try Linear(inFeatures: h, outFeatures: i, bias: spec.mlpBias, initialize: false)
    downProj = try Linear(inFeatures: i, outFeatures: h, bias: spec.mlpBias, initialize: false)
  }

  /// `[B, T, H]` → `[B, T, H]`.
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let projected = try gateUp(x)  // gate and up [B, T, I]: one GEMM in inference
    let gate = try activation(hiddenAct, projected[0])  // [B, T, I]
    let up = projected[1]  // [B, T, I]
    return try downProj(gate.mul(up))  // [B, T, H]
  }
}

/// `LlamaDecoderLayer`: pre-norm attention and MLP, each added to the residual stream.
public final class LlamaDecoderLayer: Module {
  @ModuleInfo(key: "self_attn") public var selfAttn: LlamaAttention
  @ModuleInfo public var mlp: LlamaMLP
  @ModuleInfo(key: "input_layernorm") public var inputLayernorm: RMSNorm
  @ModuleInfo(key: "post_attention_layernorm") public var postAttentionLayernorm: RMSNorm

  public init(_ spec: DecoderSpec, layerIndex: Int) throws {
    super.init()
    selfAttn = try LlamaAttention(spec, layerIndex: layerIndex)
    mlp = try LlamaMLP(spec)
    inputLayernorm = try RMSNorm(spec.hiddenSize, eps: spec.rmsNormEps)
    postAttentionLayernorm = try RMSNorm(spec.hiddenSize, eps: spec.rmsNormEps)
  }

  /// `[B, T, H]` → `[B, T, H]`.
  public func callAsFunction(
    _ hidden: Tensor, cos: Tensor, sin: Tensor, mask: AttentionMask, cache: KVCache?
  ) throws -> Tensor {
    let attended = try selfAttn(inputLayernorm(hidden), cos: cos, sin: sin, mask: mask, cache: cache)  // [B, T, H]
    let h = try hidden.add(attended)  // [B, T, H]
    return try h.add(mlp(postAttentionLayernorm(h)))  // [B, T, H]
  }
}
