/// `Qwen3Config` of transformers: Qwen2's layout without the q/k/v biases (unless `attention_bias`), with an
/// RMSNorm over each head of q and k (`q_norm`, `k_norm`) and an explicit `head_dim`.
@dynamicMemberLookup
public struct Qwen3Config: Decodable, Sendable, LlamaFamilyConfig {
  public var llama: LlamaConfig
  public var window: QwenSlidingWindow

  /// transformers' defaults for Qwen3.
  public static var defaults: LlamaConfig {
    var d = Qwen2Config.defaults
    d.headDim = 128
    return d
  }

  public init(from decoder: Decoder) throws {
    llama = try LlamaConfig(from: decoder, defaults: Self.defaults)
    window = try QwenSlidingWindow(from: decoder)
  }

  public func spec(file: String) throws -> DecoderSpec {
    try llama.spec(file: file, qkNorm: true, slidingWindows: window.perLayer(llama.numHiddenLayers, file: file))
  }
}
