import CTorch
import NN
import Torch

/// `torch.nn.parallel.DistributedDataParallel` on libtorch's own `c10d::Reducer`: gradients are averaged
/// across ranks during backward, bucket by bucket as they become ready (overlapping communication with the
/// rest of backward), with PyTorch's defaults — parameters and buffers broadcast from rank 0 at construction,
/// one bucket for the first iteration, then buckets rebuilt in the order gradients arrived (1 MB first, then
/// 25 MB), buffers broadcast from rank 0 before each forward.
///
///     let ddp = try DistributedDataParallel(model, processGroup: pg)
///     let loss = try ddp.forward { try model(inputIds: x, labels: y).loss! }
///     try loss.backward()                // gradients are the average over ranks here
///     try optimizer.step()
///
///     try ddp.noSync { … }               // accumulate locally (gradient accumulation), reduce on the next forward
public final class DistributedDataParallel {
  public let module: Module
  public let processGroup: ProcessGroup
  public let findUnusedParameters: Bool
  public let broadcastBuffers: Bool
  /// The parameters the Reducer averages (those that require gradients, in the module's order).
  public let parameters: [Tensor]
  private let reducer: ts_reducer
  private var syncGradients = true

  /// - Parameters:
  ///   - bucketCapMB: the bucket size (PyTorch's `bucket_cap_mb`, 25).
  ///   - findUnusedParameters: searches the graph from the outputs for parameters the forward did not use and
  ///     marks them ready, so that their buckets still reduce (PyTorch's `find_unused_parameters`).
  ///   - gradientAsBucketView: gradients are views into the buckets (saves one copy of the gradients).
  public init(
    _ module: Module, processGroup: ProcessGroup, bucketCapMB: Double = 25, findUnusedParameters: Bool = false,
    broadcastBuffers: Bool = true, gradientAsBucketView: Bool = false
  ) throws {
    self.module = module
    self.processGroup = processGroup
    self.findUnusedParameters = findUnusedParameters
    self.broadcastBuffers = broadcastBuffers
    parameters = module.parameters().filter(\.requiresGrad)
    guard !parameters.isEmpty else {
      throw DistributedError("DistributedDataParallel: the module has no parameters that require gradients")
    }
    // _sync_module_states: rank 0's parameters and buffers everywhere (250 MB broadcast buckets).
    try withNoGrad {
      try processGroup.broadcastCoalesced(module.parameters() + module.buffers(), src: 0)
    }
    let handles: [ts_tensor?] = parameters.map { $0.handle }
    var out: ts_reducer? = nil
    var buckets: Int64 = 0
    let bucketBytes = Int64(bucketCapMB * 1024 * 1024)
    if ts_reducer_create(
      &out, handles, Int64(handles.count), processGroup.handle, bucketBytes, 1024 * 1024,
      findUnusedParameters ? 1 : 0, gradientAsBucketView ? 1 : 0, &buckets) != 0
    {
      throw DistributedError("DistributedDataParallel: \(lastError())")
    }
    reducer = out!
  }

  deinit { _ = ts_reducer_free(reducer) }

  /// Runs the module's forward (the closure) as DDP's `forward`: rebuilds buckets when due, broadcasts buffers,
  /// and arms the Reducer so that the next backward averages gradients. `outputs` picks the tensors the
  /// backward starts from (needed with `findUnusedParameters`; the default takes the result when it is a Tensor).
  public func forward<T>(_ body: () throws -> T, outputs: (T) -> [Tensor] = { ($0 as? Tensor).map { [$0] } ?? [] })
    throws -> T
  {
    let grad = isGradEnabled
    if grad && syncGradients { try check(ts_reducer_prepare_for_forward(reducer), "prepare_for_forward") }
    if grad {
      var rebuilt: UInt8 = 0
      try check(ts_reducer_rebuild_buckets(reducer, &rebuilt), "rebuilding buckets")
    }
    if broadcastBuffers {
      let buffers = module.buffers()
      if !buffers.isEmpty { try withNoGrad { try processGroup.broadcastCoalesced(buffers, src: 0) } }
    }
    let result = try body()
    if grad && syncGradients {
      let outs: [ts_tensor?] = findUnusedParameters ? outputs(result).map { $0.handle } : []
      try check(ts_reducer_prepare_for_backward(reducer, outs, Int64(outs.count)), "prepare_for_backward")
    }
    return result
  }

  /// `with ddp.no_sync():` — forwards and backwards inside accumulate gradients locally; the first forward
  /// after it synchronises again, so its backward averages the accumulated sum.
  public func noSync<T>(_ body: () throws -> T) rethrows -> T {
    let previous = syncGradients
    syncGradients = false
    defer { syncGradients = previous }
    return try body()
  }

  /// How many gradient buckets the Reducer uses now.
  public var bucketCount: Int {
    var n: Int64 = 0
    _ = ts_reducer_bucket_count(reducer, &n)
    return Int(n)
  }

  private func check(_ status: Int32, _ what: String) throws {
    if status != 0 { throw processGroup.explain(DistributedError(lastError()), during: "DDP \(what)") }
  }
}

var isGradEnabled: Bool { Autograd.isGradEnabled }
