import Torch

/// How one forward pass of a decoder masks attention, decided once per pass and shared by its layers.
public enum AttentionMask {
  /// Nothing to mask (one new token, no padding, no window in reach).
  case none
  /// Plain causal attention from position 0 (SDPA's `is_causal`).
  case causal
  /// `[B, 1, T, K]` bool, true = may attend.
  case explicit(Tensor)

  /// The mask for `queryLength` new tokens at cache offset `offset` attending to `keyLength` keys
  /// (`offset + queryLength`, or a static cache's whole capacity), given the 2-D padding mask `[B, ≥ offset + T]`
  /// (1 = token, 0 = padding; nil: no padding) and a sliding window (keys at least `window` positions behind
  /// the query are hidden, as transformers' sliding-window masks).
  ///
  /// A padding query row would have no key to attend to; it attends to itself instead (its output is never
  /// used), which keeps every softmax row finite.
  /// `explicit: true` always builds the tensor (a captured decode step needs one of a fixed shape every step).
  public static func make(
    padding: Tensor?, queryLength: Int, offset: Int, keyLength: Int, window: Int?, device: Device,
    explicit: Bool = false
  ) throws -> AttentionMask {
    let windowBinds = window.map { offset + queryLength > $0 } ?? false
    if !explicit && padding == nil && !windowBinds && keyLength == offset + queryLength {
      if queryLength == 1 { return .none }
      if offset == 0 { return .causal }
    }
    let keys = try Tensor.arange(keyLength, device: device).view(1, keyLength)  // [1, K]
    let queryIndices = try Tensor.arange(.int(offset), .int(offset + queryLength), device: device)  // [T]
    let queries = try queryIndices.view(queryLength, 1)  // [T, 1]
    var allowed = try keys.le(queries)  // [T, K]
    if let window {
      allowed = try allowed.logicalAnd(queries.sub(keys).lt(.int(window)))  // [T, K]
    }
    var mask = try allowed.unsqueeze(0).unsqueeze(0)  // [1, 1, T, K]
    if let padding {
      let b = try padding.size(0)
      var valid = try padding.to(device: device).bool()  // [B, ≤K]
      let width = try valid.size(1)
      if width < keyLength {  // a static cache's unused tail: masked by the causal part anyway
        valid = try F.pad(valid.to(dtype: .uint8), [0, keyLength - width], value: 0).bool()
      } else if width > keyLength {
        valid = try valid.narrow(dim: 1, start: 0, length: keyLength)
      }
      let diagonal = try keys.eq(queries).unsqueeze(0).unsqueeze(0)  // [1, 1, T, K]
      mask = try mask.logicalAnd(valid.view(b, 1, 1, keyLength)).logicalOr(diagonal)  // [B, 1, T, K]
    }
    return .explicit(mask)
  }
}

/// Scaled dot-product attention over grouped-query heads with the pass's mask.
/// `q [B, h, T, d]`, `k`/`v` `[B, kv, K, d]` → `[B, h, T, d]`.
func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: AttentionMask, scale: Double?) throws -> Tensor {
  let grouped = q.shape[1] != k.shape[1]
  switch mask {
  case .none:
    return try ATen.scaled_dot_product_attention(q, key: k, value: v, scale: scale, enable_gqa: grouped)
  case .causal:
    return try ATen.scaled_dot_product_attention(
      q, key: k, value: v, is_causal: true, scale: scale, enable_gqa: grouped)
  case .explicit(let m):
    return try ATen.scaled_dot_product_attention(q, key: k, value: v, attn_mask: m, scale: scale, enable_gqa: grouped)
  }
}

extension AttentionMask {
  /// The mask tensor of `.explicit` (nil for `.none` and `.causal`).
  public var tensor: Tensor? {
    if case .explicit(let t) = self { return t }
    return nil
  }
}
