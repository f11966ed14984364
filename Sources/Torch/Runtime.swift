import CTorch

#if canImport(Glibc)
  import Glibc
#endif

/// The op layer's torch version checked against the libtorch actually loaded, once: the mismatch as an error,
/// or nil when they match (or `TORCHSWIFT_ALLOW_VERSION_MISMATCH` is set). `check` throws it, so every call
/// into libtorch fails with the explanation; the library never ends the process itself.
@usableFromInline
let runtimeProblem: TorchError? = {
  guard let problem = Torch.versionProblem() else { return nil }
  return getenv("TORCHSWIFT_ALLOW_VERSION_MISMATCH") != nil ? nil : TorchError(problem)
}()

/// Process-wide libtorch settings and information (`torch.manual_seed`, `torch.set_num_threads`, versions).
public enum Torch {
  /// The torch version the generated op layer and the C layer were built for.
  public static var builtVersion: String { String(cString: ts_build_version()) }

  /// Path and version of the libtorch library loaded at run time.
  public static var runtime: (libraryPath: String, version: String) {
    var path: UnsafePointer<CChar>? = nil
    var version: UnsafePointer<CChar>? = nil
    guard ts_runtime_info(&path, &version) == 0, let path, let version else { return ("unknown", "unknown") }
    return (String(cString: path), String(cString: version))
  }

  /// A sentence explaining a mismatch between the libtorch built against and the one loaded, or nil.
  public static func versionProblem() -> String? {
    let built = builtVersion
    let (path, loaded) = runtime
    let loadedBase = loaded.split(separator: "+").first.map(String.init) ?? loaded
    if loaded == "unknown" || loadedBase == built { return nil }
    return """
      TorchSwift was built against libtorch \(built) but loaded libtorch \(loaded) from \(path). \
      Rebuild the C layer for the torch you want: run `make setup` (with LIBTORCH=/path/to/torch for your own torch), \
      or set TORCHSWIFT_ALLOW_VERSION_MISMATCH=1 to continue at your own risk.
      """
  }

  /// Throws when the libtorch loaded is not the one TorchSwift was built against (see `versionProblem`),
  /// unless `TORCHSWIFT_ALLOW_VERSION_MISMATCH` is set. Every throwing call into libtorch also throws it.
  public static func verifyRuntime() throws {
    if let runtimeProblem { throw runtimeProblem }
  }

  /// Seeds libtorch's default generators (CPU and all GPUs), as `torch.manual_seed`.
  public static func manualSeed(_ seed: UInt64) {
    trapping { try check(ts_manual_seed(seed)) }
  }

  /// Intra-op threads used by libtorch on the CPU.
  public static var numThreads: Int {
    get {
      var n: Int32 = 0
      _ = ts_get_num_threads(&n)
      return Int(n)
    }
    set { trapping { try check(ts_set_num_threads(Int32(newValue))) } }
  }

  /// Sets inter-op threads (call before any parallel work, as in PyTorch).
  public static func setNumInteropThreads(_ n: Int) throws { try check(ts_set_num_interop_threads(Int32(n))) }

  /// The CPU generator's state (a uint8 tensor), as `torch.get_rng_state()`.
  public static func rngState() throws -> Tensor {
    var out: ts_tensor? = nil
    try check(ts_get_rng_state(&out))
    return Tensor(taking: out!)
  }

  /// Restores the CPU generator's state, as `torch.set_rng_state()`.
  public static func setRNGState(_ state: Tensor) throws { try check(ts_set_rng_state(state.handle)) }

  /// libtorch's build configuration (`torch.__config__.show()`).
  public static var config: String {
    var p: UnsafeMutablePointer<CChar>? = nil
    guard ts_show_config(&p) == 0, let p else { return "" }
    defer { ts_free(p) }
    return String(cString: p)
  }

  /// The CPU instruction set libtorch dispatches to ("AVX512", "AVX2", "DEFAULT").
  public static var cpuCapability: String {
    var p: UnsafeMutablePointer<CChar>? = nil
    guard ts_cpu_capability(&p) == 0, let p else { return "unknown" }
    defer { ts_free(p) }
    return String(cString: p)
  }

  /// Whether libtorch was compiled with the C++11 ABI.
  public static var cxx11ABI: Bool { ts_cxx11_abi() != 0 }

  /// CUDA runtime and cuDNN versions libtorch was built with (nil when built without CUDA).
  public static var cudaBuildVersions: (cuda: String, cudnn: String)? {
    var rt: Int64 = 0
    var dnn: Int64 = 0
    guard ts_cuda_versions(&rt, &dnn) == 0, rt > 0 else { return nil }
    let cuda = "\(rt / 1000).\((rt % 1000) / 10)"
    let cudnn = dnn > 0 ? "\(dnn / 10000).\((dnn % 10000) / 100).\(dnn % 100)" : "unknown"
    return (cuda, cudnn)
  }
}

/// CUDA queries (`torch.cuda`).
public enum CUDA {
  /// True when libtorch's CUDA backend is loaded and at least one GPU is visible.
  public static var isAvailable: Bool {
    var b: UInt8 = 0
    return ts_cuda_is_available(&b) == 0 && b != 0
  }

  /// Number of visible GPUs (honours CUDA_VISIBLE_DEVICES).
  public static var deviceCount: Int {
    var n: Int32 = 0
    return ts_cuda_device_count(&n) == 0 ? Int(n) : 0
  }

  /// Waits for all work on the GPU to finish.
  public static func synchronize(_ device: Int = 0) throws { try check(ts_cuda_synchronize(Int32(device))) }
}
