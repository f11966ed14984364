import Foundation
import Torch

/// How `QuantizedLinear` stores and multiplies its weight.
public enum QuantizationScheme: String, CaseIterable, Sendable {
  /// Weight-only int8, one symmetric scale per output channel (gpt-fast's `WeightOnlyInt8QuantHandler`): CPU through
  /// `_weight_int8pack_mm`, CUDA by dequantizing inside the matmul (`linear(x, W.to(x.dtype)) · scales`).
  case int8
  /// Weight-only int4, asymmetric per group of `groupSize` input features (gpt-fast's `WeightOnlyInt4QuantHandler`):
  /// CUDA through `_weight_int4pack_mm` (bfloat16 activations), CPU through `_weight_int4pack_mm_for_cpu`.
  case int4
  /// int8 weights and int8 activations quantized per call, as PyTorch's `quantize_dynamic` (fbgemm's
  /// `quantized::linear_dynamic`; or `_int_mm` with per-row activation scales). Weight scales per output channel by
  /// default (PyTorch's `per_channel_dynamic_qconfig`), or one per tensor (its default qconfig). CPU; on CUDA it runs
  /// as `int8`.
  case dynamicInt8 = "dynamic-int8"

  /// The group sizes `int4` accepts (those libtorch's int4 kernels support).
  public static let int4GroupSizes = [32, 64, 128, 256]

  /// Bits per weight element (for size reports).
  public var weightBits: Int { self == .int4 ? 4 : 8 }
}

/// The dynamic int8 kernel: fbgemm's (PyTorch's `quantize_dynamic`, activations per tensor) or `_int_mm`
/// (int8 × int8 → int32, activations per row).
public enum DynamicInt8Kernel: String, Sendable {
  case fbgemm
  case intMM = "int-mm"
}

/// A `Linear` whose weight is stored in 8 or 4 bits (`QuantizationScheme`); it replaces a `Linear` in a module tree
/// (see `quantize(_:scheme:groupSize:skip:)`), so the model's code is unchanged. Inference only.
///
/// State-dict entries (what a quantized folder holds, next to `quantization_config` in config.json):
/// - int8 / dynamic-int8: `weight` int8 `[out, in]`, `weight_scale` `[out]` (int8) or `[1]` (dynamic-int8);
/// - int4: `weight` uint8 `[out, in/2]` (two values per byte, the even column in the high nibble, values 0…15),
///   `weight_scale` and `weight_zero` `[out, in/groupSize]`: w ≈ (q − 8) · scale + zero;
/// - `bias` `[out]` when the layer has one.
public final class QuantizedLinear: Linear {
  public let scheme: QuantizationScheme
  /// int4's group size (0 for the int8 schemes).
  public let groupSize: Int
  /// See the class comment.
  public let weightScale: Tensor
  /// int4 only: see the class comment.
  public let weightZero: Tensor?
  /// The dynamic-int8 kernel used on the CPU.
  public var dynamicKernel: DynamicInt8Kernel = .fbgemm
  /// dynamic-int8: whether activations are quantized to 7 bits (PyTorch's `reduce_range`, true for fbgemm/x86).
  public var reduceRange = true

  /// On the CPU, inputs with more rows than this run as dequantize-then-GEMM: libtorch's weight-only kernels
  /// (`_weight_int8pack_mm`, `_weight_int4pack_mm_for_cpu`) are matrix-vector kernels for decoding, and measured
  /// ~27× slower than a float GEMM at 2,048 rows (BERT batches, prefill), where converting the weight once costs little.
  public static var cpuKernelMaxRows = 16

  // Kernel-specific layouts, made on first use for the device (and dtype) of the input.
  private var int4Packed: (device: Device, weight: Tensor)?
  private var int4ScalesAndZeros: Tensor?
  private var fbgemmPacked: DynamicInt8PackedWeight?

