import Torch

/// `torch.optim.SGD` hyperparameters (PyTorch's defaults).
public struct SGDOptions: OptimizerOptions {
  public var lr: Double
  public var momentum: Double
  public var dampening: Double
  public var weightDecay: Double
  public var nesterov: Bool
  public var maximize: Bool

  public init(
    lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
    nesterov: Bool = false, maximize: Bool = false
  ) {
    self.lr = lr
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    self.maximize = maximize
  }

  public var values: [String: Double] {
    [
      "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weightDecay,
      "nesterov": nesterov ? 1 : 0, "maximize": maximize ? 1 : 0
    ]
  }

  public mutating func set(_ name: String, _ value: Double) throws {
    switch name {
    case "lr": lr = value
    case "momentum": momentum = value
    case "dampening": dampening = value
    case "weight_decay": weightDecay = value
    case "nesterov": nesterov = value != 0
    case "maximize": maximize = value != 0
    default: throw TorchError("SGD has no hyperparameter '\(name)'")
    }
  }

  public func validate() throws {
    guard lr >= 0 else { throw TorchError("Invalid learning rate: \(lr)") }
    guard momentum >= 0 else { throw TorchError("Invalid momentum value: \(momentum)") }
    guard weightDecay >= 0 else { throw TorchError("Invalid weight_decay value: \(weightDecay)") }
    if nesterov && (momentum <= 0 || dampening != 0) {
      throw TorchError("Nesterov momentum requires a momentum and zero dampening")
    }
  }
}

/// `torch.optim.SGD`: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
/// (L2) weight decay. Uses libtorch's fused kernel (`_fused_sgd_`) on CPU and CUDA unless `fused: false`,
/// which runs PyTorch's single-tensor algorithm op for op.
public final class SGD: ParamGroupOptimizer<SGDOptions>, Optimizer {
  public let fused: Bool

  public init(_ groups: [ParamGroup<SGDOptions>], fused: Bool? = nil) throws {
    self.fused = fused ?? true
    try super.init(groups: groups)
  }

  public convenience init(
    _ params: [Tensor], lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
    weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false, fused: Bool? = nil
  ) throws {
    try self.init(
      [
        ParamGroup(
          params: params,
          options: SGDOptions(
            lr: lr, momentum: momentum, dampening: dampening,
            weightDecay: weightDecay, nesterov: nesterov,
            maximize: maximize))
      ], fused: fused)
  }

  public func step() throws {
    try withNoGrad {
      for group in paramGroups {
        let o = group.options
        let items = try withGradients(group)
        let useFused = fused && items.allSatisfy { fusedKernelSupports($0.param) }
        if useFused {
          try fusedStep(items, o)
        } else {
          for (p, g) in items { try singleTensorStep(p, g, o) }
        }
      }
    }
  }

  /// PyTorch's `_single_tensor_sgd` for one parameter.
  private func singleTensorStep(_ param: Tensor, _ gradIn: Tensor, _ o: SGDOptions) throws {
    var grad = o.maximize ? try gradIn.neg() : gradIn
    if o.weightDecay != 0 { grad = try grad.add(param, alpha: .double(o.weightDecay)) }
    if o.momentum != 0 {
      let id = ObjectIdentifier(param)
      if let buf = state[id]?["momentum_buffer"] {
        try buf.mul_(.double(o.momentum)).add_(grad, alpha: .double(1 - o.dampening))
        grad = o.nesterov ? try grad.add(buf, alpha: .double(o.momentum)) : buf
      } else {
        let buf = try grad.clone().detach()
        state[id, default: [:]]["momentum_buffer"] = buf
        grad = o.nesterov ? try grad.add(buf, alpha: .double(o.momentum)) : buf
      }
    }
    try param.add_(grad, alpha: .double(-o.lr))
  }

  /// `_fused_sgd_` per device and dtype; parameters without a momentum buffer yet run as a first step.
  private func fusedStep(_ items: [(param: Tensor, grad: Tensor)], _ o: SGDOptions) throws {
    for indices in groupByDeviceAndDType(items.map(\.param)) {
      var firstStep: [Int] = []
      var later: [Int] = []
      for i in indices {
        if o.momentum != 0 && state[ObjectIdentifier(items[i].param)]?["momentum_buffer"] == nil {
          firstStep.append(i)
        } else {
          later.append(i)
        }
      }
      for (subset, isFirst) in [(firstStep, true), (later, false)] where !subset.isEmpty {
        var buffers: [Tensor] = []
        if o.momentum != 0 {
          for i in subset {
            let id = ObjectIdentifier(items[i].param)
            if isFirst { state[id, default: [:]]["momentum_buffer"] = try items[i].grad.emptyLike() }
            buffers.append(state[id]!["momentum_buffer"]!)
          }
        }
        try ATen._fused_sgd_(
          subset.map { items[$0].param }, grads: subset.map { items[$0].grad },
          momentum_buffer_list: buffers, weight_decay: o.weightDecay, momentum: o.momentum,
          lr: o.lr, dampening: o.dampening, nesterov: o.nesterov, maximize: o.maximize,
          is_first_step: isFirst)
      }
    }
  }
}
