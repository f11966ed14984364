import CTorch

/// How a loss reduces over elements (PyTorch's `reduction=`).
public enum Reduction: String, Sendable {
  case none, mean, sum
  /// libtorch's `at::Reduction` code.
  public var code: Int {
    switch self {
    case .none: return 0
    case .mean: return 1
    case .sum: return 2
    }
  }
}

extension Functional {
  /// Cross-entropy between logits `[N, C, ...]` and class indices `[N, ...]` or class probabilities
  /// `[N, C, ...]`, with PyTorch's `weight`, `ignore_index` and `label_smoothing`.
  public static func crossEntropy(
    _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
    reduction: Reduction = .mean, labelSmoothing: Double = 0
  ) throws -> Tensor {
    try ATen.cross_entropy_loss(
      input, target: target, weight: weight, reduction: reduction.code,
      ignore_index: ignoreIndex, label_smoothing: labelSmoothing)
  }

  /// Negative log-likelihood of log-probabilities `[N, C, ...]` at class indices.
  public static func nllLoss(
    _ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
    reduction: Reduction = .mean
  ) throws -> Tensor {
    try ATen.nll_loss_nd(input, target: target, weight: weight, reduction: reduction.code, ignore_index: ignoreIndex)
  }

  public static func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
    try ATen.mse_loss(input, target: target, reduction: reduction.code)
  }

  public static func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
    try ATen.l1_loss(input, target: target, reduction: reduction.code)
  }

  public static func binaryCrossEntropyWithLogits(
    _ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
    posWeight: Tensor? = nil, reduction: Reduction = .mean
  ) throws -> Tensor {
    try ATen.binary_cross_entropy_with_logits(
      input, target: target, weight: weight, pos_weight: posWeight,
      reduction: reduction.code)
  }

  /// KL divergence with `input` as log-probabilities; `target` as probabilities (or log-probabilities with
  /// `logTarget`). `batchmean` divides the sum by the batch size, as PyTorch recommends.
  public static func klDiv(_ input: Tensor, _ target: Tensor, reduction: KLReduction = .mean, logTarget: Bool = false)
    throws -> Tensor
  {
    switch reduction {
    case .batchmean:
      let total = try ATen.kl_div(input, target: target, reduction: Reduction.sum.code, log_target: logTarget)
      let n = input.dim == 0 ? 1 : try input.size(0)
      return try total.div(.int(n))
    case .none: return try ATen.kl_div(input, target: target, reduction: 0, log_target: logTarget)
    case .mean: return try ATen.kl_div(input, target: target, reduction: 1, log_target: logTarget)
    case .sum: return try ATen.kl_div(input, target: target, reduction: 2, log_target: logTarget)
    }
  }

  public enum KLReduction: String, Sendable { case none, mean, sum, batchmean }
}
