import NN
import Torch

/// A decoder-only language model: token ids in, next-token logits out, with an optional KV cache
/// (transformers' `*ForCausalLM`).
public protocol CausalLanguageModel: Module {
  /// transformers' `model_type`: `llama`, `mistral`, `qwen2`, `qwen3`, `gpt2`.
  var modelType: String { get }
  var vocabularySize: Int { get }
  /// The context the model was trained with (`max_position_embeddings`, `n_positions`).
  var maxPositionEmbeddings: Int { get }
  /// What a KV cache for this model holds per layer.
  var cacheLayout: KVCacheLayout { get }
  /// The distinct attention windows of its layers (nil: full causal attention), each needing its own mask.
  var attentionWindows: [Int?] { get }
  /// Whether a forward pass reads values back to the host (dynamic RoPE), which a captured graph cannot.
  var needsHostSync: Bool { get }

  /// `inputIds [B, T]` → logits `[B, T', vocab]` in the model's dtype, where T' is `logitsToKeep` (the last
  /// positions only; 0: all T).
  ///
  /// - `attentionMask [B, cache.length + T]`: 1 for tokens, 0 for (left) padding; nil: no padding.
  /// - `positionIds [B, T]`: nil means `cache.length ..< cache.length + T` for every row (transformers' default).
  /// - `cache`: the keys/values of earlier positions; this pass appends its own.
  func forward(
    inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?, logitsToKeep: Int
  ) throws -> Tensor
}

extension CausalLanguageModel {
  public func callAsFunction(
    inputIds: Tensor, attentionMask: Tensor? = nil, positionIds: Tensor? = nil, cache: KVCache? = nil,
    logitsToKeep: Int = 0
  ) throws -> Tensor {
    try forward(
      inputIds: inputIds, attentionMask: attentionMask, positionIds: positionIds, cache: cache,
      logitsToKeep: logitsToKeep)
  }

  /// A growing cache for this model.
  public func makeDynamicCache() -> DynamicKVCache { DynamicKVCache(layers: cacheLayout.layers) }

  /// A preallocated cache of `capacity` positions for `batchSize` rows, in the model's dtype and device.
  public func makeStaticCache(batchSize: Int, capacity: Int) throws -> StaticKVCache {
    let p = parameters().first
    return try StaticKVCache(
      layers: cacheLayout.layers, batchSize: batchSize, kvHeads: cacheLayout.kvHeads, headDim: cacheLayout.headDim,
      capacity: capacity, dtype: p?.dtype ?? .float32, device: p?.device ?? .cpu)
  }

  /// The dtype of the model's weights.
  public var dtype: DType { parameters().first?.dtype ?? .float32 }
  /// The device of the model's weights.
  public var device: Device { parameters().first?.device ?? .cpu }
}

public struct KVCacheLayout: Equatable, Sendable {
  public var layers: Int
  public var kvHeads: Int
  public var headDim: Int
}

/// Checks the inputs every family's forward shares, with messages naming what is wrong.
func checkCausalInputs(
  inputIds: Tensor, attentionMask: Tensor?, positionIds: Tensor?, cache: KVCache?, model: String
) throws -> (batch: Int, length: Int, offset: Int) {
  guard inputIds.dim == 2 else {
    throw TorchError("\(model): input_ids must be [batch, sequence], got \(inputIds.shape)")
  }
  guard inputIds.dtype == .int64 || inputIds.dtype == .int32 else {
    throw TorchError("\(model): input_ids must be integer token ids, got \(inputIds.dtype)")
  }
  let (b, t) = (inputIds.shape[0], inputIds.shape[1])
  let offset = cache?.length ?? 0
  if let attentionMask {
    guard attentionMask.dim == 2, attentionMask.shape[0] == b, attentionMask.shape[1] == offset + t else {
      throw TorchError(
        "\(model): attention_mask must be [\(b), \(offset + t)] (cached + new positions), got \(attentionMask.shape)")
    }
  }
  if let positionIds {
    guard positionIds.shape == [b, t] || positionIds.shape == [1, t] else {
      throw TorchError("\(model): position_ids must be [\(b), \(t)], got \(positionIds.shape)")
    }
  }
  if let capacity = cache?.capacity, offset + t > capacity {
    throw TorchError(
      "\(model): \(offset) cached + \(t) new positions exceed the KV cache's capacity of \(capacity) positions")
  }
  return (b, t, offset)
}

/// `offset ..< offset + T` for every row (transformers' `cache_position`), `[B, T]`.
func defaultPositions(batch: Int, length: Int, offset: Int, device: Device) throws -> Tensor {
  try Tensor.arange(.int(offset), .int(offset + length), device: device).unsqueeze(0).expand([batch, length])
}

/// The activation named by `hidden_act`.
func activation(_ name: String, _ x: Tensor) throws -> Tensor {
  switch name {
  case "silu", "swish": return try x.silu()
  case "gelu": return try x.gelu()
  case "gelu_pytorch_tanh", "gelu_new": return try x.gelu(approximate: "tanh")
  case "relu": return try x.relu()
  default: throw TorchError("activation '\(name)' is not supported")
  }
}
