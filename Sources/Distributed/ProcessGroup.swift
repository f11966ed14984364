import CTorch
import Foundation
import Torch

/// A c10d process group (`torch.distributed.ProcessGroup`): PyTorch's own Gloo or NCCL backend over a store.
///
///     let pg = try ProcessGroup.initFromEnvironment()          // under torchrun (env://)
///     try pg.allReduce(grad, op: .avg)
///
/// Collectives are synchronous (`async_op=False`) and bounded by the group's timeout. When one fails, the
/// error says which rank failed and how, when that can be told: every rank keeps a heartbeat in the store,
/// so a peer whose process exited or stopped is named as such, and a peer that is alive but out of step is
/// named with the last status it published (`status`, e.g. the training step it is at).
public final class ProcessGroup: @unchecked Sendable {
  let handle: ts_process_group
  public let rank: Int
  public let worldSize: Int
  /// LOCAL_RANK: the rank within this machine (the GPU index under torchrun).
  public let localRank: Int
  public let backend: Backend
  /// Collectives fail after this many seconds.
  public let timeout: Double
  /// The rendezvous store (heartbeats, statuses, the group's own keys).
  public let store: Store
  private let heartbeat: Heartbeat

  /// A group over an existing store (`ProcessGroupGloo(store, rank, size, timeout)` wrapped in a ProcessGroup).
  public init(
    store: Store, rank: Int, worldSize: Int, localRank: Int? = nil, backend: Backend = .gloo,
    timeout: Double = 1800
  ) throws {
    guard worldSize > 0 else { throw DistributedError("world size must be positive (got \(worldSize))") }
    guard (0..<worldSize).contains(rank) else {
      throw DistributedError("rank \(rank) is outside the world of \(worldSize) processes (0..\(worldSize - 1))")
    }
    guard timeout > 0 else { throw DistributedError("the process group timeout must be positive (got \(timeout) s)") }
    var out: ts_process_group? = nil
    if ts_process_group_create(
      &out, store.handle, Int32(rank), Int32(worldSize), backend.rawValue,
      Int64(timeout * 1000)) != 0
    {
      throw DistributedError(
        "rank \(rank): could not create the \(backend.rawValue) process group of \(worldSize) over \(store.name): \(lastError())"
      )
    }
    self.handle = out!
    self.rank = rank
    self.worldSize = worldSize
    self.localRank = localRank ?? rank
    self.backend = backend
    self.timeout = timeout
    self.store = store
    self.heartbeat = Heartbeat(store: store, rank: rank)
    heartbeat.start()
  }

  deinit {
    heartbeat.stop()
    ts_process_group_free(handle)
  }

