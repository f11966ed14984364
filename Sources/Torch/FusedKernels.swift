import CTorch
import Foundation

/// TorchSwift's fused CUDA kernels: `LayerNorm(residual + dropout(x))` and `dropout(activation(x))` each in
/// one kernel forward and one backward (eager libtorch runs 3–4 kernels and keeps a byte mask per element),
/// compiled on first use by NVRTC — the copy in torch's CUDA wheels — for the GPU at hand.
///
/// `F.dropoutAddLayerNorm` and `F.activationDropout` take them for CUDA tensors when `isAvailable`, and
/// otherwise run the same computation with eager ops (always on the CPU). Both give the same values as the
/// eager ops up to float rounding, but their dropout masks come from their own Philox stream (the CUDA
/// generator's seed and offset, graph-safe), so they do not reproduce `torch.nn.functional.dropout`'s masks.
/// `F.linear` takes `linear` on CUDA when the bias needs a gradient: the same cuBLAS matmul, with the bias
/// gradient summed by a fused column-sum kernel (which also sums the LayerNorm kernel's weight and bias partials).
/// Their backward is not itself differentiable (no double backward). Set `isEnabled = false`, or
/// `TORCHSWIFT_FUSED_KERNELS=0` in the environment, to use eager ops everywhere.
public enum FusedKernels {
  /// Whether the fused kernels may be used (default: true unless `TORCHSWIFT_FUSED_KERNELS=0`).
  nonisolated(unsafe) public static var isEnabled: Bool = {
    guard let v = getenv("TORCHSWIFT_FUSED_KERNELS") else { return true }
    return String(cString: v) != "0"
  }()

  /// The largest last dimension the LayerNorm kernels take (a row stays in one warp's registers).
  public static let maxNormalizedSize = 2048

  /// Whether the kernels can run here (a CUDA device, NVRTC and the driver found), and why not / NVRTC's version.
  public static let status: (available: Bool, detail: String) = {
    var ok: UInt8 = 0
    var reason: UnsafeMutablePointer<CChar>? = nil
    guard ts_fused_status(&ok, &reason) == 0 else { return (false, String(cString: ts_last_error())) }
    defer { ts_free(reason) }
    return (ok != 0, reason.map { String(cString: $0) } ?? "")
  }()

  /// Why the kernels could not be compiled or loaded on this GPU, once that happened (the eager ops run from then on).
  nonisolated(unsafe) public internal(set) static var buildFailure: String? = nil

  /// Tests only: a folder with Tests/TorchTests/KernelEmulator's files makes the fused functions also take CPU
  /// tensors and run the kernels' source on the CPU under that emulator (through the same C layer code).
  nonisolated(unsafe) static var emulator: URL? = nil {
    didSet { _ = ts_fused_set_emulator(emulator?.path) }
  }

  /// Whether the fused kernels run for tensors on `device`.
  static func runs(on device: Device) -> Bool {
    device.isCUDA ? isAvailable : (device == .cpu && emulator != nil && isEnabled)
  }

  /// `isEnabled`, `status.available` and no `buildFailure`.
  public static var isAvailable: Bool { isEnabled && buildFailure == nil && status.available }

  /// One line on whether the kernels run on this machine's GPUs: "on (NVRTC 13.0)", or "off: " and why.
  public static var summary: String {
    if isAvailable { return "on (\(status.detail))" }
    if !isEnabled { return "off: disabled (TORCHSWIFT_FUSED_KERNELS=0 or FusedKernels.isEnabled = false)" }
    return "off: \(buildFailure ?? status.detail)"
  }

  /// Runs `fused`; when the kernels cannot be compiled or loaded here (an NVRTC that does not know this GPU, a
  /// driver that rejects the image), records why in `buildFailure`, warns once (through the `torchswift.torch` logger) and returns nil so that
  /// the caller runs the eager ops. Other errors (bad input, a failed launch) are thrown.
  static func attempt<R>(_ fused: () throws -> R) throws -> R? {
    do {
      return try fused()
    } catch let error as TorchError where isBuildFailure(error.message) {
      if buildFailure == nil {
        torchLogger.warning("fused CUDA kernels unavailable, running eager ops: \(error.message)")
      }
      buildFailure = error.message
      return nil
    }
  }

  /// How the C layer's compile and load failures begin (csrc/core/jit.h, kBuildFailure).
  static let buildFailurePrefix = "TorchSwift's fused kernels cannot be built for this GPU: "

  static func isBuildFailure(_ message: String) -> Bool { message.hasPrefix(buildFailurePrefix) }

