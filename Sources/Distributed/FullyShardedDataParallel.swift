import CTorch
import NN
import Torch

/// Fully sharded data parallelism in the style of FSDP2 (`torch.distributed.fsdp.fully_shard`): every
/// parameter is flattened, padded to a multiple of the world size and split, each rank keeping one flat
/// shard (`shardedParameters`, the leaves the optimizer updates — so the optimizer state is sharded too).
/// Each unit (a layer, and the root for the rest) is all-gathered in one collective for the forward; the
/// gradients flow back through the same unit, whose backward reduce-scatters them (one collective per unit,
/// averaged over ranks) straight into the shards' `.grad`.
///
///     let fsdp = try FullyShardedDataParallel(model, processGroup: pg, units: model.bert.encoder.layer.children())
///     let opt = try AdamW(fsdp.shardedParameters, lr: 5e-5)
///     let loss = try fsdp.forward { try model(inputIds: x, labels: y).loss! }
///     try loss.backward(); try opt.step()
///
/// Between forwards the module's parameters are empty placeholders: only the shards hold memory. During a
/// forward and its backward the gathered parameters live as long as autograd keeps them for the backward
/// (FSDP2's `reshard_after_forward=False` for the saved tensors; the module itself holds none after forward).
public final class FullyShardedDataParallel {
  public let module: Module
  public let processGroup: ProcessGroup

  /// One all-gather / reduce-scatter unit.
  struct Unit {
    var names: [String]
    /// The module's own parameter objects (their handles are rebound to the gathered tensors for a forward).
    var slots: [Tensor]
    var shards: [Tensor]
    var shapes: [[Int]]
    var placeholders: [Tensor]
  }
  private var units: [Unit] = []
  /// This rank's shard of each parameter, in the module's parameter order (flat, ⌈numel / world⌉ elements).
  public private(set) var shardedParameters: [Tensor] = []
  private var shardOf: [ObjectIdentifier: Tensor] = [:]
  private var gathered = false

  /// - Parameter units: sub-modules that each form a unit (e.g. the encoder's layers); the parameters not in
  ///   any of them form the root unit. Parameters are broadcast from rank 0 first, as DDP does.
  public init(_ module: Module, processGroup: ProcessGroup, units unitModules: [Module] = []) throws {
    self.module = module
    self.processGroup = processGroup
    let named = module.namedParameters()
    try withNoGrad { try processGroup.broadcastCoalesced(named.map(\.1) + module.buffers(), src: 0) }
    var taken = Set<ObjectIdentifier>()
    var groups: [[(String, Tensor)]] = []
    for m in unitModules {
      let ids = Set(m.parameters().map(ObjectIdentifier.init))
      let members = named.filter { ids.contains(ObjectIdentifier($0.1)) && !taken.contains(ObjectIdentifier($0.1)) }
      members.forEach { taken.insert(ObjectIdentifier($0.1)) }
      if !members.isEmpty { groups.append(members) }
    }
    let rest = named.filter { !taken.contains(ObjectIdentifier($0.1)) }
    if !rest.isEmpty { groups.insert(rest, at: 0) }
    let world = processGroup.worldSize
    let rank = processGroup.rank
    try withNoGrad {
      for members in groups {
        var unit = Unit(names: [], slots: [], shards: [], shapes: [], placeholders: [])
        for (name, p) in members {
          let numel = p.numel
          let chunk = (numel + world - 1) / world
          let flat = try p.detach().reshape([-1])
          let padded = try Tensor.zeros([chunk * world], dtype: p.dtype, device: p.device)
          if numel > 0 { try padded.narrow(dim: 0, start: 0, length: numel).copy_(flat) }
          let shard = try padded.narrow(dim: 0, start: rank * chunk, length: chunk).clone()
          try shard.requiresGrad_(p.requiresGrad)
          let placeholder = try Tensor.empty([0], dtype: p.dtype, device: p.device)
          try placeholder.requiresGrad_(p.requiresGrad)
          unit.names.append(name)
          unit.slots.append(p)
          unit.shards.append(shard)
          unit.shapes.append(p.shape)
          unit.placeholders.append(placeholder)
          shardOf[ObjectIdentifier(p)] = shard
        }
        units.append(unit)
      }
    }
    shardedParameters = units.flatMap(\.shards)
    reshard()
  }

  /// The shard standing for one of the module's parameters (e.g. to build decay / no-decay groups).
  public func shard(of parameter: Tensor) -> Tensor? { shardOf[ObjectIdentifier(parameter)] }

