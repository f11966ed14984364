/// `LlamaConfig` of transformers, decoded from `config.json` (Llama 2, Llama 3, 3.1, 3.2; SmolLM and other
/// Llama-architecture models). Mistral's and Qwen's configs hold one of these (with their own defaults) plus the
/// fields only they have.
public struct LlamaConfig: Decodable, Sendable {
  public var vocabSize = 32000
  public var hiddenSize = 4096
  public var intermediateSize = 11008
  public var numHiddenLayers = 32
  public var numAttentionHeads = 32
  /// nil: as many as attention heads.
  public var numKeyValueHeads: Int?
  /// nil: hidden_size / num_attention_heads.
  public var headDim: Int?
  public var hiddenAct = "silu"
  public var maxPositionEmbeddings = 2048
  public var rmsNormEps = 1e-6
  public var ropeTheta = 10000.0
  public var ropeScaling: RopeScaling?
  public var attentionBias = false
  public var mlpBias = false
  public var tieWordEmbeddings = false
  public var bosTokenId: TokenIdList?
  public var eosTokenId: TokenIdList?
  public var padTokenId: TokenIdList?
  public var torchDtype: String?

  public init() {}

  public init(from decoder: Decoder) throws { try self.init(from: decoder, defaults: LlamaConfig()) }

  /// Decodes the Llama fields, taking absent ones from `defaults` (each family's transformers defaults).
  public init(from decoder: Decoder, defaults d: LlamaConfig) throws {
    let r = try DecoderConfigReader(decoder)
    vocabSize = try r("vocab_size", d.vocabSize)
    hiddenSize = try r("hidden_size", d.hiddenSize)
    intermediateSize = try r("intermediate_size", d.intermediateSize)
    numHiddenLayers = try r("num_hidden_layers", d.numHiddenLayers)
    numAttentionHeads = try r("num_attention_heads", d.numAttentionHeads)
    numKeyValueHeads = try r.optional("num_key_value_heads") ?? d.numKeyValueHeads
    headDim = try r.optional("head_dim") ?? d.headDim
    hiddenAct = try r("hidden_act", d.hiddenAct)
    maxPositionEmbeddings = try r("max_position_embeddings", d.maxPositionEmbeddings)
    rmsNormEps = try r("rms_norm_eps", d.rmsNormEps)
    ropeTheta = try r("rope_theta", d.ropeTheta)
    ropeScaling = try r.optional("rope_scaling")
    attentionBias = try r("attention_bias", d.attentionBias)
    mlpBias = try r("mlp_bias", d.mlpBias)
    tieWordEmbeddings = try r("tie_word_embeddings", d.tieWordEmbeddings)
    bosTokenId = try r.optional("bos_token_id")
    eosTokenId = try r.optional("eos_token_id")
    padTokenId = try r.optional("pad_token_id")
    torchDtype = try r.optional("torch_dtype") ?? r.optional("dtype")
  }

  /// The module switches, checked. `qkvBias`/`outputBias` default to `attention_bias`; `slidingWindows` to full
  /// attention in every layer.
  public func spec(
    file: String, qkvBias: Bool? = nil, outputBias: Bool? = nil, qkNorm: Bool = false, slidingWindows: [Int?]? = nil
  ) throws -> DecoderSpec {
    let spec = DecoderSpec(
      vocabSize: vocabSize, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
      numHiddenLayers: numHiddenLayers, numAttentionHeads: numAttentionHeads,
      numKeyValueHeads: numKeyValueHeads ?? numAttentionHeads,
      headDim: headDim ?? hiddenSize / max(numAttentionHeads, 1), hiddenAct: hiddenAct,
      maxPositionEmbeddings: maxPositionEmbeddings, rmsNormEps: rmsNormEps, ropeTheta: ropeTheta,
      ropeScaling: ropeScaling, qkvBias: qkvBias ?? attentionBias, outputBias: outputBias ?? attentionBias,
      mlpBias: mlpBias, qkNorm: qkNorm, tieWordEmbeddings: tieWordEmbeddings,
      slidingWindows: slidingWindows ?? Array(repeating: nil, count: max(numHiddenLayers, 0)))
    try spec.validate(file: file)
    return spec
  }
}

/// A config made of Llama's fields and a family's own (`MistralConfig`, `Qwen2Config`, `Qwen3Config`):
/// `config.hiddenSize` reads the Llama part.
public protocol LlamaFamilyConfig {
  var llama: LlamaConfig { get set }
}

extension LlamaFamilyConfig {
  public subscript<T>(dynamicMember path: WritableKeyPath<LlamaConfig, T>) -> T {
    get { llama[keyPath: path] }
    set { llama[keyPath: path] = newValue }
  }
}

/// Qwen's sliding-window switches (`use_sliding_window`, `sliding_window`, `max_window_layers`, `layer_types`).
public struct QwenSlidingWindow: Sendable {
  public var useSlidingWindow = false
  public var slidingWindow: Int? = 4096
  public var maxWindowLayers = 28
  public var layerTypes: [String]?

  init(from decoder: Decoder) throws {
    let r = try DecoderConfigReader(decoder)
    useSlidingWindow = try r("use_sliding_window", false)
    slidingWindow = try r.optional("sliding_window")
    maxWindowLayers = try r("max_window_layers", 28)
    layerTypes = try r.optional("layer_types")
  }

  func perLayer(_ layers: Int, file: String) throws -> [Int?] {
    try slidingWindowsPerLayer(
      layers: layers, layerTypes: layerTypes, slidingWindow: slidingWindow, useSlidingWindow: useSlidingWindow,
      maxWindowLayers: maxWindowLayers, file: file)
  }
}
