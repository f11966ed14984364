import Torch

extension GradScaler {
  /// `scaler.unscale_(optimizer)`: divides the optimizer's gradients by the scale (before clipping them).
  public func unscale(_ optimizer: some Optimizer) throws { try unscale(optimizer.parameters) }

  /// `scaler.step(optimizer)`, as in PyTorch: unscales the gradients unless `unscale` already ran, and
  /// skips the step when any of them is inf/NaN.
  ///
  /// A fused `Adam`/`AdamW` takes the scale and the overflow flag on the device, so the step never waits for
  /// the GPU (and can be captured in a CUDA graph); other optimizers read the flag on the host first. Use
  /// `lastStepSkipped` to ask, at the cost of a synchronisation, whether the step was skipped.
  public func step(_ optimizer: some Optimizer) throws {
    guard enabled else { return try optimizer.step() }
    if let adam = optimizer as? Adam, adam.takesDeviceGradScale {
      guard let inputs = try deviceStepInputs(adam.parameters) else { return try adam.step() }
      try adam.step(gradScale: inputs.gradScale, foundInf: inputs.foundInf)
      return
    }
    try step(optimizer.parameters) { try optimizer.step() }
  }
}
