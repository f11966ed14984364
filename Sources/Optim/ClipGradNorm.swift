import Torch

/// `torch.nn.utils.clip_grad_norm_`: scales the gradients of `parameters` in place so that their joint
/// `normType`-norm is at most `maxNorm`, and returns the norm before clipping (a scalar tensor).
///
/// Same computation as PyTorch's foreach path: the total norm (`getTotalNorm`), coefficient
/// `maxNorm / (norm + 1e-6)` clamped to 1, multiplied into every gradient (`_foreach_mul_`).
/// Parameters without a gradient are skipped; with none at all the result is 0.
@discardableResult
public func clipGradNorm(
  _ parameters: [Tensor], maxNorm: Double, normType: Double = 2,
  errorIfNonfinite: Bool = false
) throws -> Tensor {
  let grads = parameters.compactMap(\.grad)
  let total = try getTotalNorm(grads, normType: normType, errorIfNonfinite: errorIfNonfinite)
  guard !grads.isEmpty else { return total }
  return try withNoGrad {
    let coef = try total.add(.double(1e-6)).reciprocal().mul(.double(maxNorm))  // []
    let clamped = try coef.clamp(max: 1.0)  // []
    for indices in groupByDeviceAndDType(grads) {
      let device = grads[indices[0]].device
      try ATen._foreach_mul__Tensor(indices.map { grads[$0] }, other: try clamped.to(device: device))
    }
    return total
  }
}

/// `torch.nn.utils.get_total_norm`: the `normType`-norm of all `tensors` together (per-tensor norms with
/// `_foreach_norm`, then the norm of those), a scalar tensor on the first tensor's device; 0 for no tensors.
/// Pass gradients (`parameters.compactMap(\.grad)`) for the gradient norm without clipping.
public func getTotalNorm(_ tensors: [Tensor], normType: Double = 2, errorIfNonfinite: Bool = false) throws -> Tensor {
  guard let first = tensors.first else { return try Tensor(scalar: Float(0)) }
  guard normType > 0 || normType.isInfinite else {
    throw TorchError("clipGradNorm: normType must be positive or infinite, got \(normType)")
  }
  return try withNoGrad {
    var norms: [Tensor] = []
    for indices in groupByDeviceAndDType(tensors) {
      norms += try ATen._foreach_norm_Scalar(indices.map { tensors[$0] }, ord: .double(normType))
    }
    let onFirst = try norms.map { try $0.to(device: first.device) }
    let total = try Tensor.stack(onFirst).norm(normType)  // []
    if errorIfNonfinite, try total.isfinite().item(Bool.self) == false {
      throw TorchError(
        "The total norm of order \(normType) for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`"
      )
    }
    return total
  }
}

/// Clips every gradient element to [-clipValue, clipValue] in place (`torch.nn.utils.clip_grad_value_`).
public func clipGradValue(_ parameters: [Tensor], clipValue: Double) throws {
  try withNoGrad {
    for g in parameters.compactMap(\.grad) { try g.clamp_(min: .double(-clipValue), max: .double(clipValue)) }
  }
}
