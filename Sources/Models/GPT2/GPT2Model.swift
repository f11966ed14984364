import NN
import Torch

/// transformers' `Conv1D` (GPT-2's linear layer): `y = x W + b` with the weight stored `[in, out]`, the
/// transpose of `Linear`'s.
open class Conv1D: Module, UnaryModule {
  /// `[inFeatures, outFeatures]`
  public let weight: Tensor
  /// `[outFeatures]`
  public let bias: Tensor

  public init(inFeatures: Int, outFeatures: Int) throws {
    weight = try Tensor.empty([inFeatures, outFeatures])
    bias = try Tensor.empty([outFeatures])
    super.init()
    try registerParameter("weight", weight)
    try registerParameter("bias", bias)
  }

  /// A layer over existing tensors (shared, not copied), for adapters that wrap one.
  public init(weight: Tensor, bias: Tensor) throws {
    self.weight = weight
    self.bias = bias
    super.init()
    try registerParameter("weight", weight)
    try registerParameter("bias", bias)
  }

  public var inFeatures: Int { weight.shape[0] }
  public var outFeatures: Int { weight.shape[1] }

  /// `[*, in]` → `[*, out]`.
  open func forward(_ x: Tensor) throws -> Tensor {
    try F.linear(x, weight: weight.t(), bias: bias)  // [*, out]
  }
}

/// `GPT2Attention`: fused q/k/v projection (`c_attn`), causal attention, output projection (`c_proj`).
public final class GPT2Attention: Module {
  public let layerIndex: Int
  public let numHeads: Int
  public let headDim: Int
  let scale: Double
  @ModuleInfo(key: "c_attn") public var cAttn: Conv1D
  @ModuleInfo(key: "c_proj") public var cProj: Conv1D

  public init(_ config: GPT2Config, layerIndex: Int) throws {
    self.layerIndex = layerIndex
    numHeads = config.nHead
    headDim = config.headDim
    var s = config.scaleAttnWeights ? 1 / Double(config.headDim).squareRoot() : 1
    if config.scaleAttnByInverseLayerIdx { s /= Double(layerIndex + 1) }
    scale = s
    super.init()
    cAttn = try Conv1D(inFeatures: config.nEmbd, outFeatures: 3 * config.nEmbd)
    cProj = try Conv1D(inFeatures: config.nEmbd, outFeatures: config.nEmbd)
  }

  /// `[B, T, C]` → `[B, T, C]`.
  public func callAsFunction(_ hidden: Tensor, mask: AttentionMask, cache: KVCache?) throws -> Tensor {
    let (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
    let qkv = try cAttn(hidden).view(b, t, 3 * numHeads, headDim).split(numHeads, dim: 2)  // 3 × [B, T, h, d]
    let q = try qkv[0].transpose(1, 2)  // [B, h, T, d]
    var k = try qkv[1].transpose(1, 2)  // [B, h, T, d]
    var v = try qkv[2].transpose(1, 2)  // [B, h, T, d]
    if let cache { (k, v) = try cache.update(layer: layerIndex, keys: k, values: v) }  // [B, h, K, d]
    let context = try attend(q, k, v, mask: mask, scale: scale)  // [B, h, T, d]
    return try cProj(context.transpose(1, 2).reshape(b, t, c))  // [B, T, C]
  }
}

/// `GPT2MLP`: `c_proj(act(c_fc(x)))`.
public final class GPT2MLP: Module {
  let act: String
  @ModuleInfo(key: "c_fc") public var cFc: Conv1D
  @ModuleInfo(key: "c_proj") public var cProj: Conv1D

  public init(_ config: GPT2Config) throws {
    act = config.activationFunction
    super.init()
    cFc = try Conv1D(inFeatures: config.nEmbd, outFeatures: config.innerSize)
    cProj = try Conv1D(inFeatures: config.innerSize, outFeatures: config.nEmbd)
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try cProj(activation(act, cFc(x)))  // [B, T, C]
  }
}

/// `GPT2Block`: pre-LayerNorm attention and MLP with residuals.
public final class GPT2Block: Module {
  @ModuleInfo(key: "ln_1") public var ln1: LayerNorm
  @ModuleInfo public var attn: GPT2Attention
  @ModuleInfo(key: "ln_2") public var ln2: LayerNorm
  @ModuleInfo public var mlp: GPT2MLP

  public init(_ config: GPT2Config, layerIndex: Int) throws {
    super.init()
    ln1 = try LayerNorm(config.nEmbd, eps: config.layerNormEpsilon)
    attn = try GPT2Attention(config, layerIndex: layerIndex)
    ln2 = try LayerNorm(config.nEmbd, eps: config.layerNormEpsilon)
    mlp = try GPT2MLP(config)
  }

