import Torch

/// What learning-rate schedulers and training loops need from an optimizer (`torch.optim.Optimizer`).
public protocol Optimizer: AnyObject {
  /// The learning rate of each parameter group, in order.
  var learningRates: [Double] { get }
  /// Sets each parameter group's learning rate (one value per group).
  func setLearningRates(_ rates: [Double]) throws
  /// Every parameter of every group, in order.
  var parameters: [Tensor] { get }
  /// One update of every parameter that has a gradient.
  func step() throws
  /// Clears the gradients of the optimizer's parameters (drops them by default, as PyTorch ≥ 2.0).
  func zeroGrad(setToNone: Bool) throws
  /// The optimizer's state (per-parameter buffers and step counts, hyperparameters) as flat tensors,
  /// ready for `Torch.save`; `load(stateDict:)` restores it into an optimizer over the same parameters.
  func stateDict() throws -> [String: Tensor]
  func load(stateDict: [String: Tensor]) throws
}

extension Optimizer {
  public func zeroGrad() throws { try zeroGrad(setToNone: true) }
}

/// Hyperparameters of one parameter group, convertible to and from numbers for state dicts.
public protocol OptimizerOptions {
  var lr: Double { get set }
  var weightDecay: Double { get set }
  /// Every hyperparameter by PyTorch's name (booleans as 0 / 1).
  var values: [String: Double] { get }
  /// Restores hyperparameters saved by `values` (unknown names are errors).
  mutating func set(_ name: String, _ value: Double) throws
  /// Throws PyTorch's message for an invalid value (negative learning rate, beta outside [0, 1), …).
  func validate() throws
}

/// Parameters sharing hyperparameters (`param_groups` entry): e.g. weights with weight decay and biases
/// and LayerNorm weights without, or a lower learning rate for a pretrained backbone.
public struct ParamGroup<Options: OptimizerOptions> {
  public var params: [Tensor]
  public var options: Options
  public init(params: [Tensor], options: Options) {
    self.params = params
    self.options = options
  }
}

/// Shared machinery of the optimizers: parameter groups, per-parameter state, zeroing gradients, learning
/// rates and state dicts. Subclasses implement `step()`.
open class ParamGroupOptimizer<Options: OptimizerOptions> {
  /// The groups, in order; their options may be changed between steps.
  public var paramGroups: [ParamGroup<Options>]
  /// Per-parameter state tensors by PyTorch's names ("step", "exp_avg", "momentum_buffer", …).
  public var state: [ObjectIdentifier: [String: Tensor]] = [:]

  /// Every parameter of every group, in order.
  public var parameters: [Tensor] { paramGroups.flatMap(\.params) }

  public init(groups: [ParamGroup<Options>]) throws {
    guard !groups.isEmpty else { throw TorchError("optimizer got an empty parameter list") }
    var seen = Set<ObjectIdentifier>()
    for (gi, group) in groups.enumerated() {
      try group.options.validate()
      for p in group.params {
        guard seen.insert(ObjectIdentifier(p)).inserted else {
          throw TorchError("some parameters appear in more than one parameter group (group \(gi))")
        }
        guard p.isLeaf else { throw TorchError("can't optimize a non-leaf Tensor (group \(gi))") }
        guard p.dtype.isFloatingPoint else {
          throw TorchError("can't optimize a tensor of dtype \(p.dtype) (group \(gi))")
        }
      }
    }
    guard !seen.isEmpty else { throw TorchError("optimizer got an empty parameter list") }
    paramGroups = groups
  }

  public var learningRates: [Double] { paramGroups.map(\.options.lr) }

  public func setLearningRates(_ rates: [Double]) throws {
    guard rates.count == paramGroups.count else {
      throw TorchError("expected \(paramGroups.count) learning rates (one per parameter group), got \(rates.count)")
    }
    for (i, r) in rates.enumerated() {
      guard r >= 0 else { throw TorchError("Invalid learning rate: \(r)") }
      paramGroups[i].options.lr = r
    }
  }

  public func zeroGrad(setToNone: Bool = true) throws {
    for group in paramGroups {
      for p in group.params {
        if setToNone {
          if p.grad != nil { p.grad = nil }
        } else if let g = p.grad {
          if g.gradFnName != nil { p.grad = try g.detach() }
          try p.grad?.zero_()
        }
      }
    }
  }

