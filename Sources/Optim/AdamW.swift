import Torch

/// `torch.optim.AdamW`: Adam with decoupled weight decay (param *= 1 - lr·weightDecay before the Adam
/// update), default weight decay 0.01. Fused kernel (`_fused_adamw_`) on CPU and CUDA unless `fused: false`.
///
///     let decay = model.parameters().filter { $0.dim >= 2 }, noDecay = model.parameters().filter { $0.dim < 2 }
///     let opt = try AdamW([ParamGroup(params: decay, options: AdamOptions(lr: 3e-4, weightDecay: 0.1)),
///                          ParamGroup(params: noDecay, options: AdamOptions(lr: 3e-4, weightDecay: 0))])
public final class AdamW: Adam {
  public init(_ groups: [ParamGroup<AdamOptions>], fused: Bool? = nil) throws {
    try super.init(groups, fused: fused, decoupledWeightDecay: true)
  }

  public convenience init(
    _ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false, fused: Bool? = nil
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
}
