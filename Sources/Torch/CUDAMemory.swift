import CTorch

/// GPU memory, device properties, pinned memory and CUDA graphs (`torch.cuda.*`).
extension CUDA {
  public struct MemoryStats: Equatable {
    public var allocated: Int
    public var peakAllocated: Int
    public var reserved: Int
    public var peakReserved: Int
  }

  public struct DeviceProperties {
    public var name: String
    public var totalMemory: Int
    public var major: Int
    public var minor: Int
    public var multiprocessors: Int
    /// TF32 tensor cores: compute capability 8.0 (Ampere) or newer.
    public var supportsTF32: Bool { major >= 8 }
    /// bfloat16 tensor cores: compute capability 8.0 or newer.
    public var supportsBF16: Bool { major >= 8 }
  }

  /// The caching allocator's statistics for `device` (`torch.cuda.memory_allocated`, `max_memory_allocated`, …).
  public static func memoryStats(_ device: Int = 0) throws -> MemoryStats {
    var s = [Int64](repeating: 0, count: 4)
    try check(ts_cuda_memory_stats(Int32(device), &s))
    return MemoryStats(allocated: Int(s[0]), peakAllocated: Int(s[1]), reserved: Int(s[2]), peakReserved: Int(s[3]))
  }

  public static func resetPeakMemoryStats(_ device: Int = 0) throws {
    try check(ts_cuda_reset_peak_memory_stats(Int32(device)))
  }

  /// Releases cached, unused GPU memory (`torch.cuda.empty_cache()`).
  public static func emptyCache() throws { try check(ts_cuda_empty_cache()) }

  /// Frees the cuBLAS workspaces libtorch keeps for each stream that ran a matmul; `emptyCache` leaves them
  /// (`torch._C._cuda_clearCublasWorkspaces()`). They count in `memoryStats().allocated`.
  public static func clearCublasWorkspaces() throws { try check(ts_cuda_clear_cublas_workspaces()) }

  public static func properties(_ device: Int = 0) throws -> DeviceProperties {
    var name: UnsafeMutablePointer<CChar>? = nil
    var total: Int64 = 0
    var major: Int32 = 0, minor: Int32 = 0, sms: Int32 = 0
    try check(ts_cuda_device_properties(Int32(device), &name, &total, &major, &minor, &sms))
    defer { ts_free(name) }
    return DeviceProperties(
      name: String(cString: name!), totalMemory: Int(total), major: Int(major), minor: Int(minor),
      multiprocessors: Int(sms))
  }

  /// The NVIDIA driver's supported CUDA version and the loaded CUDA runtime's version ("12.8"), when present.
  public static var driverAndRuntimeVersions: (driver: String?, runtime: String?) {
    var d: Int32 = 0, r: Int32 = 0
    _ = ts_cuda_driver_version(&d, &r)
    func fmt(_ v: Int32) -> String? { v > 0 ? "\(v / 1000).\((v % 1000) / 10)" : nil }
    return (fmt(d), fmt(r))
  }

  /// The NCCL library loaded in this process ("2.27.3"), or nil when none is loaded (CPU-only libtorch).
  public static var ncclVersion: String? {
    var v: Int32 = 0
    guard ts_nccl_runtime_version(&v) == 0, v > 0 else { return nil }
    // NCCL >= 2.9 encodes major*10000 + minor*100 + patch; older releases major*1000 + minor*100 + patch.
    return v >= 10000 ? "\(v / 10000).\((v % 10000) / 100).\(v % 100)" : "\(v / 1000).\((v % 1000) / 100).\(v % 100)"
  }

  /// The cuDNN library loaded in this process ("9.10.2"), or nil when none is loaded.
  public static var cudnnRuntimeVersion: String? {
    var v: Int64 = 0
    guard ts_cudnn_runtime_version(&v) == 0, v > 0 else { return nil }
    // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch.
    return v >= 90000 ? "\(v / 10000).\((v % 10000) / 100).\(v % 100)" : "\(v / 1000).\((v % 1000) / 100).\(v % 100)"
  }

  /// True when the C layer was compiled with CUDA headers (memory stats, streams, graphs).
  public static var hasCUDAExtensions: Bool { var b: UInt8 = 0; _ = ts_cuda_built_with_cuda_headers(&b); return b != 0 }
}

extension Tensor {
  /// A copy in page-locked host memory, so `to(device:nonBlocking: true)` copies asynchronously.
  public func pinMemory() throws -> Tensor {
    var out: ts_tensor? = nil
    try check(ts_tensor_pin_memory(&out, handle))
    return Tensor(taking: out!)
  }

  public var isPinned: Bool { var b: UInt8 = 0; query { ts_tensor_is_pinned(handle, &b) }; return b != 0 }
}

/// A captured sequence of GPU work replayed with one launch (`torch.cuda.CUDAGraph`), as
/// `torch.compile(mode="reduce-overhead")` does for whole training steps.
///
/// Limits (as in PyTorch): shapes, devices and memory addresses are fixed at capture — feed new data by
/// copying into the same input tensors; no CPU synchronisation (`item()`, printing) inside the captured
/// body; random ops use the CUDA generator registered at capture; the optimizer must keep its state on
/// the GPU (`capturable`). Use `CUDAGraph.make` for the standard recipe (warm-up on a side stream, then capture).
public final class CUDAGraph {
  private let raw: UnsafeMutableRawPointer

  public init() throws {
    var p: UnsafeMutableRawPointer? = nil
    try check(ts_cuda_graph_new(&p))
    raw = p!
  }

  deinit { ts_cuda_graph_free(raw) }

  /// Captures the GPU work `body` queues (on the graph's private stream and memory pool).
  public func capture(_ body: () throws -> Void) throws {
    try check(ts_cuda_graph_capture_begin(raw))
    var bodyError: Error? = nil
    do { try body() } catch { bodyError = error }
    let endStatus = ts_cuda_graph_capture_end(raw)
    if let bodyError { throw bodyError }
    try check(endStatus)
  }

  /// Re-runs the captured work.
  public func replay() throws { try check(ts_cuda_graph_replay(raw)) }

  /// Warms `body` up `warmup` times on a side stream (so lazy initialisation happens outside the graph),
  /// then captures it.
  public static func make(warmup: Int = 3, _ body: () throws -> Void) throws -> CUDAGraph {
    var stream: UnsafeMutableRawPointer? = nil
    try check(ts_cuda_side_stream_enter(&stream))
    do {
      for _ in 0..<warmup { try body() }
    } catch {
      _ = ts_cuda_side_stream_exit(stream)
      throw error
    }
    try check(ts_cuda_side_stream_exit(stream))
    let g = try CUDAGraph()
    try g.capture(body)
    return g
  }
}
