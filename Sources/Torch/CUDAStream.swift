import CTorch

/// A CUDA stream (`torch.cuda.Stream`): a queue of GPU work. Work on different streams may overlap; order
/// between them with `wait(_:)` or events. libtorch's ops run on their device's current stream, which
/// `withStream(_:_:)` changes for a block of code.
///
/// ```swift
/// let side = try CUDAStream(device: 0)
/// try side.wait(try CUDAStream.current(device: 0))     // see what the main stream has queued so far
/// let y = try withStream(side) { try x.matmul(w) }        // runs on `side`
/// try CUDAStream.current(device: 0).wait(side)             // the main stream waits before using y
/// ```
public final class CUDAStream: CustomStringConvertible {
  let raw: UnsafeMutableRawPointer

  private init(device: Int, kind: Int32) throws {
    var p: UnsafeMutableRawPointer? = nil
    try check(ts_cuda_stream_get(Int32(device), kind, &p))
    raw = p!
  }

  init(adopting raw: UnsafeMutableRawPointer) { self.raw = raw }

  /// A new stream from libtorch's pool (`torch.cuda.Stream(device, priority)`); `highPriority` picks the
  /// high-priority pool.
  public convenience init(device: Int = 0, highPriority: Bool = false) throws {
    try self.init(device: device, kind: highPriority ? 1 : 0)
  }

  deinit { ts_cuda_stream_free(raw) }

  /// The stream libtorch's ops on `device` currently run on (`torch.cuda.current_stream(device)`).
  public static func current(device: Int = 0) throws -> CUDAStream { try CUDAStream(device: device, kind: 2) }

  /// The device's default (legacy null) stream (`torch.cuda.default_stream(device)`).
  public static func defaultStream(device: Int = 0) throws -> CUDAStream { try CUDAStream(device: device, kind: 3) }

  private var info: (id: Int64, device: Int32, priority: Int32) {
    var id: Int64 = 0, device: Int32 = 0, priority: Int32 = 0
    _ = ts_cuda_stream_info(raw, &id, &device, &priority)
    return (id, device, priority)
  }

  /// libtorch's id of the stream (equal ids: the same stream).
  public var id: Int64 { info.id }
  public var deviceIndex: Int { Int(info.device) }
  /// The stream's priority (lower numbers run first).
  public var priority: Int { Int(info.priority) }

  /// Blocks the host until all work queued on the stream has finished.
  public func synchronize() throws { try check(ts_cuda_stream_synchronize(raw)) }

  /// Whether all work queued on the stream has finished (`Stream.query()`).
  public func query() throws -> Bool {
    var done: UInt8 = 0
    try check(ts_cuda_stream_query(raw, &done))
    return done != 0
  }

  /// Makes this stream wait, on the GPU, for the work queued so far on `other` (`wait_stream`).
  public func wait(_ other: CUDAStream) throws { try check(ts_cuda_stream_wait_stream(raw, other.raw)) }

  /// Makes this stream wait, on the GPU, for the work recorded by `event` (`wait_event`).
  public func wait(_ event: CUDAEvent) throws { try check(ts_cuda_event_block(event.raw, raw)) }

  /// Records an event on this stream and returns it (`record_event`).
  public func recordEvent(enableTiming: Bool = false) throws -> CUDAEvent {
    let e = try CUDAEvent(enableTiming: enableTiming)
    try e.record(on: self)
    return e
  }

  public var description: String { "CUDAStream(device=cuda:\(deviceIndex), id=\(id), priority=\(priority))" }
}

extension Tensor {
  /// Marks this CUDA tensor as used by `stream` (`Tensor.record_stream`): when it is freed, its memory is not
  /// reused before the work queued on `stream` so far has finished. Needed when a tensor made on one stream
  /// is consumed on another and may be dropped before that stream is done.
  public func recordStream(_ stream: CUDAStream) throws { try check(ts_tensor_record_stream(handle, stream.raw)) }
}

/// Runs `body` with `stream` as its device's current stream (`with torch.cuda.stream(stream):`), then restores
/// the previous one, also when `body` throws. Tensors made inside are used on other streams only after those
/// wait for `stream`.
public func withStream<R>(_ stream: CUDAStream, _ body: () throws -> R) throws -> R {
  var previous: UnsafeMutableRawPointer? = nil
  try check(ts_cuda_stream_set_current(stream.raw, &previous))
  let old = CUDAStream(adopting: previous!)
  defer { _ = ts_cuda_stream_set_current(old.raw, nil) }
  return try body()
}

/// A CUDA event (`torch.cuda.Event`): a marker in a stream's work, to wait for from the host or from
/// another stream, and, with `enableTiming`, to time GPU work between two of them.
public final class CUDAEvent {
  let raw: UnsafeMutableRawPointer

  public init(enableTiming: Bool = false) throws {
    var p: UnsafeMutableRawPointer? = nil
    try check(ts_cuda_event_new(enableTiming ? 1 : 0, &p))
    raw = p!
  }

  deinit { ts_cuda_event_free(raw) }

  /// Records the event on `stream` (default: the current stream of device 0).
  public func record(on stream: CUDAStream? = nil) throws {
    let s = try stream ?? CUDAStream.current()
    try check(ts_cuda_event_record(raw, s.raw))
  }

  /// Blocks the host until the recorded work has finished.
  public func synchronize() throws { try check(ts_cuda_event_synchronize(raw)) }

  /// Whether the recorded work has finished.
  public func query() throws -> Bool {
    var done: UInt8 = 0
    try check(ts_cuda_event_query(raw, &done))
    return done != 0
  }

  /// Milliseconds of GPU time from this event to `end` (both recorded with `enableTiming`; call after `end`
  /// has completed, e.g. after `end.synchronize()`).
  public func elapsedTime(to end: CUDAEvent) throws -> Double {
    var ms = 0.0
    try check(ts_cuda_event_elapsed_ms(raw, end.raw, &ms))
    return ms
  }
}
