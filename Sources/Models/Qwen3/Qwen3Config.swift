/// `Qwen3Config` of transformers: Qwen2's layout without the q/k/v biases, with an RMSNorm over each head of q and
/// k (`q_norm`, `k_norm`) and an explicit `head_dim`.
public struct Qwen3Config: Decodable, Sendable {
  public var vocabSize: Int = 151936
  public var hiddenSize: Int = 4096
  public var intermediateSize: Int = 22016
  public var numHiddenLayers: Int = 32
  public var numAttentionHeads: Int = 32
  public var numKeyValueHeads: Int? = 32
  public var headDim: Int? = 128
  public var hiddenAct: String = "silu"
  public var maxPositionEmbeddings: Int = 32768
  public var rmsNormEps: Double = 1e-6
  public var ropeTheta: Double = 10000
  public var ropeScaling: RopeScaling?
  public var tieWordEmbeddings: Bool = false
  public var attentionBias: Bool = false
  public var useSlidingWindow: Bool = false
  public var slidingWindow: Int? = 4096
  public var maxWindowLayers: Int = 28
  public var layerTypes: [String]?
  public var bosTokenId: TokenIdList?
  public var eosTokenId: TokenIdList?
  public var padTokenId: TokenIdList?
  public var torchDtype: String?

  public init() {}

  public init(from decoder: Decoder) throws {
    let r = try DecoderConfigReader(decoder)
    let d = Self()
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
    tieWordEmbeddings = try r("tie_word_embeddings", d.tieWordEmbeddings)
    attentionBias = try r("attention_bias", false)
    useSlidingWindow = try r("use_sliding_window", false)
    slidingWindow = try r.optional("sliding_window")
    maxWindowLayers = try r("max_window_layers", 28)
    layerTypes = try r.optional("layer_types")
    bosTokenId = try r.optional("bos_token_id")
    eosTokenId = try r.optional("eos_token_id")
    padTokenId = try r.optional("pad_token_id")
    torchDtype = try r.optional("torch_dtype") ?? r.optional("dtype")
  }

  public func spec(file: String) throws -> DecoderSpec {
    let spec = DecoderSpec(
      vocabSize: vocabSize, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
      numHiddenLayers: numHiddenLayers, numAttentionHeads: numAttentionHeads,
      numKeyValueHeads: numKeyValueHeads ?? numAttentionHeads,
      headDim: headDim ?? hiddenSize / max(numAttentionHeads, 1), hiddenAct: hiddenAct,
      maxPositionEmbeddings: maxPositionEmbeddings, rmsNormEps: rmsNormEps, ropeTheta: ropeTheta,
      ropeScaling: ropeScaling, qkvBias: attentionBias, outputBias: attentionBias, mlpBias: false, qkNorm: true,
      tieWordEmbeddings: tieWordEmbeddings,
      slidingWindows: try slidingWindowsPerLayer(
        layers: numHiddenLayers, layerTypes: layerTypes, slidingWindow: slidingWindow,
        useSlidingWindow: useSlidingWindow, maxWindowLayers: maxWindowLayers, file: file))
    try spec.validate(file: file)
    return spec
  }
}