  /// A layer with the given stored tensors (checked against the shapes in the class comment).
  public init(
    scheme: QuantizationScheme, inFeatures: Int, outFeatures: Int, weight: Tensor, weightScale: Tensor,
    weightZero: Tensor? = nil, bias: Tensor?, groupSize: Int = 0
  ) throws {
    self.scheme = scheme
    self.groupSize = scheme == .int4 ? groupSize : 0
    self.weightScale = weightScale
    self.weightZero = weightZero
    try super.init(inFeatures: inFeatures, outFeatures: outFeatures, bufferWeight: weight, bias: bias)
    try registerBuffer("weight_scale", weightScale)
    if let weightZero { try registerBuffer("weight_zero", weightZero) }
    try validate()
  }

  /// An uninitialised layer of the given shape (for loading a quantized folder into).
  public convenience init(
    scheme: QuantizationScheme, inFeatures: Int, outFeatures: Int, bias: Bool, groupSize: Int = 0,
    perChannel: Bool = true, device: Device = .cpu
  ) throws {
    try Self.checkShape(scheme: scheme, inFeatures: inFeatures, groupSize: groupSize)
    let b = bias ? try Tensor.zeros([outFeatures], device: device) : nil
    switch scheme {
    case .int8, .dynamicInt8:
      try self.init(
        scheme: scheme, inFeatures: inFeatures, outFeatures: outFeatures,
        weight: Tensor.zeros([outFeatures, inFeatures], dtype: .int8, device: device),
        weightScale: Tensor.ones([scheme == .int8 || perChannel ? outFeatures : 1], device: device), bias: b)
    case .int4:
      let groups = inFeatures / groupSize
      try self.init(
        scheme: scheme, inFeatures: inFeatures, outFeatures: outFeatures,
        weight: Tensor.zeros([outFeatures, inFeatures / 2], dtype: .uint8, device: device),
        weightScale: Tensor.ones([outFeatures, groups], device: device),
        weightZero: Tensor.zeros([outFeatures, groups], device: device), bias: b, groupSize: groupSize)
    }
  }

  /// Quantizes `linear`'s weight (its bias stays in its dtype). Throws, naming the reason, when the scheme cannot
  /// take the layer's shape (int4: `in` must be a multiple of the group size). `perChannel: false` gives dynamic-int8
  /// one weight scale per tensor, as PyTorch's default `quantize_dynamic`.
  public static func quantizing(
    _ linear: Linear, scheme: QuantizationScheme, groupSize: Int = 128, perChannel: Bool = true
  ) throws -> QuantizedLinear {
    try checkShape(scheme: scheme, inFeatures: linear.inFeatures, groupSize: groupSize)
    return try withNoGrad {
      let w = try linear.weight.detach().to(dtype: .float32)  // [out, in]
      let bias = try linear.bias?.detach().clone()
      switch scheme {
      case .int8, .dynamicInt8:
        let (q, scales) = try quantizeInt8(w, perChannel: scheme == .int8 || perChannel)
        return try QuantizedLinear(
          scheme: scheme, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, weight: q,
          weightScale: scales.to(dtype: linear.weight.dtype), bias: bias)
      case .int4:
        let (q, scales, zeros) = try quantizeInt4(w, groupSize: groupSize)
        return try QuantizedLinear(
          scheme: scheme, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, weight: packNibbles(q),
          weightScale: scales.to(dtype: linear.weight.dtype), weightZero: zeros.to(dtype: linear.weight.dtype),
          bias: bias, groupSize: groupSize)
      }
    }
  }

  /// Why `scheme` cannot quantize a layer with `inFeatures` inputs, as a thrown error; nothing when it can.
  public static func checkShape(scheme: QuantizationScheme, inFeatures: Int, groupSize: Int) throws {
    guard scheme == .int4 else { return }
    guard QuantizationScheme.int4GroupSizes.contains(groupSize) else {
      throw TorchError(
        "int4: group size must be one of \(QuantizationScheme.int4GroupSizes.map(String.init).joined(separator: ", ")), got \(groupSize)"
      )
    }
    guard inFeatures % groupSize == 0 else {
      throw TorchError("int4: in_features \(inFeatures) is not a multiple of the group size \(groupSize)")
    }
  }