  public func callAsFunction(_ hidden: Tensor, mask: AttentionMask, cache: KVCache?) throws -> Tensor {
    let h = try hidden.add(attn(ln1(hidden), mask: mask, cache: cache))  // [B, T, C]
    return try h.add(mlp(ln2(h)))  // [B, T, C]
  }
}

/// `GPT2Model`: token and learned position embeddings, the blocks, the final LayerNorm.
public final class GPT2Model: Module {
  public let config: GPT2Config
  @ModuleInfo public var wte: Embedding
  @ModuleInfo public var wpe: Embedding
  @ModuleInfo public var h: ModuleList<GPT2Block>
  @ModuleInfo(key: "ln_f") public var lnF: LayerNorm

  public init(_ config: GPT2Config) throws {
    try config.validate(file: "config.json")
    self.config = config
    super.init()
    wte = try Embedding(numEmbeddings: config.vocabSize, embeddingDim: config.nEmbd, initialize: false)
    wpe = try Embedding(numEmbeddings: config.nPositions, embeddingDim: config.nEmbd, initialize: false)
    h = try ModuleList((0..<config.nLayer).map { try GPT2Block(config, layerIndex: $0) })
    lnF = try LayerNorm(config.nEmbd, eps: config.layerNormEpsilon)
  }

  /// `inputIds [B, T]` → `[B, T, C]`.
  public func callAsFunction(
    inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?
  ) throws -> Tensor {
    let (b, t, offset) = try checkCausalInputs(
      inputIds: inputIds, attentionMask: attentionMask, positionIds: positionIds, cache: cache, model: typeName)
    let positions = try positionIds ?? defaultPositions(batch: b, length: t, offset: offset, device: inputIds.device)
    if offset + t > config.nPositions {
      throw TorchError(
        "GPT2Model: \(offset + t) positions exceed the model's \(config.nPositions) learned positions (n_positions)")
    }
    var hidden = try wte(inputIds).add(wpe(positions))  // [B, T, C]
    let keyLength = (cache as? StaticKVCache).flatMap { $0.returnsFullBuffers ? $0.maxLength : nil } ?? offset + t
    let mask: AttentionMask
    if let graphMasks = (cache as? StaticKVCache)?.graphMasks, let m = graphMasks[nil] {
      mask = .explicit(m)
    } else {
      mask = try AttentionMask.make(
        padding: attentionMask, queryLength: t, offset: offset, keyLength: keyLength, window: nil,
        device: inputIds.device)
    }
    for block in h { hidden = try block(hidden, mask: mask, cache: cache) }  // [B, T, C]
    cache?.advance(by: t)
    return try lnF(hidden)  // [B, T, C]
  }
}

/// `GPT2LMHeadModel`: `GPT2Model` and a head tied to the token embeddings (`lm_head.weight` is `wte.weight`
/// unless `tie_word_embeddings` is false).
public final class GPT2LMHeadModel: Module, CausalLanguageModel {
  public let config: GPT2Config
  @ModuleInfo public var transformer: GPT2Model
  @ModuleInfo(key: "lm_head") public var lmHead: Linear?

  public init(_ config: GPT2Config) throws {
    self.config = config
    super.init()
    transformer = try GPT2Model(config)
    lmHead =
      config.tieWordEmbeddings
      ? nil : try Linear(inFeatures: config.nEmbd, outFeatures: config.vocabSize, bias: false, initialize: false)
  }

  public var modelType: String { "gpt2" }
  public var vocabularySize: Int { config.vocabSize }
  public var maxPositionEmbeddings: Int { config.nPositions }
  public var cacheLayout: KVCacheLayout {
    KVCacheLayout(layers: config.nLayer, kvHeads: config.nHead, headDim: config.headDim)
  }
  public var attentionWindows: [Int?] { [nil] }
  public var needsHostSync: Bool { false }

  public func forward(
    inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?, logitsToKeep: Int
  ) throws -> Tensor {
    var hidden = try transformer(
      inputIds: inputIds, attentionMask: attentionMask, positionIds: positionIds, cache: cache)
    let t = hidden.shape[1]
    if logitsToKeep > 0 && logitsToKeep < t {
      hidden = try hidden.narrow(dim: 1, start: t - logitsToKeep, length: logitsToKeep)  // [B, T', C]
    }
    return try F.linear(hidden, weight: lmHead?.weight ?? transformer.wte.weight)  // [B, T', V]
  }
}
