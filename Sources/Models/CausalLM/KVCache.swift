import Torch

/// The keys and values of the tokens a decoder-only model has already seen, per layer, so each new token
/// attends to them without recomputing them (transformers' `Cache`, mlx-swift's `KVCache`).
///
/// Every row of the batch holds the same number of positions (`length`); left padding is masked, not trimmed.
/// A model's forward pass calls `update` once per layer with the new keys and values and `advance` once at the
/// end, so all layers of one pass write at the same offset.
public protocol KVCache: AnyObject {
  /// Positions already stored (the offset of the next token).
  var length: Int { get }
  /// The most positions the cache can hold (nil: unbounded).
  var capacity: Int? { get }
  /// Stores `keys`/`values` `[B, kvHeads, T, d]` of `layer` at `length ..< length + T` and returns every stored
  /// key and value of that layer, `[B, kvHeads, length + T, d]`.
  func update(layer: Int, keys: Tensor, values: Tensor) throws -> (keys: Tensor, values: Tensor)
  /// Moves `length` past the `count` positions just written by every layer.
  func advance(by count: Int)
  /// Forgets everything (`length` = 0), keeping any preallocated memory.
  func reset()
}

/// A cache that grows with the sequence: each update appends along the sequence dimension
/// (transformers' `DynamicCache`). Simple and exact; the static cache is faster on GPUs.
public final class DynamicKVCache: KVCache {
  private var keys: [Tensor?]
  private var values: [Tensor?]
  public private(set) var length = 0
  public var capacity: Int? { nil }

  public init(layers: Int) {
    keys = Array(repeating: nil, count: layers)
    values = Array(repeating: nil, count: layers)
  }

  public func update(layer: Int, keys k: Tensor, values v: Tensor) throws -> (keys: Tensor, values: Tensor) {
    guard layer >= 0, layer < keys.count else {
      throw TorchError("KV cache: layer \(layer) is out of range (the cache holds \(keys.count) layers)")
    }
    let allK = try keys[layer].map { try Tensor.cat([$0, k], dim: 2) } ?? k  // [B, kv, L+T, d]
    let allV = try values[layer].map { try Tensor.cat([$0, v], dim: 2) } ?? v  // [B, kv, L+T, d]
    keys[layer] = allK
    values[layer] = allV
    return (allK, allV)
  }

  public func advance(by count: Int) { length += count }

  public func reset() {
    keys = Array(repeating: nil, count: keys.count)
    values = Array(repeating: nil, count: values.count)
    length = 0
  }
}

/// Preallocated buffers `[B, kvHeads, capacity, d]` per layer, written in place at the current offset
/// (transformers' `StaticCache`, gpt-fast's `KVCache`): no allocation per token, and fixed addresses and shapes,
/// which a captured CUDA graph of the decode step needs.
public final class StaticKVCache: KVCache {
  public let keys: [Tensor]
  public let values: [Tensor]
  public private(set) var length = 0
  public let maxLength: Int
  public var capacity: Int? { maxLength }
  /// When true, `update` returns the whole buffers (`capacity` positions, the unused ones masked by the caller)
  /// instead of the filled prefix: the shapes then never change from step to step.
  public var returnsFullBuffers = false
  /// Graph mode (a captured decode step): the positions to write, a device tensor `[T]` (int64) read by the
  /// kernels instead of the host-side `length`. `update` then returns the whole buffers, `advance` leaves `length`
  /// to the caller (`setLength`), and the model takes its masks from `graphMasks`.
  public var writeIndex: Tensor?
  /// Graph mode: the attention mask of the step for each sliding window (nil key: full attention),
  /// `[B or 1, 1, T, capacity]` bool.
  public var graphMasks: [Int?: Tensor]?
  /// Row mode (continuous batching, where every row has its own length): the position each row's one new token
  /// is written at, `[B]` (int64). `update` then writes row r's key and value at `rowWriteIndex[r]` and returns
  /// the first `length + 1` positions of every row (`length`: the longest row, set by the caller with
  /// `setLength`); each row's unused positions are hidden by the masks in `graphMasks`. `advance` leaves `length`
  /// to the caller.
  public var rowWriteIndex: Tensor?

  public init(
    layers: Int, batchSize: Int, kvHeads: Int, headDim: Int, capacity: Int, dtype: DType, device: Device
  ) throws {
    guard capacity > 0, batchSize > 0 else {
      throw TorchError("StaticKVCache: capacity and batch size must be positive, got \(capacity) and \(batchSize)")
    }
    maxLength = capacity
    keys = try (0..<layers).map { _ in
      try Tensor.zeros([batchSize, kvHeads, capacity, headDim], dtype: dtype, device: device)
    }
    values = try (0..<layers).map { _ in
      try Tensor.zeros([batchSize, kvHeads, capacity, headDim], dtype: dtype, device: device)
    }
  }

  public func update(layer: Int, keys k: Tensor, values v: Tensor) throws -> (keys: Tensor, values: Tensor) {
    guard layer >= 0, layer < keys.count else {
      throw TorchError("KV cache: layer \(layer) is out of range (the cache holds \(keys.count) layers)")
    }
    if let rowWriteIndex {
      let index = try rowWriteIndex.view(k.shape[0], 1, 1, 1).expand(k.shape)  // [B, kv, 1, d]
      _ = try ATen.scatter__src(keys[layer], dim: 2, index: index, src: k)
      _ = try ATen.scatter__src(values[layer], dim: 2, index: index, src: v)
      let used = Swift.min(length + 1, maxLength)
      return (
        try keys[layer].narrow(dim: 2, start: 0, length: used),
        try values[layer].narrow(dim: 2, start: 0, length: used)
      )
    }
    if let writeIndex {
      _ = try ATen.index_copy_(keys[layer], dim: 2, index: writeIndex, source: k)
      _ = try ATen.index_copy_(values[layer], dim: 2, index: writeIndex, source: v)
      return (keys[layer], values[layer])
    }
    let count = try k.size(2)
    guard length + count <= maxLength else {
      throw TorchError(
        "KV cache: \(length) cached + \(count) new positions exceed its capacity of \(maxLength) positions")
    }
    try keys[layer].narrow(dim: 2, start: length, length: count).copy_(k)
    try values[layer].narrow(dim: 2, start: length, length: count).copy_(v)
    if returnsFullBuffers { return (keys[layer], values[layer]) }
    let used = length + count
    return (
      try keys[layer].narrow(dim: 2, start: 0, length: used), try values[layer].narrow(dim: 2, start: 0, length: used)
    )
  }

  public func advance(by count: Int) {
    if writeIndex == nil && rowWriteIndex == nil { length += count }
  }

  private init(keys: [Tensor], values: [Tensor], maxLength: Int) {
    self.keys = keys
    self.values = values
    self.maxLength = maxLength
  }

  /// A cache over rows `start ..< start + count` of this one (views of the same buffers, so what it writes lands
  /// here), starting empty: continuous batching prefills one sequence into its own slot and decodes the occupied
  /// slots together.
  public func rows(_ start: Int, count: Int) throws -> StaticKVCache {
    StaticKVCache(
      keys: try keys.map { try $0.narrow(dim: 0, start: start, length: count) },
      values: try values.map { try $0.narrow(dim: 0, start: start, length: count) }, maxLength: maxLength)
  }

  /// Sets the offset directly (a captured decode step writes at an offset held in a tensor; this keeps the
  /// host-side count in step with it).
  public func setLength(_ n: Int) { length = n }

  public func reset() { length = 0 }
}
