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
  private var foundInf: Tensor?
  private var unscaled = false

  public init(initScale: Double = 65536, growthFactor: Double = 2, backoffFactor: Double = 0.5,
              growthInterval: Int = 2000, enabled: Bool = true) {
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

  /// Divides the gradients of `parameters` by the scale in place and records whether any is inf/NaN.
  /// Call before gradient clipping; called by `step` otherwise. Once per step.
  public func unscale(_ parameters: [Tensor]) throws {
    guard enabled else { return }
    guard !unscaled else { throw TorchError("unscale() has already been called on this optimizer since the last update()") }
    guard let scaleTensor else { throw TorchError("GradScaler: scale(loss) must be called before unscale()") }
    let grads = parameters.compactMap { $0.grad }
    let found = try Tensor.zeros([1], dtype: .float32, device: scaleTensor.device)
    let invScale = try scaleTensor.double().reciprocal().float()
    // The kernel wants one device and dtype per call.
    var groups: [String: [Tensor]] = [:]
    for g in grads { groups["\(g.device)/\(g.dtype)", default: []].append(g) }
    for (_, list) in groups.sorted(by: { $0.key < $1.key }) {
      let dev = list[0].device
      let f = try Tensor.zeros([1], dtype: .float32, device: dev)
      try ATen._amp_foreach_non_finite_check_and_unscale_(list, found_inf: f, inv_scale: invScale.to(device: dev))
      try found.add_(f.to(device: found.device))
    }
    foundInf = found
    unscaled = true
  }

  /// Unscales if needed, then runs `optimizerStep` unless a gradient overflowed. Returns whether it stepped.
  @discardableResult
  public func step(_ parameters: [Tensor], _ optimizerStep: () throws -> Void) throws -> Bool {
    guard enabled else {
      try optimizerStep()
      return true
    }
    if !unscaled { try unscale(parameters) }
    if try foundInf!.item(Double.self) == 0 {
      try optimizerStep()
      return true
    }
    return false
  }

  /// Updates the scale after a step: backoff on overflow, growth after `growthInterval` clean steps.
  public func update() throws {
    guard enabled, let scaleTensor, let growthTracker else { return }
    let found = try foundInf ?? Tensor.zeros([1], dtype: .float32, device: scaleTensor.device)
    _ = try ATen._amp_update_scale_(scaleTensor, growth_tracker: growthTracker, found_inf: found,
                                    scale_growth_factor: growthFactor, scale_backoff_factor: backoffFactor,
                                    growth_interval: growthInterval)
    foundInf = nil
    unscaled = false
  }

  /// Sets the scale explicitly (`update(new_scale)`).
  public func update(newScale: Double) throws {
    guard enabled, let scaleTensor else { return }
    try scaleTensor.fill_(.double(newScale))
    foundInf = nil
    unscaled = false
  }

  /// State as PyTorch's `GradScaler.state_dict()`: scale, growth factors, interval and tracker.
  public func stateDict() throws -> [String: Double] {
    guard enabled else { return [:] }
    return [
      "scale": scale, "growth_factor": growthFactor, "backoff_factor": backoffFactor,
      "growth_interval": Double(growthInterval),
      "_growth_tracker": Double((try? growthTracker?.item(Int.self)) ?? 0),
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
