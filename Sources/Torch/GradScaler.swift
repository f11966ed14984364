import CTorch

/// Dynamic loss scaling for float16 training, as `torch.amp.GradScaler`: multiply the loss by `scale`,
/// unscale gradients before clipping, skip the optimizer step when any gradient is inf/NaN, and grow the
/// scale by `growthFactor` after `growthInterval` clean steps or shrink it by `backoffFactor` after an overflow.
/// Uses libtorch's own `_amp_foreach_non_finite_check_and_unscale_` and `_amp_update_scale_` kernels.
public final class GradScaler {
  public let growthFactor: Double
  public let backoffFactor: Double
  public let growthInterval: Int
  public let enabled: Bool
  private let initScale: Double
  private var scaleTensor: Tensor?
  private var growthTracker: Tensor?
  /// The overflow flag recorded last (by `unscale` or a step), kept across `update()` for `lastStepSkipped`.
  private var lastFoundInf: Tensor?
  /// Where an optimizer is in this iteration, as PyTorch's `OptState`: ready → unscaled → stepped → (update) ready.
  private enum Stage { case ready, unscaled, stepped }
  /// Per optimizer (PyTorch's `_per_optimizer_states`), keyed by its parameter set: its stage and overflow flag.
  private struct OptimizerState {
    var stage = Stage.ready
    var foundInf: Tensor? = nil
  }
  private var perOptimizer: [Set<ObjectIdentifier>: OptimizerState] = [:]
  /// Combines the overflow flag of `unscale` across processes before it decides the step, for gradients that
  /// are sharded over ranks (`ShardedGradScaler` in FSDP: an all-reduce with MAX, so that every rank skips
  /// the same steps). Nil: the local flag decides (gradients that are the same on every rank, as under DDP).
  public var reduceFoundInf: ((Tensor) throws -> Void)? = nil

  private static func key(_ parameters: [Tensor]) -> Set<ObjectIdentifier> {
    Set(parameters.map(ObjectIdentifier.init))
  }

  public init(
    initScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5,
    growthInterval: Int = 2000, enabled: Bool = true
  ) {
    self.initScale = initScale
    self.growthFactor = growthFactor
    self.backoffFactor = backoffFactor
    self.growthInterval = growthInterval
    self.enabled = enabled
  }

  private func lazyInit(_ device: Device) throws {
    if scaleTensor == nil {
      scaleTensor = try Tensor.full([], .double(initScale), dtype: .float32, device: device)
      growthTracker = try Tensor.full([], .int(0), dtype: .int32, device: device)
    }
  }

  /// The current scale (1 when disabled).
  public var scale: Double { (try? scaleTensor?.item(Double.self)) ?? (enabled ? initScale : 1) }

  /// `loss * scale`.
  public func scale(_ loss: Tensor) throws -> Tensor {
    guard enabled else { return loss }
    try lazyInit(loss.device)
    return try loss.mul(scaleTensor!.to(device: loss.device))
  }

  /// Divides the gradients of `parameters` (one optimizer's) by the scale in place and records whether any is
  /// inf/NaN. Call before gradient clipping; called by `step` otherwise. Once per optimizer and iteration;
  /// several optimizers may share one scaler, each tracked by its parameter set, as in PyTorch.
  public func unscale(_ parameters: [Tensor]) throws {
    guard enabled else { return }
    let key = Self.key(parameters)
    switch perOptimizer[key]?.stage ?? .ready {
    case .ready: break
    case .unscaled: throw TorchError("unscale() has already been called on this optimizer since the last update()")
    case .stepped: throw TorchError("unscale() is being called after step()")
    }
    guard let scaleTensor else { throw TorchError("GradScaler: scale(loss) must be called before unscale()") }
    let invScale = try scaleTensor.double().reciprocal().float()
    let found = try checkNonFinite(parameters, invScale: invScale)
    try reduceFoundInf?(found)
    perOptimizer[key] = OptimizerState(stage: .unscaled, foundInf: found)
    lastFoundInf = found
  }

  /// Runs libtorch's check-and-unscale kernel over the gradients (one call per device and dtype, as the
  /// kernel wants) and returns the 0-dim float32 overflow flag (1 when any gradient is inf/NaN) on the
  /// scale's device. With `invScale` 1 the gradients are only checked.
  private func checkNonFinite(_ parameters: [Tensor], invScale: Tensor) throws -> Tensor {
    let found = try Tensor.zeros([], dtype: .float32, device: invScale.device)
    var groups: [String: [Tensor]] = [:]
    for g in parameters.compactMap({ $0.grad }) { groups["\(g.device)/\(g.dtype)", default: []].append(g) }
    for (_, list) in groups.sorted(by: { $0.key < $1.key }) {
      let dev = list[0].device
      let f = try Tensor.zeros([], dtype: .float32, device: dev)
      try ATen._amp_foreach_non_finite_check_and_unscale_(list, found_inf: f, inv_scale: invScale.to(device: dev))
      try found.add_(f.to(device: found.device))
    }
    return found
  }

