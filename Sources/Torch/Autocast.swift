import CTorch

/// Runs `body` under libtorch's autocast for `device` (`with torch.autocast(device, dtype):`): eligible ops
/// (matmul, linear, sdpa, …) run in `dtype`, precision-sensitive ones (softmax, layer_norm, losses) in float32.
/// Autocast state is thread-local, so `body` runs synchronously on this thread. Regions nest.
/// `cacheEnabled: false` turns off the cache of casted weights (`torch.autocast(cache_enabled=False)`), as
/// needed when the region is captured in a CUDA graph.
public func withAutocast<R>(
  _ dtype: DType, device: Device = .cpu, enabled: Bool = true, cacheEnabled: Bool = true,
  _ body: () throws -> R
) throws -> R {
  guard dtype == .float16 || dtype == .bfloat16 else {
    throw TorchError("autocast supports float16 and bfloat16, got \(dtype)")
  }
  let type = device.typeCode
  var wasEnabled: UInt8 = 0
  var oldDType: Int32 = 0
  try check(ts_autocast_is_enabled(type, &wasEnabled))
  try check(ts_autocast_get_dtype(type, &oldDType))
  var oldCache: UInt8 = 0
  try check(ts_autocast_is_cache_enabled(&oldCache))
  try check(ts_autocast_set_cache_enabled(cacheEnabled ? 1 : 0))
  try check(ts_autocast_set_enabled(type, enabled ? 1 : 0))
  try check(ts_autocast_set_dtype(type, dtype.rawValue))
  try check(ts_autocast_enter())
  defer {
    _ = ts_autocast_exit()
    _ = ts_autocast_set_enabled(type, wasEnabled)
    _ = ts_autocast_set_dtype(type, oldDType)
    _ = ts_autocast_set_cache_enabled(oldCache)
  }
  return try body()
}

/// Global backend switches (`torch.backends.*`).
public enum Backends {
  /// TF32 tensor cores for float32 matmuls on Ampere and newer (`torch.backends.cuda.matmul.allow_tf32`).
  public static var allowTF32Matmul: Bool {
    get { var b: UInt8 = 0; _ = ts_allow_tf32_matmul(&b); return b != 0 }
    set { _ = ts_set_allow_tf32_matmul(newValue ? 1 : 0) }
  }
  /// TF32 in cuDNN convolutions (`torch.backends.cudnn.allow_tf32`).
  public static var allowTF32CuDNN: Bool {
    get { var b: UInt8 = 0; _ = ts_allow_tf32_cudnn(&b); return b != 0 }
    set { _ = ts_set_allow_tf32_cudnn(newValue ? 1 : 0) }
  }
  /// cuDNN autotuning (`torch.backends.cudnn.benchmark`).
  public static var cudnnBenchmark: Bool {
    get { var b: UInt8 = 0; _ = ts_cudnn_benchmark(&b); return b != 0 }
    set { _ = ts_set_cudnn_benchmark(newValue ? 1 : 0) }
  }
  /// `torch.use_deterministic_algorithms(on, warn_only:)`.
  public static func useDeterministicAlgorithms(_ on: Bool, warnOnly: Bool = false) throws {
    try check(ts_set_deterministic(on ? 1 : 0, warnOnly ? 1 : 0))
  }
  public static var deterministicAlgorithms: Bool { var b: UInt8 = 0; _ = ts_deterministic(&b); return b != 0 }
}

/// The dtype autocast casts to on `device`, or nil when autocast is off there
/// (`torch.is_autocast_enabled(device)` and `torch.get_autocast_dtype(device)`).
public func autocastDType(_ device: Device) -> DType? {
  var on: UInt8 = 0
  var raw: Int32 = 0
  guard ts_autocast_is_enabled(device.typeCode, &on) == 0, on != 0,
    ts_autocast_get_dtype(device.typeCode, &raw) == 0
  else { return nil }
  return DType(rawValue: raw)
}
