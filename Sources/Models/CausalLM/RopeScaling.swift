/// `rope_scaling` of a `config.json`: how rotary position embeddings are stretched past the trained context.
/// The kind is read from `rope_type` or, in older files, `type` (transformers accepts both).
public struct RopeScaling: Codable, Equatable, Sendable {
  /// `default`, `linear`, `dynamic`, `llama3` or `yarn`.
  public var ropeType: String
  public var factor: Double?
  /// llama3
  public var lowFreqFactor: Double?
  public var highFreqFactor: Double?
  /// llama3, yarn, dynamic: the context the model was trained with.
  public var originalMaxPositionEmbeddings: Int?
  /// yarn
  public var betaFast: Double?
  public var betaSlow: Double?
  public var mscale: Double?
  public var mscaleAllDim: Double?
  public var attentionFactor: Double?
  public var truncate: Bool?

  public static let supportedTypes = ["default", "linear", "dynamic", "llama3", "yarn"]

  enum CodingKeys: String, CodingKey {
    case ropeType = "rope_type"
    case type
    case factor
    case lowFreqFactor = "low_freq_factor"
    case highFreqFactor = "high_freq_factor"
    case originalMaxPositionEmbeddings = "original_max_position_embeddings"
    case betaFast = "beta_fast"
    case betaSlow = "beta_slow"
    case mscale
    case mscaleAllDim = "mscale_all_dim"
    case attentionFactor = "attention_factor"
    case truncate
  }

  public init(ropeType: String, factor: Double? = nil) {
    self.ropeType = ropeType
    self.factor = factor
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    guard
      let kind = try c.decodeIfPresent(String.self, forKey: .ropeType) ?? c.decodeIfPresent(String.self, forKey: .type)
    else {
      throw DecodingError.keyNotFound(
        CodingKeys.ropeType, .init(codingPath: c.codingPath, debugDescription: "rope_scaling needs rope_type (or type)")
      )
    }
    ropeType = kind
    factor = try c.decodeIfPresent(Double.self, forKey: .factor)
    lowFreqFactor = try c.decodeIfPresent(Double.self, forKey: .lowFreqFactor)
    highFreqFactor = try c.decodeIfPresent(Double.self, forKey: .highFreqFactor)
    originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
    betaFast = try c.decodeIfPresent(Double.self, forKey: .betaFast)
    betaSlow = try c.decodeIfPresent(Double.self, forKey: .betaSlow)
    mscale = try c.decodeIfPresent(Double.self, forKey: .mscale)
    mscaleAllDim = try c.decodeIfPresent(Double.self, forKey: .mscaleAllDim)
    attentionFactor = try c.decodeIfPresent(Double.self, forKey: .attentionFactor)
    truncate = try c.decodeIfPresent(Bool.self, forKey: .truncate)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(ropeType, forKey: .ropeType)
    try c.encodeIfPresent(factor, forKey: .factor)
    try c.encodeIfPresent(lowFreqFactor, forKey: .lowFreqFactor)
    try c.encodeIfPresent(highFreqFactor, forKey: .highFreqFactor)
    try c.encodeIfPresent(originalMaxPositionEmbeddings, forKey: .originalMaxPositionEmbeddings)
    try c.encodeIfPresent(betaFast, forKey: .betaFast)
    try c.encodeIfPresent(betaSlow, forKey: .betaSlow)
    try c.encodeIfPresent(mscale, forKey: .mscale)
    try c.encodeIfPresent(mscaleAllDim, forKey: .mscaleAllDim)
    try c.encodeIfPresent(attentionFactor, forKey: .attentionFactor)
    try c.encodeIfPresent(truncate, forKey: .truncate)
  }
}