  /// Symmetric int8 with zero point 0 (gpt-fast's `dynamically_quantize_per_channel`, PyTorch's MinMaxObserver
  /// with `per_tensor_symmetric`): scale = max|w| / 127.5 (at least float32's epsilon), q = clamp(round(w / scale),
  /// −128, 127). `w [out, in]` float32 → (int8 `[out, in]`, float32 `[out]` or `[1]`).
  public static func quantizeInt8(_ w: Tensor, perChannel: Bool) throws -> (Tensor, Tensor) {
    let amax = perChannel ? try w.abs().amax(dims: [1]) : try w.abs().amax().reshape(1)  // [out] or [1]
    let scales = try amax.div(127.5).clamp(min: Scalar(Double(Float.ulpOfOne)))
    let q = try w.div(perChannel ? scales.unsqueeze(1) : scales).round().clamp(min: -128, max: 127).to(dtype: .int8)
    return (q, scales)
  }

  /// Asymmetric 4-bit per group along the input dimension (gpt-fast's `group_quantize_tensor`): per group,
  /// scale = (max − min) / 15 (at least 1e-6), zero = min + 8 · scale, q = clamp(round((w − (zero − 8 · scale)) / scale),
  /// 0, 15).
  /// `w [out, in]` float32 → (int32 values `[out, in]`, scales `[out, in/g]`, zeros `[out, in/g]`).
  public static func quantizeInt4(_ w: Tensor, groupSize: Int) throws -> (Tensor, Tensor, Tensor) {
    let (n, k) = (w.shape[0], w.shape[1])
    let groups = try w.reshape(-1, groupSize)  // [out · in/g, g]
    let maxV = try groups.amax(dims: [1], keepdim: true)
    let minV = try groups.amin(dims: [1], keepdim: true)
    let scales = try maxV.sub(minV).clamp(min: 1e-6).div(15)
    let zeros = try minV.add(scales.mul(8))
    let low = try zeros.sub(scales.mul(8))  // gpt-fast recomputes the minimum from the zero point
    let q = try groups.sub(low).div(scales).round().clamp(min: 0, max: 15).to(dtype: .int32).reshape(n, k)
    return (q, try scales.reshape(n, k / groupSize), try zeros.reshape(n, k / groupSize))
  }

  /// int32 values 0…15 `[out, in]` → uint8 `[out, in/2]`, the even column in the high nibble.
  static func packNibbles(_ q: Tensor) throws -> Tensor {
    let pairs = try q.reshape(q.shape[0], q.shape[1] / 2, 2)
    return try pairs.select(dim: 2, index: 0).mul(16).add(pairs.select(dim: 2, index: 1)).to(dtype: .uint8)
  }

  /// uint8 `[out, in/2]` → int32 values `[out, in]` (the inverse of `packNibbles`).
  static func unpackNibbles(_ packed: Tensor) throws -> Tensor {
    let p = try packed.to(dtype: .int32)
    let hi = try p.div(16, roundingMode: "floor")
    let lo = try p.sub(hi.mul(16))
    return try Tensor.stack([hi, lo], dim: 2).reshape(packed.shape[0], packed.shape[1] * 2)
  }

