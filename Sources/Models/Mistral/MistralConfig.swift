/// `MistralConfig` of transformers (Mistral 7B and its fine-tunes): Llama's layers with grouped-query attention
/// and an optional sliding window over the keys in every layer.
@dynamicMemberLookup
public struct MistralConfig: Decodable, Sendable, LlamaFamilyConfig {
  public var llama: LlamaConfig
  /// Keys further back than this many positions are masked in every layer (nil: full attention).
  public var slidingWindow: Int?

  /// transformers' defaults for Mistral.
  public static var defaults: LlamaConfig {
    var d = LlamaConfig()
    d.intermediateSize = 14336
    d.numKeyValueHeads = 8
    d.maxPositionEmbeddings = 4096 * 32
    return d
  }

  public init(from decoder: Decoder) throws {
    llama = try LlamaConfig(from: decoder, defaults: Self.defaults)
    slidingWindow = try DecoderConfigReader(decoder).optional("sliding_window")
  }

  public func spec(file: String) throws -> DecoderSpec {
    try llama.spec(file: file, slidingWindows: Array(repeating: slidingWindow, count: max(llama.numHiddenLayers, 0)))
  }
}