  /// Compiles every kernel variant for compute capability `arch` (90 for an H100) without a GPU; returns
  /// nil when all compile, else NVRTC's log of the first failure. Throws when NVRTC is not found.
  public static func compileCheck(arch: Int) throws -> String? {
    var log: UnsafeMutablePointer<CChar>? = nil
    try check(ts_fused_compile_check(Int32(arch), &log))
    defer { ts_free(log) }
    let text = log.map { String(cString: $0) } ?? ""
    return text.isEmpty ? nil : text
  }

  /// The fused `LayerNorm(residual + dropout(x))` and its mask bits (`ceil(D / 32)` int32 words per row, bit
  /// `c % 32` of word `c / 32` set when column `c` was kept). CUDA tensors only.
  ///
  /// With `copy`, the kernel also writes the output cast to that dtype (autocast's cast of it), and gradients
  /// flow back through both.
  public static func dropoutAddLayerNorm(
    _ x: Tensor, residual: Tensor, weight: Tensor?, bias: Tensor?, eps: Double,
    p: Double, training: Bool, copy: DType? = nil
  )
    throws -> (output: Tensor, mask: Tensor, copy: Tensor?)
  {
    var out: ts_tensor? = nil, mask: ts_tensor? = nil, low: ts_tensor? = nil
    try check(
      ts_fused_dropout_add_layer_norm(
        x.handle, residual.handle, weight?.handle, bias?.handle, p, eps,
        training ? 1 : 0, copy?.rawValue ?? -1, &out, &low, &mask))
    return (Tensor(taking: out!), Tensor(taking: mask!), low.map { Tensor(taking: $0) })
  }

  /// The fused `dropout(activation(x))` and the bits of the elements whose gradient passes (kept, and
  /// x > 0 for relu): bit `e % 32` of word `e / 32` for flat index `e`. CUDA tensors, 0 < p < 1.
  public static func activationDropout(_ x: Tensor, activation: Activation, p: Double) throws -> (
    output: Tensor, mask: Tensor
  ) {
    var out: ts_tensor? = nil, mask: ts_tensor? = nil
    try check(ts_fused_activation_dropout(x.handle, activation == .relu ? 0 : 1, p, &out, &mask))
    return (Tensor(taking: out!), Tensor(taking: mask!))
  }

  /// The boolean `[rows, columns]` mask packed in `words` (int32, `ceil(columns / 32)` words per row, bit
  /// `c % 32` of word `c / 32`): the format of the masks above (`rows: 1, columns: numel` for the activation's).
  public static func unpackMask(_ words: Tensor, rows: Int, columns: Int) throws -> Tensor {
    let perRow = (columns + 31) / 32
    guard words.shape == [rows * perRow] else {
      throw TorchError("unpackMask: expected \(rows * perRow) words for [\(rows), \(columns)], got \(words.shape)")
    }
    let shifts = try Tensor.arange(32, dtype: .int32, device: words.device)  // [32]
    let shifted = try ATen.__rshift___Tensor(try words.view([rows, perRow, 1]), other: shifts)  // [rows, W, 32]
    let bits = try ATen.bitwise_and_Scalar(shifted, other: 1)  // [rows, W, 32]
    return try bits.reshape([rows, perRow * 32]).narrow(dim: 1, start: 0, length: columns).ne(0)  // [rows, columns]
  }

  /// `residual + dropout(x)` as eager ops with a given keep mask (the kernel's, unpacked and shaped like x):
  /// x · 1/(1 − p) rounded once to x's dtype as eager dropout rounds it, zero where dropped, added in the promoted
  /// dtype. With a LayerNorm after it, what `dropoutAddLayerNorm` stands for; for checking the kernels (the tests
  /// and `torchswift gpu-selftest`), so package API, not public.
  package static func eagerResidualSum(_ x: Tensor, residual: Tensor, p: Double, keep: Tensor) throws -> Tensor {
    let scaled = try x.float().mul(.double(1 / (1 - p))).to(dtype: x.dtype)  // [..., D]
    let dropped = try ATen.where_ScalarOther(keep, self: scaled, other: .double(0))  // [..., D]
    return try residual.add(dropped)  // [..., D]
  }

  /// `dropout(activation(x))` as eager ops with a given keep mask (`activationDropout`'s bits, unpacked and shaped
  /// like x), the scaling rounded once as eager dropout; for checking the kernels (package API, not public).
  package static func eagerActivationDropout(_ x: Tensor, activation: Activation, p: Double, keep: Tensor) throws
    -> Tensor
  {
    let a = try activation == .relu ? x.relu() : x.gelu()
    let scaled = try a.float().mul(.double(1 / (1 - p))).to(dtype: x.dtype)
    return try ATen.where_ScalarOther(keep, self: scaled, other: .double(0))
  }