  /// Unscales if needed, then runs `optimizerStep` unless a gradient overflowed. Returns whether it stepped.
  /// This reads the overflow flag on the host (one synchronisation per step); optimizers that take the
  /// scale on the device (fused `AdamW`, `Adam`) skip it through `Optim`'s `scaler.step(optimizer)`.
  @discardableResult
  public func step(_ parameters: [Tensor], _ optimizerStep: () throws -> Void) throws -> Bool {
    guard enabled else {
      try optimizerStep()
      return true
    }
    let key = Self.key(parameters)
    if perOptimizer[key]?.stage == .stepped {
      throw TorchError("step() has already been called since the last update()")
    }
    if perOptimizer[key]?.stage != .unscaled { try unscale(parameters) }
    perOptimizer[key]!.stage = .stepped
    if try perOptimizer[key]!.foundInf!.item(Double.self) == 0 {
      try optimizerStep()
      return true
    }
    return false
  }

  /// The inputs of an optimizer step that applies the scale on the device (PyTorch's
  /// `_step_supports_amp_scaling`, used by fused Adam and AdamW): checks the gradients for inf/NaN without
  /// changing them and returns the scale the kernel divides them by, or only the overflow flag when
  /// `unscale` already ran. The flag is a 0-dim float32 tensor on the scale's device; nothing is read on the
  /// host. Marks the step as taken for `update()`. Returns nil when the scaler is disabled.
  public func deviceStepInputs(_ parameters: [Tensor]) throws -> (gradScale: Tensor?, foundInf: Tensor)? {
    guard enabled else { return nil }
    let key = Self.key(parameters)
    let state = perOptimizer[key] ?? OptimizerState()
    switch state.stage {
    case .stepped: throw TorchError("step() has already been called since the last update()")
    case .unscaled:
      perOptimizer[key]!.stage = .stepped
      return (nil, state.foundInf!)
    case .ready:
      guard let scaleTensor else { throw TorchError("GradScaler: scale(loss) must be called before step()") }
      let ones = try Tensor.ones([], dtype: .float32, device: scaleTensor.device)
      let found = try checkNonFinite(parameters, invScale: ones)
      perOptimizer[key] = OptimizerState(stage: .stepped, foundInf: found)
      lastFoundInf = found
      return (scaleTensor, found)
    }
  }

  /// Whether the last `step` was skipped because a gradient overflowed (reads the flag on the host;
  /// false before any step).
  public var lastStepSkipped: Bool {
    guard let flag = lastFoundInf else { return false }
    return ((try? flag.item(Double.self)) ?? 0) != 0
  }

  /// Updates the scale after a step: backoff on overflow, growth after `growthInterval` clean steps.
  public func update() throws {
    guard enabled, let scaleTensor, let growthTracker else { return }
    let flags = perOptimizer.values.compactMap(\.foundInf)
    guard var found = flags.first else {
      throw TorchError("GradScaler.update(): no inf checks were recorded prior to update; call step() first")
    }
    // Any optimizer's overflow backs the scale off (PyTorch sums the recorded flags).
    for f in flags.dropFirst() { found = try found.add(f.to(device: found.device)) }
    _ = try ATen._amp_update_scale_(
      scaleTensor, growth_tracker: growthTracker, found_inf: found,
      scale_growth_factor: growthFactor, scale_backoff_factor: backoffFactor,
      growth_interval: growthInterval)
    perOptimizer = [:]
  }

  /// Sets the scale explicitly (`update(new_scale)`).
  public func update(newScale: Double) throws {
    guard enabled, let scaleTensor else { return }
    try scaleTensor.fill_(.double(newScale))
    perOptimizer = [:]
  }

  /// State as PyTorch's `GradScaler.state_dict()`: scale, growth factors, interval and tracker.
  public func stateDict() throws -> [String: Double] {
    guard enabled else { return [:] }
    return [
      "scale": scale, "growth_factor": growthFactor, "backoff_factor": backoffFactor,
      "growth_interval": Double(growthInterval),
      "_growth_tracker": Double((try? growthTracker?.item(Int.self)) ?? 0)
    ]
  }

  /// Restores `stateDict()` (the scale and the growth tracker) on `device`.
  public func load(stateDict: [String: Double], device: Device = .cpu) throws {
    guard enabled else { return }
    guard let s = stateDict["scale"], let tracker = stateDict["_growth_tracker"] else {
      throw TorchError("GradScaler state is missing 'scale' or '_growth_tracker'")
    }
    scaleTensor = try Tensor.full([], .double(s), dtype: .float32, device: device)
    growthTracker = try Tensor.full([], .int(Int(tracker)), dtype: .int32, device: device)
  }
}
