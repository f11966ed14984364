/// `Qwen2Config` of transformers (Qwen2, Qwen2.5): Llama's layers with biases on the q, k and v projections.
@dynamicMemberLookup
public struct Qwen2Config: Decodable, Sendable, LlamaFamilyConfig {
  public var llama: LlamaConfig
  public var window: QwenSlidingWindow

  /// transformers' defaults for Qwen2.
  public static var defaults: LlamaConfig {
    var d = LlamaConfig()
    d.vocabSize = 151936
    d.intermediateSize = 22016
    d.maxPositionEmbeddings = 32768
    return d
  }

  public init(from decoder: Decoder) throws {
    llama = try LlamaConfig(from: decoder, defaults: Self.defaults)
    window = try QwenSlidingWindow(from: decoder)
  }

  public func spec(file: String) throws -> DecoderSpec {
    try llama.spec(
      file: file, qkvBias: true, outputBias: false,
      slidingWindows: window.perLayer(llama.numHiddenLayers, file: file))
  }
}