  /// The activations `activationDropout` fuses (GELU is the exact, erf form).
  public enum Activation: Sendable { case relu, gelu }

  static let fusableTypes: Set<DType> = [.float32, .float16, .bfloat16]

  /// `x Wᵀ + b` as `at::linear` (autocast's casts included), whose backward sums the bias gradient with a fused,
  /// deterministic column-sum kernel instead of libtorch's generic reduction and a cast. CUDA tensors only.
  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    var out: ts_tensor? = nil
    try check(ts_fused_linear(x.handle, weight.handle, bias?.handle, &out))
    return Tensor(taking: out!)
  }

  /// Whether `F.linear` takes the fused `linear` for these inputs: a bias that needs its gradient, on a device where
  /// the kernels run, with dtypes that at::linear (or autocast) would accept.
  static func takesLinear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Bool {
    guard let bias, bias.requiresGrad, runs(on: x.device), x.dim >= 1, weight.dim == 2, weight.shape[0] > 0,
      weight.shape[1] > 0, x.shape.last == weight.shape[1], weight.device == x.device, bias.device == x.device,
      bias.shape == [weight.shape[0]], fusableTypes.contains(x.dtype), fusableTypes.contains(weight.dtype),
      bias.dtype == weight.dtype
    else { return false }
    return x.dtype == weight.dtype || autocastDType(x.device) != nil
  }

  /// Whether `dropoutAddLayerNorm` takes these inputs (else the eager ops run).
  static func takes(_ x: Tensor, residual: Tensor, weight: Tensor?, bias: Tensor?, p: Double) -> Bool {
    guard runs(on: x.device), p < 1, residual.device == x.device,
      fusableTypes.contains(x.dtype), fusableTypes.contains(residual.dtype)
    else { return false }
    let shape = x.shape
    guard let d = shape.last, d >= 1, d <= maxNormalizedSize, residual.shape == shape else { return false }
    for t in [weight, bias].compactMap({ $0 }) {
      guard t.shape == [d], t.device == x.device, fusableTypes.contains(t.dtype) else { return false }
    }
    return true
  }
}

extension F {
  /// `layerNorm(residual + dropout(x, p, training))` over the last dimension (`normalizedShape = [D]`):
  /// the post-norm residual tail of a Transformer layer (BERT's `SelfOutput`/`Output`, PyTorch's
  /// `TransformerEncoderLayer`). One fused kernel on CUDA (see `FusedKernels`), eager ops elsewhere.
  /// Under CUDA autocast the result is float32, as eager `layer_norm` under autocast, and comes with its
  /// low-precision copy from the same kernel, which `F.linear` takes instead of casting it again.
  public static func dropoutAddLayerNorm(
    _ x: Tensor, residual: Tensor, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5,
    p: Double, training: Bool
  ) throws -> Tensor {
    guard p >= 0, p <= 1 else { throw TorchError("dropout probability has to be between 0 and 1, but got \(p)") }
    if FusedKernels.takes(x, residual: residual, weight: weight, bias: bias, p: p) {
      // Under autocast the float32 output feeds a matmul next: the kernel also writes its low-precision copy,
      // which F.linear takes instead of casting.
      let lowPrecision = autocastDType(x.device)
      if let r = try FusedKernels.attempt({
        try FusedKernels.dropoutAddLayerNorm(
          x, residual: residual, weight: weight, bias: bias, eps: eps, p: p,
          training: training, copy: lowPrecision)
      }) {
        if let copy = r.copy, r.output.dtype == .float32 { r.output.autocastCopy = (copy, r.output.version) }
        return r.output
      }
    }
    let dropped = try dropout(x, p: p, training: training)  // [..., D]
    let sum = try residual.add(dropped)  // [..., D]
    return try layerNorm(sum, normalizedShape: [x.shape.last ?? 0], weight: weight, bias: bias, eps: eps)  // [..., D]
  }

  /// `dropout(activation(x), p, training)`: the feed-forward middle of a Transformer layer. One fused kernel
  /// on CUDA in training with 0 < p < 1 (see `FusedKernels`), eager ops otherwise.
  public static func activationDropout(
    _ x: Tensor, activation: FusedKernels.Activation, p: Double,
    training: Bool
  ) throws -> Tensor {
    guard p >= 0, p <= 1 else { throw TorchError("dropout probability has to be between 0 and 1, but got \(p)") }
    if training, p > 0, p < 1, FusedKernels.runs(on: x.device), FusedKernels.fusableTypes.contains(x.dtype),
      let r = try FusedKernels.attempt({ try FusedKernels.activationDropout(x, activation: activation, p: p) })
    {
      return r.output
    }
    let a = try activation == .relu ? x.relu() : x.gelu()
    return try dropout(a, p: p, training: training)
  }
}
