import Foundation
import Torch

/// Hyperparameters of Adam and AdamW (PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8;
/// weight decay 0 for Adam, 0.01 for AdamW).
public struct AdamOptions: OptimizerOptions {
  public var lr: Double
  public var betas: (Double, Double)
  public var eps: Double
  public var weightDecay: Double
  public var amsgrad: Bool
  public var maximize: Bool

  public init(
    lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8, weightDecay: Double = 0,
    amsgrad: Bool = false, maximize: Bool = false
  ) {
    self.lr = lr
    self.betas = betas
    self.eps = eps
    self.weightDecay = weightDecay
    self.amsgrad = amsgrad
    self.maximize = maximize
  }

  public var values: [String: Double] {
    [
      "lr": lr, "beta1": betas.0, "beta2": betas.1, "eps": eps, "weight_decay": weightDecay,
      "amsgrad": amsgrad ? 1 : 0, "maximize": maximize ? 1 : 0
    ]
  }

  public mutating func set(_ name: String, _ value: Double) throws {
    switch name {
    case "lr": lr = value
    case "beta1": betas.0 = value
    case "beta2": betas.1 = value
    case "eps": eps = value
    case "weight_decay": weightDecay = value
    case "amsgrad": amsgrad = value != 0
    case "maximize": maximize = value != 0
    default: throw TorchError("Adam has no hyperparameter '\(name)'")
    }
  }

  public func validate() throws {
    guard lr >= 0 else { throw TorchError("Invalid learning rate: \(lr)") }
    guard eps >= 0 else { throw TorchError("Invalid epsilon value: \(eps)") }
    guard betas.0 >= 0, betas.0 < 1 else { throw TorchError("Invalid beta parameter at index 0: \(betas.0)") }
    guard betas.1 >= 0, betas.1 < 1 else { throw TorchError("Invalid beta parameter at index 1: \(betas.1)") }
    guard weightDecay >= 0 else { throw TorchError("Invalid weight_decay value: \(weightDecay)") }
  }
}

/// `torch.optim.Adam` (L2 weight decay added to the gradient); `AdamW` decouples the decay.
///
/// Per-parameter state as PyTorch: `step` (a float32 scalar tensor), `exp_avg`, `exp_avg_sq` and with
/// `amsgrad` `max_exp_avg_sq`. Runs libtorch's fused kernel (`_fused_adam_` / `_fused_adamw_`) on CPU and
/// CUDA floating point parameters unless `fused: false`, which runs PyTorch's `_single_tensor_adam` op for op.
public class Adam: ParamGroupOptimizer<AdamOptions>, Optimizer {
  public let fused: Bool
  /// AdamW's decoupled weight decay (param *= 1 - lr·wd) instead of L2 (grad += wd·param).
  public let decoupledWeightDecay: Bool

  public init(_ groups: [ParamGroup<AdamOptions>], fused: Bool? = nil, decoupledWeightDecay: Bool = false) throws {
    self.fused = fused ?? true
    self.decoupledWeightDecay = decoupledWeightDecay
    try super.init(groups: groups)
  }

  public convenience init(
    _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false, fused: Bool? = nil
  ) throws {
    try self.init(
      [
        ParamGroup(
          params: params,
          options: AdamOptions(
            lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
            amsgrad: amsgrad, maximize: maximize))
      ], fused: fused)
  }

  public func step() throws {
    try step(gradScale: nil, foundInf: nil)
  }

  /// Whether `step(gradScale:foundInf:)` can take a grad scaler's scale and overflow flag on the device
  /// (PyTorch's `_step_supports_amp_scaling`): fused kernels for every parameter.
  public var takesDeviceGradScale: Bool {
    fused && paramGroups.allSatisfy { $0.params.allSatisfy { fusedKernelSupports($0) } }
  }

  /// One step whose fused kernels divide the gradients by `gradScale` (when given) and leave parameters,
  /// moments and step counts untouched when `foundInf` (0-dim, 1 = overflow) is set, without reading it on
  /// the host: what `GradScaler.step(optimizer)` calls. Only for fused optimizers (`takesDeviceGradScale`).
  public func step(gradScale: Tensor?, foundInf: Tensor?) throws {
    if (gradScale != nil || foundInf != nil) && !takesDeviceGradScale {
      throw TorchError(
        "Adam: a grad scale on the device needs the fused kernels (fused: true, float CPU/CUDA parameters)")
    }
    try withNoGrad {
      for group in paramGroups {
        let o = group.options
        let items = try withGradients(group)
        let useFused = fused && items.allSatisfy { fusedKernelSupports($0.param) }
        for (p, _) in items where state[ObjectIdentifier(p)] == nil { try initState(p, o, onDevice: useFused) }
        if useFused {
          try fusedStep(items, o, gradScale: gradScale, foundInf: foundInf)
        } else {
          for (p, g) in items { try singleTensorStep(p, g, o) }
        }
      }
    }
  }