  /// `torch.distributed.init_process_group(backend, init_method="env://", timeout=…)`: reads torchrun's
  /// variables (see `DistributedEnvironment`), connects to the rendezvous store and builds the group.
  /// `backend` nil: NCCL when `device` is a CUDA device, else Gloo.
  public static func initFromEnvironment(
    backend: Backend? = nil, device: Device = .cpu, timeout: Double = 1800,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> ProcessGroup {
    let env = try DistributedEnvironment.read(environment)
    let chosen = backend ?? (device.isCUDA ? .nccl : .gloo)
    if chosen == .nccl, !Self.availableBackends.contains(.nccl) {
      throw DistributedError(
        "backend nccl is not available in this build (a CUDA torch and nccl.h are needed at build time); use gloo")
    }
    if chosen == .gloo, !Self.availableBackends.contains(.gloo) {
      throw DistributedError(
        "backend gloo is not available in this build (gloo's headers were missing: install libgloo-dev and run make setup)"
      )
    }
    let store: Store
    do {
      store = try env.makeStore(timeout: timeout)
    } catch {
      throw DistributedError(
        "rank \(env.rank): could not reach the rendezvous store at \(env.masterAddr):\(env.masterPort)\(env.useAgentStore ? " (torchrun's agent)" : env.rank == 0 ? " (hosted by this rank)" : " (hosted by rank 0)"): \(error)"
      )
    }
    return try ProcessGroup(
      store: store, rank: env.rank, worldSize: env.worldSize, localRank: env.localRank,
      backend: chosen, timeout: timeout)
  }

  /// The backends this build carries.
  public static var availableBackends: [Backend] {
    var gloo: UInt8 = 0
    var nccl: UInt8 = 0
    _ = ts_distributed_backends(&gloo, &nccl)
    return (gloo != 0 ? [Backend.gloo] : []) + (nccl != 0 ? [Backend.nccl] : [])
  }

  /// What this rank is doing, published with its heartbeat and quoted when a peer's collective fails.
  public var status: String {
    get { heartbeat.status }
    set { heartbeat.status = newValue }
  }

  // MARK: collectives

  /// `dist.all_reduce(tensor, op)`: every rank ends with the reduction of all ranks' tensors, in place.
  public func allReduce(_ tensor: Tensor, op: ReduceOp = .sum) throws {
    try run("all_reduce") { ts_process_group_allreduce(handle, [tensor.handle], 1, op.rawValue) }
  }

  /// `dist.all_reduce_coalesced(tensors, op)`: several tensors in one collective.
  public func allReduceCoalesced(_ tensors: [Tensor], op: ReduceOp = .sum) throws {
    guard !tensors.isEmpty else { return }
    let handles: [ts_tensor?] = tensors.map { $0.handle }
    try run("all_reduce_coalesced") {
      ts_process_group_allreduce_coalesced(handle, handles, Int64(handles.count), op.rawValue)
    }
  }

  /// `dist.broadcast(tensor, src)`: rank `src`'s tensor copied into every rank's, in place.
  public func broadcast(_ tensor: Tensor, src: Int = 0) throws {
    try run("broadcast") { ts_process_group_broadcast(handle, [tensor.handle], 1, Int32(src)) }
  }

  /// `dist._broadcast_coalesced`: many tensors from `src`, flattened into buckets of `bucketBytes` (how DDP
  /// synchronises a module's parameters and buffers).
  public func broadcastCoalesced(_ tensors: [Tensor], src: Int = 0, bucketBytes: Int = 250 * 1024 * 1024) throws {
    guard !tensors.isEmpty else { return }
    let handles: [ts_tensor?] = tensors.map { $0.handle }
    try run("broadcast_coalesced") {
      ts_process_group_broadcast_coalesced(handle, handles, Int64(handles.count), Int64(bucketBytes), Int32(src))
    }
  }

  /// `dist.all_gather(tensor_list, tensor)`: `outputs[r]` receives rank r's `input`.
  public func allGather(_ outputs: [Tensor], _ input: Tensor) throws {
    let handles: [ts_tensor?] = outputs.map { $0.handle }
    try run("all_gather") { ts_process_group_allgather(handle, handles, Int64(handles.count), input.handle) }
  }

  /// `dist.all_gather_into_tensor(output, input)`: the ranks' inputs concatenated along dim 0 into `output`.
  public func allGather(intoTensor output: Tensor, _ input: Tensor) throws {
    try run("all_gather_into_tensor") { ts_process_group_allgather_into_tensor(handle, output.handle, input.handle) }
  }

  /// `dist.reduce_scatter_tensor(output, input, op)`: `input` (world × output elements) reduced across ranks;
  /// rank r keeps chunk r.
  public func reduceScatter(intoTensor output: Tensor, _ input: Tensor, op: ReduceOp = .sum) throws {
    try run("reduce_scatter_tensor") {
      ts_process_group_reduce_scatter_tensor(handle, output.handle, input.handle, op.rawValue)
    }
  }

  /// `dist.barrier()`.
  public func barrier() throws {
    try run("barrier") { ts_process_group_barrier(handle) }
  }

  /// All-reduces plain numbers (metrics) through a float64 tensor.
  public func allReduce(_ values: [Double], op: ReduceOp = .sum) throws -> [Double] {
    guard !values.isEmpty else { return [] }
    let t = try Tensor(values, shape: [values.count])
    try allReduce(t, op: op)
    return try t.toArray(Double.self)
  }

  private func run(_ name: String, _ body: () -> Int32) throws {
    heartbeat.collectives += 1
    if body() != 0 {
      let message = lastError()
      throw explain(DistributedError(message), during: name)
    }
  }

  // MARK: failures

  /// Turns a collective's failure (also one raised inside backward by DDP's Reducer) into an error naming the
  /// rank that failed and why, from the peers' heartbeats in the store: a rank whose heartbeat stopped (its
  /// process exited, was killed or stopped), or, when all are alive, each peer's last status.
  public func explain(_ error: Error, during operation: String = "a collective") -> DistributedError {
    let original = (error as? DistributedError)?.message ?? "\(error)"
    if original.hasPrefix("rank ") && original.contains("distributed job failed") { return DistributedError(original) }
    let diagnosis = heartbeat.diagnose(worldSize: worldSize, window: 3.5)
    return DistributedError(
      "rank \(rank): distributed job failed in \(operation): \(diagnosis) (\(backend.rawValue): \(original.split(separator: "\n").first ?? ""))"
    )
  }
}

/// Each rank's heartbeat in the store ("ts_heartbeat/<rank>", a counter bumped every second by a thread)
/// beside its status and collective count, read back by `diagnose` when a collective fails.
final class Heartbeat: @unchecked Sendable {
  let store: Store
  let rank: Int
  private let lock = NSLock()
  private var _status = "started"
  private var running = true
  private var thread: Thread?
  private let stopped = DispatchSemaphore(value: 0)
  var collectives = 0

  init(store: Store, rank: Int) {
    self.store = store
    self.rank = rank
  }

  var status: String {
    get { lock.withLock { _status } }
    set { lock.withLock { _status = newValue } }
  }

  func start() {
    beat()
    let t = Thread { [weak self] in
      while let self, self.isRunning {
        self.beat()
        Thread.sleep(forTimeInterval: 1.0)
      }
      self?.stopped.signal()
    }
    t.name = "torchswift-heartbeat"
    thread = t
    t.start()
  }

  private var isRunning: Bool { lock.withLock { running } }

  func stop() {
    let wasRunning = lock.withLock { () -> Bool in
      let r = running
      running = false
      return r
    }
    if wasRunning, thread != nil { _ = stopped.wait(timeout: .now() + 2) }
  }

  private func beat() {
    _ = try? store.add("ts_heartbeat/\(rank)", 1)
    try? store.set("ts_status/\(rank)", "\(status) [collective #\(collectives)]")
  }

  /// Which peers stopped beating over `window` seconds, or every peer's status when all are alive.
  func diagnose(worldSize: Int, window: Double) -> String {
    let peers = (0..<worldSize).filter { $0 != rank }
    func counters() -> [Int: Int]? {
      var out: [Int: Int] = [:]
      for p in peers {
        guard let v = try? store.add("ts_heartbeat/\(p)", 0) else { return nil }
        out[p] = v
      }
      return out
    }
    guard let before = counters() else {
      return
        "the rendezvous store (\(store.name)) is unreachable: the process hosting it (rank 0, or torchrun's agent) has exited"
    }
    Thread.sleep(forTimeInterval: window)
    guard let after = counters() else {
      return
        "the rendezvous store (\(store.name)) became unreachable: the process hosting it (rank 0, or torchrun's agent) has exited"
    }
    let dead = peers.filter { after[$0] == before[$0] }
    if !dead.isEmpty {
      let names = dead.map { "rank \($0)" }.joined(separator: ", ")
      return
        "\(names) stopped responding: no heartbeat for \(String(format: "%.1f", window)) s (its process exited, was killed or is stopped)"
    }
    let statuses = peers.map { p -> String in
      let s = (try? store.check("ts_status/\(p)")) == true ? ((try? store.getString("ts_status/\(p)")) ?? "?") : "?"
      return "rank \(p): \(s)"
    }.joined(separator: "; ")
    return
      "every rank is alive, but the collective did not complete (a rank is out of step or stuck; this rank: \(status) [collective #\(collectives)]; \(statuses))"
  }
}