  /// Runs the module's forward (the closure) with every unit gathered; the module's parameters are
  /// placeholders again when it returns.
  public func forward<T>(_ body: () throws -> T) throws -> T {
    try unshard()
    defer { reshard() }
    return try body()
  }

  private func unshard() throws {
    for unit in units {
      let handles: [ts_tensor?] = unit.shards.map { $0.handle }
      var outs = [ts_tensor?](repeating: nil, count: handles.count)
      let numels = unit.shapes.map { Int64($0.reduce(1, *)) }
      let shapes = unit.shapes.flatMap { $0.map(Int64.init) }
      let ndims = unit.shapes.map { Int64($0.count) }
      if ts_fsdp_unshard(&outs, handles, Int64(handles.count), processGroup.handle, numels, shapes, ndims) != 0 {
        throw processGroup.explain(
          DistributedError(lastError()), during: "FSDP all-gather of \(unit.names.first ?? "a unit")")
      }
      for (slot, out) in zip(unit.slots, outs) {
        let full = Tensor(taking: out!)
        _ = ts_tensor_rebind(slot.handle, full.handle)
      }
    }
    gathered = true
  }

  private func reshard() {
    for unit in units {
      for (slot, placeholder) in zip(unit.slots, unit.placeholders) {
        _ = ts_tensor_rebind(slot.handle, placeholder.handle)
      }
    }
    gathered = false
  }

  /// The full (unsharded) parameters and buffers by state-dict name, on every rank (one all-gather per
  /// parameter): what a checkpoint or an HF export writes.
  public func fullStateDict() throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    try withNoGrad {
      for unit in units {
        for (name, (shard, shape)) in zip(unit.names, zip(unit.shards, unit.shapes)) {
          let all = try Tensor.empty([shard.numel * processGroup.worldSize], dtype: shard.dtype, device: shard.device)
          try processGroup.allGather(intoTensor: all, shard.detach())
          out[name] = try all.narrow(dim: 0, start: 0, length: shape.reduce(1, *)).reshape(shape).clone()
        }
      }
    }
    return out
  }

  /// Runs `body` with the module holding its full parameters (no autograd): export, evaluation on one rank.
  public func withFullParameters<T>(_ body: () throws -> T) throws -> T {
    let full = try fullStateDict()
    for unit in units {
      for (name, slot) in zip(unit.names, unit.slots) { _ = ts_tensor_rebind(slot.handle, full[name]!.handle) }
    }
    defer { reshard() }
    return try body()
  }

  /// Loads full parameters (e.g. from a checkpoint written by `fullStateDict`) into this rank's shards.
  public func loadFull(_ state: [String: Tensor]) throws {
    let world = processGroup.worldSize
    try withNoGrad {
      for unit in units {
        for (name, (shard, shape)) in zip(unit.names, zip(unit.shards, unit.shapes)) {
          guard let t = state[name] else { throw DistributedError("FSDP: the state has no '\(name)'") }
          guard t.shape == shape else {
            throw DistributedError("FSDP: '\(name)' has shape \(t.shape), the model \(shape)")
          }
          let chunk = shard.numel
          let padded = try Tensor.zeros([chunk * world], dtype: shard.dtype, device: shard.device)
          try padded.narrow(dim: 0, start: 0, length: t.numel).copy_(t.reshape([-1]))
          try shard.copy_(padded.narrow(dim: 0, start: processGroup.rank * chunk, length: chunk))
        }
      }
    }
  }

  /// `clip_grad_norm_` over the sharded gradients: the global 2-norm from every rank's shards (padding is zero),
  /// then every shard scaled by min(1, maxNorm / (norm + 1e-6)). Returns the total norm.
  @discardableResult
  public func clipGradNorm(maxNorm: Double) throws -> Double {
    let grads = shardedParameters.compactMap(\.grad)
    var local = 0.0
    for g in grads { local += try g.detach().to(dtype: .float64).pow(.double(2)).sum().item(Double.self) }
    let total = try processGroup.allReduce([local], op: .sum)[0].squareRoot()
    let coef = maxNorm / (total + 1e-6)
    if coef < 1 { try withNoGrad { for g in grads { try g.mul_(.double(coef)) } } }
    return total
  }

  /// Elements of the shards this rank holds.
  public var localParameterCount: Int { shardedParameters.reduce(0) { $0 + $1.numel } }
}
