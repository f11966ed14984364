/// `GPT2Config` of transformers, decoded from `config.json` (GPT-2 and DistilGPT-2 checkpoints).
public struct GPT2Config: Decodable, Sendable {
  public var vocabSize: Int = 50257
  public var nPositions: Int = 1024
  public var nEmbd: Int = 768
  public var nLayer: Int = 12
  public var nHead: Int = 12
  /// The MLP's inner size (nil: 4 × n_embd).
  public var nInner: Int?
  public var activationFunction: String = "gelu_new"
  public var layerNormEpsilon: Double = 1e-5
  public var scaleAttnWeights: Bool = true
  public var scaleAttnByInverseLayerIdx: Bool = false
  public var reorderAndUpcastAttn: Bool = false
  public var tieWordEmbeddings: Bool = true
  public var bosTokenId: TokenIdList? = 50256
  public var eosTokenId: TokenIdList? = 50256
  public var padTokenId: TokenIdList?
  public var torchDtype: String?

  public init() {}

  public init(from decoder: Decoder) throws {
    let r = try DecoderConfigReader(decoder)
    let d = Self()
    vocabSize = try r("vocab_size", d.vocabSize)
    nPositions = try r("n_positions", d.nPositions)
    nEmbd = try r("n_embd", d.nEmbd)
    nLayer = try r("n_layer", d.nLayer)
    nHead = try r("n_head", d.nHead)
    nInner = try r.optional("n_inner")
    activationFunction = try r("activation_function", d.activationFunction)
    layerNormEpsilon = try r("layer_norm_epsilon", d.layerNormEpsilon)
    scaleAttnWeights = try r("scale_attn_weights", d.scaleAttnWeights)
    scaleAttnByInverseLayerIdx = try r("scale_attn_by_inverse_layer_idx", d.scaleAttnByInverseLayerIdx)
    reorderAndUpcastAttn = try r("reorder_and_upcast_attn", d.reorderAndUpcastAttn)
    tieWordEmbeddings = try r("tie_word_embeddings", d.tieWordEmbeddings)
    bosTokenId = try r.optional("bos_token_id") ?? d.bosTokenId
    eosTokenId = try r.optional("eos_token_id") ?? d.eosTokenId
    padTokenId = try r.optional("pad_token_id")
    torchDtype = try r.optional("torch_dtype") ?? r.optional("dtype")
  }

  public var innerSize: Int { nInner ?? 4 * nEmbd }
  public var headDim: Int { nEmbd / max(nHead, 1) }

  func validate(file: String) throws {
    for (name, v) in [
      ("vocab_size", vocabSize), ("n_positions", nPositions), ("n_embd", nEmbd), ("n_layer", nLayer),
      ("n_head", nHead), ("n_inner", innerSize)
    ] where v <= 0 {
      throw ModelConfigError("\(file): \(name) must be positive, got \(v)")
    }
    guard nEmbd % nHead == 0 else {
      throw ModelConfigError("\(file): n_embd (\(nEmbd)) must be a multiple of n_head (\(nHead))")
    }
    guard ["gelu_new", "gelu", "gelu_pytorch_tanh", "relu", "silu", "swish"].contains(activationFunction) else {
      throw ModelConfigError("\(file): activation_function '\(activationFunction)' is not supported")
    }
  }
}
