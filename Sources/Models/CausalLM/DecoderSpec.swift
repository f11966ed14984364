/// What the Llama-family modules need to know, read off any of the family configs (`LlamaConfig`,
/// `MistralConfig`, `Qwen2Config`, `Qwen3Config`): the families differ only in these switches.
public struct DecoderSpec: Equatable, Sendable {
  public var vocabSize: Int
  public var hiddenSize: Int
  public var intermediateSize: Int
  public var numHiddenLayers: Int
  public var numAttentionHeads: Int
  public var numKeyValueHeads: Int
  public var headDim: Int
  public var hiddenAct: String
  public var maxPositionEmbeddings: Int
  public var rmsNormEps: Double
  public var ropeTheta: Double
  public var ropeScaling: RopeScaling?
  /// Biases on q/k/v (Qwen2: true) and on o_proj (Llama's `attention_bias` sets all four).
  public var qkvBias: Bool
  public var outputBias: Bool
  public var mlpBias: Bool
  /// Qwen3: RMSNorm over each head of q and k before RoPE.
  public var qkNorm: Bool
  public var tieWordEmbeddings: Bool
  /// Per layer: the sliding window (keys older than this many positions are masked), or nil for full attention.
  public var slidingWindows: [Int?]

  /// Checks what a malformed config would only reveal as a shape error deep in a forward pass.
  public func validate(file: String) throws {
    func fail(_ m: String) -> ModelConfigError { ModelConfigError("\(file): \(m)") }
    for (name, v) in [
      ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
      ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
      ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
      ("max_position_embeddings", maxPositionEmbeddings)
    ] where v <= 0 {
      throw fail("\(name) must be positive, got \(v)")
    }
    guard numAttentionHeads % numKeyValueHeads == 0 else {
      throw fail(
        "num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
    }
    guard headDim % 2 == 0 else { throw fail("head_dim must be even for rotary embeddings, got \(headDim)") }
    guard ["silu", "swish", "gelu", "gelu_pytorch_tanh", "gelu_new", "relu"].contains(hiddenAct) else {
      throw fail("hidden_act '\(hiddenAct)' is not supported (silu, gelu, gelu_pytorch_tanh, gelu_new, relu)")
    }
    if let s = ropeScaling, !RopeScaling.supportedTypes.contains(s.ropeType) {
      throw fail(
        "rope_scaling type '\(s.ropeType)' is not supported (supported: \(RopeScaling.supportedTypes.joined(separator: ", ")))"
      )
    }
    guard slidingWindows.count == numHiddenLayers else {
      throw fail("layer_types lists \(slidingWindows.count) layers for num_hidden_layers \(numHiddenLayers)")
    }
  }
}

/// `layer_types` (transformers ≥ 4.54) or the older switches → one sliding window (or nil) per layer.
func slidingWindowsPerLayer(
  layers: Int, layerTypes: [String]?, slidingWindow: Int?, useSlidingWindow: Bool, maxWindowLayers: Int?,
  file: String
) throws -> [Int?] {
  if let layerTypes {
    return try layerTypes.map { kind in
      switch kind {
      case "full_attention": return nil
      case "sliding_attention":
        guard let slidingWindow else {
          throw ModelConfigError("\(file): layer_types has sliding_attention but sliding_window is null")
        }
        return slidingWindow
      default:
        throw ModelConfigError(
          "\(file): layer_types entry '\(kind)' is not supported (full_attention, sliding_attention)")
      }
    }
  }
  guard useSlidingWindow, let slidingWindow else { return Array(repeating: nil, count: layers) }
  let first = maxWindowLayers ?? 0
  return (0..<layers).map { $0 >= first ? slidingWindow : nil }
}