  /// The float weight the stored one stands for, `[out, in]` in `dtype` (for checks and the dense fallback).
  public func dequantizedWeight(dtype: DType = .float32) throws -> Tensor {
    try withNoGrad {
      switch scheme {
      case .int8, .dynamicInt8:
        let s = try weightScale.to(dtype: .float32)
        return try weight.to(dtype: .float32).mul(scheme == .int8 ? s.unsqueeze(1) : s).to(dtype: dtype)
      case .int4:
        let q = try Self.unpackNibbles(weight).to(dtype: .float32).sub(8)  // [out, in]
        let g = try q.reshape(outFeatures, inFeatures / groupSize, groupSize)
        let s = try weightScale.to(dtype: .float32).unsqueeze(2)
        let z = try weightZero!.to(dtype: .float32).unsqueeze(2)
        return try g.mul(s).add(z).reshape(outFeatures, inFeatures).to(dtype: dtype)
      }
    }
  }

  /// Bytes of the stored tensors (weight, scales, zeros, bias).
  public var storedBytes: Int {
    ([weight, weightScale] + [weightZero, bias].compactMap { $0 }).reduce(0) { $0 + $1.numel * $1.dtype.byteSize }
  }

  private func validate() throws {
    let (n, k) = (outFeatures, inFeatures)
    func expect(_ t: Tensor, _ shape: [Int], _ dtypes: [DType], _ name: String) throws {
      guard t.shape == shape, dtypes.contains(t.dtype) else {
        throw TorchError(
          "QuantizedLinear(\(scheme.rawValue)): \(name) must be \(dtypes.map(\.description)) of shape \(shape), "
            + "got \(t.dtype) of shape \(t.shape)")
      }
    }
    let floats: [DType] = [.float32, .float16, .bfloat16]
    switch scheme {
    case .int8:
      try expect(weight, [n, k], [.int8], "weight")
      try expect(weightScale, [n], floats, "weight_scale")
    case .dynamicInt8:
      try expect(weight, [n, k], [.int8], "weight")
      guard weightScale.shape == [1] || weightScale.shape == [n] else {
        throw TorchError(
          "QuantizedLinear(dynamic-int8): weight_scale must have shape [1] or [\(n)], got \(weightScale.shape)")
      }
    case .int4:
      try Self.checkShape(scheme: .int4, inFeatures: k, groupSize: groupSize)
      try expect(weight, [n, k / 2], [.uint8], "weight")
      try expect(weightScale, [n, k / groupSize], floats, "weight_scale")
      guard let weightZero else { throw TorchError("QuantizedLinear(int4): weight_zero is missing") }
      try expect(weightZero, [n, k / groupSize], floats, "weight_zero")
    }
  }

  // MARK: forward

  public override func forward(_ input: Tensor) throws -> Tensor {
    guard input.dim >= 1, input.shape.last == inFeatures else {
      throw TorchError("\(typeName): expected input with last dimension \(inFeatures), got shape \(input.shape)")
    }
    let lead = Array(input.shape.dropLast())
    let x = try input.reshape(-1, inFeatures).contiguous()  // [M, in]
    var y: Tensor
    switch scheme {
    case .int8: y = try int8Forward(x)
    case .dynamicInt8: y = input.device == .cpu ? try dynamicForward(x) : try int8Forward(x)
    case .int4: y = try int4Forward(x)
    }
    let fbgemmAddedBias = scheme == .dynamicInt8 && input.device == .cpu && dynamicKernel == .fbgemm
    if let bias, !fbgemmAddedBias { y = try y.add(bias.dtype == y.dtype ? bias : bias.to(dtype: y.dtype)) }
    return try y.reshape(lead + [outFeatures])  // [*, out]
  }

  /// Weight-only int8: `x [M, in]` → `[M, out]` in x's dtype (no bias).
  private func int8Forward(_ x: Tensor) throws -> Tensor {
    let scales = try weightScale.dtype == x.dtype ? weightScale : weightScale.to(dtype: x.dtype)
    if x.device == .cpu && scheme == .int8 && x.shape[0] <= Self.cpuKernelMaxRows {
      return try ATen._weight_int8pack_mm(x, mat2: weight, scales: scales)
    }
    // gpt-fast's recipe (CUDA; CPU inputs with many rows): W converted to x's dtype, the scales applied to the output.
    // In eager mode the conversion is a separate kernel, so on CUDA this saves memory rather than time.
    let y = try F.linear(x, weight: weight.to(dtype: x.dtype))  // [M, out]
    return try y.mul(scales)
  }

