/// `LlamaConfig` of transformers, decoded from `config.json` (Llama 2, Llama 3, 3.1, 3.2; SmolLM and other
/// Llama-architecture models).
public struct LlamaConfig: Codable, Sendable {
  public var vocabSize: Int = 32000
  public var hiddenSize: Int = 4096
  public var intermediateSize: Int = 11008
  public var numHiddenLayers: Int = 32
  public var numAttentionHeads: Int = 32
  public var numKeyValueHeads: Int?
  public var headDim: Int?
  public var hiddenAct: String = "silu"
  public var maxPositionEmbeddings: Int = 2048
  public var rmsNormEps: Double = 1e-6
  public var ropeTheta: Double = 10000
  public var ropeScaling: RopeScaling?
  public var attentionBias: Bool = false
  public var mlpBias: Bool = false
  public var tieWordEmbeddings: Bool = false
  public var bosTokenId: TokenIdList?
  public var eosTokenId: TokenIdList?
  public var padTokenId: TokenIdList?
  public var torchDtype: String?

  enum CodingKeys: String, CodingKey {
    case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
    case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
    case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", hiddenAct = "hidden_act"
    case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta"
    case ropeScaling = "rope_scaling", attentionBias = "attention_bias", mlpBias = "mlp_bias"
    case tieWordEmbeddings = "tie_word_embeddings", bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
    case padTokenId = "pad_token_id", torchDtype = "torch_dtype"
  }

  public init() {}

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = LlamaConfig()
    vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
    intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
    numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
    numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
    numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
    headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? d.hiddenAct
    maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
    rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? d.rmsNormEps
    ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? d.ropeTheta
    ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? d.attentionBias
    mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? d.mlpBias
    tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
    bosTokenId = try c.decodeIfPresent(TokenIdList.self, forKey: .bosTokenId)
    eosTokenId = try c.decodeIfPresent(TokenIdList.self, forKey: .eosTokenId)
    padTokenId = try c.decodeIfPresent(TokenIdList.self, forKey: .padTokenId)
    torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype)
  }

  public func spec(file: String) throws -> DecoderSpec {
    let spec = DecoderSpec(
      vocabSize: vocabSize, hiddenSize: hiddenSize, intermediateSize: intermediateSize,
      numHiddenLayers: numHiddenLayers, numAttentionHeads: numAttentionHeads,
      numKeyValueHeads: numKeyValueHeads ?? numAttentionHeads,
      headDim: headDim ?? hiddenSize / max(numAttentionHeads, 1), hiddenAct: hiddenAct,
      maxPositionEmbeddings: maxPositionEmbeddings, rmsNormEps: rmsNormEps, ropeTheta: ropeTheta,
      ropeScaling: ropeScaling, qkvBias: attentionBias, outputBias: attentionBias, mlpBias: mlpBias, qkNorm: false,
      tieWordEmbeddings: tieWordEmbeddings, slidingWindows: Array(repeating: nil, count: max(numHiddenLayers, 0)))
    try spec.validate(file: file)
    return spec
  }
}
