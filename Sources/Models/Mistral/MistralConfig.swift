/// `MistralConfig` of transformers (Mistral 7B and its fine-tunes): Llama's layers with grouped-query
/// attention and an optional sliding window over the keys.
public struct MistralConfig: Decodable, Sendable {
  public var vocabSize: Int = 32000
  public var hiddenSize: Int = 4096
  public var intermediateSize: Int = 14336
  public var numHiddenLayers: Int = 32
  public var numAttentionHeads: Int = 32
  public var numKeyValueHeads: Int? = 8
  public var headDim: Int? = nil
  public var hiddenAct: String = "silu"
  public var maxPositionEmbeddings: Int = 131072
  public var rmsNormEps: Double = 1e-6
  public var ropeTheta: Double = 10000
  public var ropeScaling: RopeScaling?
  public var tieWordEmbeddings: Bool = false
  /// Keys further back than this many positions are masked in every layer (nil: full attention).
  public var slidingWindow: Int? = 4096
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
    slidingWindow = try r.optional("sliding_window")
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
      ropeScaling: ropeScaling, qkvBias: false, outputBias: false, mlpBias: false, qkNorm: false,
      tieWordEmbeddings: tieWordEmbeddings,
      slidingWindows: Array(repeating: slidingWindow, count: max(numHiddenLayers, 0)))
    try spec.validate(file: file)
    return spec
  }
}
