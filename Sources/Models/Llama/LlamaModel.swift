import NN
import Torch

/// `LlamaModel`: token embeddings, the decoder layers and the final norm, with transformers' module names
/// (`embed_tokens`, `layers.N`, `norm`) so checkpoints load with no rename table.
public final class LlamaModel: Module {
  public let spec: DecoderSpec
  public let rotary: RotaryEmbedding
  @ModuleInfo(key: "embed_tokens") public var embedTokens: Embedding
  @ModuleInfo public var layers: ModuleList<LlamaDecoderLayer>
  @ModuleInfo public var norm: RMSNorm

  public init(_ spec: DecoderSpec) throws {
    self.spec = spec
    rotary = try RotaryEmbedding(
      dim: spec.headDim, base: spec.ropeTheta, maxPositionEmbeddings: spec.maxPositionEmbeddings,
      scaling: spec.ropeScaling)
    super.init()
    embedTokens = try Embedding(numEmbeddings: spec.vocabSize, embeddingDim: spec.hiddenSize, initialize: false)
    layers = try ModuleList((0..<spec.numHiddenLayers).map { try LlamaDecoderLayer(spec, layerIndex: $0) })
    norm = try RMSNorm(spec.hiddenSize, eps: spec.rmsNormEps)
  }

  /// `inputIds [B, T]` → last hidden states `[B, T, H]` (see `CausalLanguageModel.forward`).
  public func callAsFunction(
    inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?
  ) throws -> Tensor {
    let (b, t, offset) = try checkCausalInputs(
      inputIds: inputIds, attentionMask: attentionMask, positionIds: positionIds, cache: cache, model: typeName)
    var hidden = try embedTokens(inputIds)  // [B, T, H]
    let positions = try positionIds ?? defaultPositions(batch: b, length: t, offset: offset, device: inputIds.device)
    let (cos, sin) = try rotary(positions: positions.expand([b, t]), dtype: hidden.dtype)  // [B, T, d]
    let cosine = try cos.unsqueeze(1)  // [B, 1, T, d]
    let sine = try signedSin(sin)  // [B, 1, T, d], first half negated
    let keyLength = (cache as? StaticKVCache).flatMap { $0.returnsFullBuffers ? $0.maxLength : nil } ?? offset + t
    var masks: [Int?: AttentionMask] = [:]
    for window in Set(spec.slidingWindows) {
      if let graphMasks = (cache as? StaticKVCache)?.graphMasks {
        guard let m = graphMasks[window] else {
          throw TorchError("\(typeName): no graph mask for window \(window as Any)")
        }
        masks[window] = .explicit(m)
        continue
      }
      masks[window] = try AttentionMask.make(
        padding: attentionMask, queryLength: t, offset: offset, keyLength: keyLength, window: window,
        device: inputIds.device)
    }
    for layer in layers {
      let mask = masks[layer.selfAttn.slidingWindow]!
      hidden = try layer(hidden, cos: cosine, sin: sine, mask: mask, cache: cache)  // [B, T, H]
    }
    cache?.advance(by: t)
    return try norm(hidden)  // [B, T, H]
  }
}

/// `LlamaForCausalLM`: `LlamaModel` and the language-model head (`lm_head`, or the embedding matrix when
/// `tie_word_embeddings`). Mistral, Qwen2 and Qwen3 are this module with their configs' switches.
public class LlamaForCausalLM: Module, CausalLanguageModel {
  public let spec: DecoderSpec
  public let modelType: String
  @ModuleInfo public var model: LlamaModel
  @ModuleInfo(key: "lm_head") public var lmHead: Linear?

  public init(_ spec: DecoderSpec, modelType: String = "llama") throws {
    self.spec = spec
    self.modelType = modelType
    super.init()
    model = try LlamaModel(spec)
    lmHead =
      spec.tieWordEmbeddings
      ? nil : try Linear(inFeatures: spec.hiddenSize, outFeatures: spec.vocabSize, bias: false, initialize: false)
  }

  public convenience init(_ config: LlamaConfig) throws { try self.init(config.spec(file: "config.json")) }

  public var vocabularySize: Int { spec.vocabSize }
  public var maxPositionEmbeddings: Int { spec.maxPositionEmbeddings }
  public var cacheLayout: KVCacheLayout {
    KVCacheLayout(layers: spec.numHiddenLayers, kvHeads: spec.numKeyValueHeads, headDim: spec.headDim)
  }
  public var attentionWindows: [Int?] { Array(Set(spec.slidingWindows)).sorted { ($0 ?? -1) < ($1 ?? -1) } }
  public var needsHostSync: Bool { model.rotary.ropeType == "dynamic" }

  public func forward(
    inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?, logitsToKeep: Int
  ) throws -> Tensor {
    var hidden = try model(inputIds: inputIds, attentionMask: attentionMask, positionIds: positionIds, cache: cache)
    let t = hidden.shape[1]
    if logitsToKeep > 0 && logitsToKeep < t {
      hidden = try hidden.narrow(dim: 1, start: t - logitsToKeep, length: logitsToKeep)  // [B, T', H]
    }
    if let lmHead { return try lmHead(hidden) }  // [B, T', V]
    return try F.linear(hidden, weight: model.embedTokens.weight)  // [B, T', V] (tied to the embeddings)
  }
}

/// `MistralForCausalLM`.
public final class MistralForCausalLM: LlamaForCausalLM {
  public convenience init(_ config: MistralConfig) throws {
    try self.init(config.spec(file: "config.json"), modelType: "mistral")
  }
}

/// `Qwen2ForCausalLM`.
public final class Qwen2ForCausalLM: LlamaForCausalLM {
  public convenience init(_ config: Qwen2Config) throws {
    try self.init(config.spec(file: "config.json"), modelType: "qwen2")
  }
}

/// `Qwen3ForCausalLM`.
public final class Qwen3ForCausalLM: LlamaForCausalLM {
  public convenience init(_ config: Qwen3Config) throws {
    try self.init(config.spec(file: "config.json"), modelType: "qwen3")
  }
}
