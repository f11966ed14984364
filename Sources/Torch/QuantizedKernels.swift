import CTorch

/// libtorch's dynamic int8 linear on the CPU (fbgemm through `quantized::linear_prepack` / `quantized::linear_dynamic`,
/// what PyTorch's `quantize_dynamic` runs): an int8 weight packed once, activations quantized per call.
public final class DynamicInt8PackedWeight {
  private let handle: UnsafeMutableRawPointer

  /// Packs `weight` (int8 `[N, K]`, CPU) with one scale (per tensor) or `N` scales (per output channel), zero point
  /// 0, and an optional bias `[N]`.
  public init(weight: Tensor, scales: Tensor, bias: Tensor?) throws {
    var out: UnsafeMutableRawPointer? = nil
    let s = try scales.to(device: .cpu, dtype: .float32)
    let b = try bias.map { try $0.to(device: .cpu, dtype: .float32) }
    try check(ts_qlinear_dynamic_prepack(weight.handle, s.handle, b?.handle, &out))
    handle = out!
  }

  deinit { ts_qlinear_dynamic_free(handle) }

  /// `x [*, K]` (float32, CPU) → `[*, N]` float32. `reduceRange` quantizes activations to 7 bits, as PyTorch does
  /// on x86 (fbgemm) to avoid overflow in its int16 accumulation.
  public func linear(_ x: Tensor, reduceRange: Bool = true) throws -> Tensor {
    var out: ts_tensor? = nil
    try check(ts_qlinear_dynamic(handle, x.handle, reduceRange ? 1 : 0, &out))
    return Tensor(taking: out!)
  }

  /// Sets libtorch's quantized engine ("fbgemm", "x86", "qnnpack", "onednn"); PyTorch 2.8's default on x86 is "x86".
  public static func setEngine(_ name: String) throws { try check(ts_qengine_set(name)) }
}