  /// Flat state dict: `state.<i>.<name>` (i numbers parameters across groups, as PyTorch),
  /// `param_groups.<g>.params` (int64 indices) and `param_groups.<g>.<option>` (float64 scalars).
  public func stateDict() throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    var index = 0
    for (gi, group) in paramGroups.enumerated() {
      var indices: [Int64] = []
      for p in group.params {
        indices.append(Int64(index))
        for (name, t) in state[ObjectIdentifier(p)] ?? [:] { out["state.\(index).\(name)"] = try t.detach() }
        index += 1
      }
      out["param_groups.\(gi).params"] = try Tensor(indices, shape: [indices.count])
      for (name, v) in group.options.values { out["param_groups.\(gi).\(name)"] = try Tensor(scalar: v) }
    }
    return out
  }

  /// Restores a state dict saved by `stateDict()` of an optimizer of the same kind over parameters of the
  /// same shapes and grouping; state tensors are copied to each parameter's device (and floating dtype,
  /// step counts excepted).
  public func load(stateDict: [String: Tensor]) throws {
    var index = 0
    var newState: [ObjectIdentifier: [String: Tensor]] = [:]
    var newGroups = paramGroups
    for (gi, group) in paramGroups.enumerated() {
      guard let saved = stateDict["param_groups.\(gi).params"] else {
        throw TorchError("loaded state dict has no parameter group \(gi) (the optimizer has \(paramGroups.count))")
      }
      guard saved.numel == group.params.count else {
        throw TorchError(
          "loaded state dict contains a parameter group \(gi) that doesn't match the size of optimizer's group (\(saved.numel) vs \(group.params.count) parameters)"
        )
      }
      for p in group.params {
        let prefix = "state.\(index)."
        var entries: [String: Tensor] = [:]
        for (key, t) in stateDict where key.hasPrefix(prefix) {
          let name = String(key.dropFirst(prefix.count))
          if name == "step" {
            entries[name] = try t.to(device: t.device == .cpu && p.device == .cpu ? nil : p.device, copy: true)
          } else {
            guard t.shape == p.shape else {
              throw TorchError(
                "optimizer state \(key) has shape \(t.shape) but parameter \(index) has shape \(p.shape)")
            }
            entries[name] = try t.to(device: p.device, dtype: t.dtype.isFloatingPoint ? p.dtype : nil, copy: true)
          }
        }
        if !entries.isEmpty { newState[ObjectIdentifier(p)] = entries }
        index += 1
      }
      let prefix = "param_groups.\(gi)."
      for (key, t) in stateDict where key.hasPrefix(prefix) && key != prefix + "params" {
        try newGroups[gi].options.set(String(key.dropFirst(prefix.count)), try t.item(Double.self))
      }
      try newGroups[gi].options.validate()
    }
    if stateDict["param_groups.\(paramGroups.count).params"] != nil {
      throw TorchError("loaded state dict has more parameter groups than the optimizer's \(paramGroups.count)")
    }
    paramGroups = newGroups
    state = newState
  }

  /// Parameters of a group that have a gradient, with their gradient.
  func withGradients(_ group: ParamGroup<Options>) throws -> [(param: Tensor, grad: Tensor)] {
    try group.params.compactMap { p in
      guard let g = p.grad else { return nil }
      guard g.shape == p.shape else {
        throw TorchError("gradient of shape \(g.shape) does not match its parameter's shape \(p.shape)")
      }
      return (p, g)
    }
  }
}

/// Whether libtorch has a fused optimizer kernel for tensors of this device and dtype.
func fusedKernelSupports(_ t: Tensor) -> Bool {
  switch t.device {
  case .cpu, .cuda: return [.float16, .float32, .float64, .bfloat16].contains(t.dtype)
  }
}

/// Groups indices by (device, dtype), keeping first-seen order (fused kernels take one device and dtype).
func groupByDeviceAndDType(_ tensors: [Tensor]) -> [[Int]] {
  var order: [String] = []
  var groups: [String: [Int]] = [:]
  for (i, t) in tensors.enumerated() {
    let key = "\(t.device)|\(t.dtype)"
    if groups[key] == nil { order.append(key) }
    groups[key, default: []].append(i)
  }
  return order.map { groups[$0]! }
}
