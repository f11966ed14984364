import Torch

/// `torch.nn.CrossEntropyLoss`: logits `[N, C, …]` against class indices `[N, …]` or probabilities `[N, C, …]`.
/// `weight` (a buffer, as in PyTorch) rescales classes; targets equal to `ignoreIndex` are skipped.
public final class CrossEntropyLoss: Module {
  public let weight: Tensor?
  public let ignoreIndex: Int
  public let reduction: Reduction
  public let labelSmoothing: Double

  public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean, labelSmoothing: Double = 0)
    throws
  {
    guard labelSmoothing >= 0, labelSmoothing <= 1 else {
      throw TorchError("label_smoothing must be between 0.0 and 1.0. Got: \(labelSmoothing)")
    }
    self.weight = weight
    self.ignoreIndex = ignoreIndex
    self.reduction = reduction
    self.labelSmoothing = labelSmoothing
    super.init()
    try registerBuffer("weight", weight)
  }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try F.crossEntropy(
      input, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction,
      labelSmoothing: labelSmoothing)
  }
}

/// `torch.nn.MSELoss`: (input - target)², reduced.
public final class MSELoss: Module {
  public let reduction: Reduction
  public init(reduction: Reduction = .mean) { self.reduction = reduction; super.init() }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    guard input.shape == target.shape else {
      throw TorchError("MSELoss: input shape \(input.shape) and target shape \(target.shape) differ")
    }
    return try F.mseLoss(input, target, reduction: reduction)
  }
}

/// `torch.nn.BCEWithLogitsLoss`: sigmoid + binary cross-entropy, numerically stable; `posWeight` weighs
/// positive examples per class.
public final class BCEWithLogitsLoss: Module {
  public let weight: Tensor?
  public let posWeight: Tensor?
  public let reduction: Reduction

  public init(weight: Tensor? = nil, reduction: Reduction = .mean, posWeight: Tensor? = nil) throws {
    self.weight = weight
    self.posWeight = posWeight
    self.reduction = reduction
    super.init()
    try registerBuffer("weight", weight)
    try registerBuffer("pos_weight", posWeight)
  }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    guard input.shape == target.shape else {
      throw TorchError("Target size (\(target.shape)) must be the same as input size (\(input.shape))")
    }
    return try F.binaryCrossEntropyWithLogits(input, target, weight: weight, posWeight: posWeight, reduction: reduction)
  }
}

/// `torch.nn.KLDivLoss`: KL(target ‖ input) with `input` log-probabilities and `target` probabilities
/// (log-probabilities with `logTarget`). Prefer `.batchmean`, the true KL divergence per sample.
public final class KLDivLoss: Module {
  public let reduction: F.KLReduction
  public let logTarget: Bool

  public init(reduction: F.KLReduction = .mean, logTarget: Bool = false) {
    self.reduction = reduction
    self.logTarget = logTarget
    super.init()
  }

  public func callAsFunction(_ input: Tensor, _ target: Tensor) throws -> Tensor {
    try F.klDiv(input, target, reduction: reduction, logTarget: logTarget)
  }
}

/// Knowledge-distillation loss as a module (see `F.distillationLoss`).
public final class DistillationLoss: Module {
  public let temperature: Double
  public let alpha: Double

  public init(temperature: Double = 2, alpha: Double = 0.5) throws {
    guard temperature > 0 else { throw TorchError("distillation temperature must be positive, got \(temperature)") }
    guard alpha >= 0, alpha <= 1 else { throw TorchError("distillation alpha must be in [0, 1], got \(alpha)") }
    self.temperature = temperature
    self.alpha = alpha
    super.init()
  }

  public func callAsFunction(student: Tensor, teacher: Tensor, labels: Tensor) throws -> Tensor {
    try F.distillationLoss(student: student, teacher: teacher, labels: labels, temperature: temperature, alpha: alpha)
  }

  public override var extraDescription: String {
    "temperature=\(pythonFloat(temperature)), alpha=\(pythonFloat(alpha))"
  }
}

extension Functional {
  /// Knowledge distillation (Hinton et al.): α·T²·KL(softmax(teacher/T) ‖ log_softmax(student/T), batchmean)
  /// + (1-α)·CE(student, labels). Logits `[N, C]`, labels `[N]`; the teacher receives no gradient.
  public static func distillationLoss(
    student: Tensor, teacher: Tensor, labels: Tensor, temperature: Double,
    alpha: Double
  ) throws -> Tensor {
    guard temperature > 0 else { throw TorchError("distillation temperature must be positive, got \(temperature)") }
    guard student.shape == teacher.shape else {
      throw TorchError(
        "distillationLoss: student logits \(student.shape) and teacher logits \(teacher.shape) differ in shape")
    }
    let t = Scalar.double(temperature)
    let teacherProbs = try teacher.detach().div(t).softmax(dim: -1)  // [N, C]
    let studentLogProbs = try student.div(t).logSoftmax(dim: -1)  // [N, C]
    let kl = try F.klDiv(studentLogProbs, teacherProbs, reduction: .batchmean)  // []
    let soft = try kl.mul(.double(alpha * temperature * temperature))  // []
    let hard = try F.crossEntropy(student, labels).mul(.double(1 - alpha))  // []
    return try soft.add(hard)  // []
  }
}