  private func initState(_ p: Tensor, _ o: AdamOptions, onDevice: Bool) throws {
    var s: [String: Tensor] = [:]
    s["step"] = try Tensor.zeros([], dtype: .float32, device: onDevice ? p.device : .cpu)
    s["exp_avg"] = try p.zerosLike()
    s["exp_avg_sq"] = try p.zerosLike()
    if o.amsgrad { s["max_exp_avg_sq"] = try p.zerosLike() }
    state[ObjectIdentifier(p)] = s
  }

  private func buffer(_ p: Tensor, _ name: String) throws -> Tensor {
    if let t = state[ObjectIdentifier(p)]?[name] { return t }
    // amsgrad switched on after some steps: start its running maximum at zero, as PyTorch does.
    let t = try p.zerosLike()
    state[ObjectIdentifier(p), default: [:]][name] = t
    return t
  }

  /// PyTorch's `_single_tensor_adam` for one parameter.
  private func singleTensorStep(_ param: Tensor, _ gradIn: Tensor, _ o: AdamOptions) throws {
    let (beta1, beta2) = o.betas
    var grad = o.maximize ? try gradIn.neg() : gradIn
    let stepT = try buffer(param, "step")
    let expAvg = try buffer(param, "exp_avg")
    let expAvgSq = try buffer(param, "exp_avg_sq")
    try stepT.add_(1)
    if o.weightDecay != 0 {
      if decoupledWeightDecay {
        try param.mul_(.double(1 - o.lr * o.weightDecay))
      } else {
        grad = try grad.add(param, alpha: .double(o.weightDecay))
      }
    }
    try expAvg.lerp_(grad, weight: .double(1 - beta1))
    try expAvgSq.mul_(.double(beta2)).addcmul_(grad, grad, value: .double(1 - beta2))
    let step = try stepT.item(Double.self)
    let biasCorrection1 = 1 - pow(beta1, step)
    let biasCorrection2 = 1 - pow(beta2, step)
    let stepSize = o.lr / biasCorrection1
    let biasCorrection2Sqrt = biasCorrection2.squareRoot()
    let denom: Tensor
    if o.amsgrad {
      let maxSq = try buffer(param, "max_exp_avg_sq")
      try maxSq.copy_(try maxSq.maximum(expAvgSq))
      denom = try maxSq.sqrt().div(.double(biasCorrection2Sqrt)).add_(.double(o.eps))
    } else {
      denom = try expAvgSq.sqrt().div(.double(biasCorrection2Sqrt)).add_(.double(o.eps))
    }
    try param.addcdiv_(expAvg, denom, value: .double(-stepSize))
  }

  /// `_fused_adam_` / `_fused_adamw_` per device and dtype (the step counts advance first, as in PyTorch).
  private func fusedStep(
    _ items: [(param: Tensor, grad: Tensor)], _ o: AdamOptions, gradScale: Tensor?,
    foundInf: Tensor?
  ) throws {
    for indices in groupByDeviceAndDType(items.map(\.param)) {
      let params = indices.map { items[$0].param }
      let grads = indices.map { items[$0].grad }
      let steps = try params.map { p -> Tensor in
        let s = try buffer(p, "step")
        return s.device == p.device ? s : try s.to(device: p.device)
      }
      let expAvgs = try params.map { try buffer($0, "exp_avg") }
      let expAvgSqs = try params.map { try buffer($0, "exp_avg_sq") }
      let maxSqs = o.amsgrad ? try params.map { try buffer($0, "max_exp_avg_sq") } : []
      for s in steps { try s.add_(1) }
      for (p, s) in zip(params, steps) { state[ObjectIdentifier(p)]?["step"] = s }
      let device = params[0].device
      let scale = try gradScale.map { try $0.to(device: device) }
      let found = try foundInf.map { try $0.to(device: device) }
      let kernel = decoupledWeightDecay ? ATen._fused_adamw_ : ATen._fused_adam_
      try kernel(
        params, grads, expAvgs, expAvgSqs, maxSqs, steps, o.lr, o.betas.0, o.betas.1, o.weightDecay, o.eps,
        o.amsgrad, o.maximize, scale, found)
      // A skipped (overflowed) step does not count, as in PyTorch's _fused_adam.
      if let found { for s in steps { try s.sub_(found) } }
    }
  }
}