  /// Dynamic int8 on the CPU: `x [M, in]` → `[M, out]` in x's dtype (fbgemm adds the bias, `_int_mm` does not).
  private func dynamicForward(_ x: Tensor) throws -> Tensor {
    let xf = try x.dtype == .float32 ? x : x.to(dtype: .float32)
    let y: Tensor
    switch dynamicKernel {
    case .fbgemm:
      if fbgemmPacked == nil {
        fbgemmPacked = try DynamicInt8PackedWeight(weight: weight, scales: weightScale, bias: bias)  // bias fused
      }
      y = try fbgemmPacked!.linear(xf, reduceRange: reduceRange)
    case .intMM:
      // Symmetric per-row activation scales: s = max|x_row| / 127; y = (q_x · q_wᵀ) · s_x · s_w.
      let eps = Scalar(Double(Float.ulpOfOne))
      let sx = try xf.abs().amax(dims: [1], keepdim: true).div(127).clamp(min: eps)  // [M, 1]
      let qx = try xf.div(sx).round().clamp(min: -127, max: 127).to(dtype: .int8)  // [M, in]
      let acc = try ATen._int_mm(qx, mat2: weight.t())  // [M, out] int32
      let sw = try weightScale.to(dtype: .float32)  // [out] or [1]
      y = try acc.to(dtype: .float32).mul(sx).mul(sw)
    }
    return x.dtype == .float32 ? y : try y.to(dtype: x.dtype)
  }

  /// Weight-only int4: `x [M, in]` → `[M, out]` in x's dtype (no bias).
  private func int4Forward(_ x: Tensor) throws -> Tensor {
    let cuda = x.device != .cpu
    if !cuda && x.shape[0] > Self.cpuKernelMaxRows {
      return try F.linear(x, weight: dequantizedWeight(dtype: x.dtype))  // [M, out]
    }
    if int4Packed?.device != x.device {
      int4Packed = nil
      int4ScalesAndZeros = nil
      let packed: Tensor
      if cuda {
        // The 2.8 CUDA kernel takes the nibble-packed uint8 [out, in/2] directly.
        packed = try ATen._convert_weight_to_int4pack(weight.to(device: x.device), innerKTiles: 8)
      } else {
        packed = try ATen._convert_weight_to_int4pack_for_cpu(Self.unpackNibbles(weight), innerKTiles: 2)
      }
      int4Packed = (x.device, packed)
    }
    let act: DType = cuda ? .bfloat16 : x.dtype
    if int4ScalesAndZeros?.dtype != act {
      // [in/g, out, 2]: scale and zero of a group side by side.
      let sz = try Tensor.stack([weightScale.t(), weightZero!.t()], dim: 2).to(device: x.device, dtype: act)
      int4ScalesAndZeros = try sz.contiguous()
    }
    let xa = try x.dtype == act ? x : x.to(dtype: act)
    let y: Tensor
    if cuda {
      y = try ATen._weight_int4pack_mm(
        xa, mat2: int4Packed!.weight, qGroupSize: groupSize, qScaleAndZeros: int4ScalesAndZeros!)
    } else {
      y = try ATen._weight_int4pack_mm_for_cpu(
        xa, mat2: int4Packed!.weight, qGroupSize: groupSize, qScaleAndZeros: int4ScalesAndZeros!)
    }
    return y.dtype == x.dtype ? y : try y.to(dtype: x.dtype)
  }

  public override var extraDescription: String {
    "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(pythonBool(bias != nil)), scheme=\(scheme.rawValue)"
      + (scheme == .int4 ? ", group_size=\(groupSize)" : "")
  }
}
