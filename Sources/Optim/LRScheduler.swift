import Foundation
import Torch

/// A learning-rate schedule driving an optimizer (`torch.optim.lr_scheduler.LRScheduler`): call `step()`
/// after each `optimizer.step()`.
public protocol LRScheduler: AnyObject {
  /// Steps taken (PyTorch's `last_epoch`; 0 right after construction).
  var lastEpoch: Int { get }
  /// The learning rates set by the last `step()` (`get_last_lr()`).
  var lastLR: [Double] { get }
  func step() throws
  func stateDict() throws -> [String: Tensor]
  func load(stateDict: [String: Tensor]) throws
}

/// `torch.optim.lr_scheduler.LambdaLR`: lr = base_lr · λ(step) for each parameter group; constructing it
/// records each group's current lr as its base and applies λ(0).
public final class LambdaLR: LRScheduler {
  public let optimizer: Optimizer
  /// The learning rates the factors multiply (each group's lr at construction, PyTorch's `initial_lr`).
  public private(set) var baseLRs: [Double]
  public private(set) var lastEpoch: Int = -1
  public private(set) var lastLR: [Double] = []
  private let lambdas: [(Int) -> Double]

  /// One factor function for all groups.
  public convenience init(optimizer: Optimizer, lrLambda: @escaping (Int) -> Double) throws {
    try self.init(optimizer: optimizer, lrLambdas: Array(repeating: lrLambda, count: optimizer.learningRates.count))
  }

  /// One factor function per parameter group.
  public init(optimizer: Optimizer, lrLambdas: [(Int) -> Double]) throws {
    guard lrLambdas.count == optimizer.learningRates.count else {
      throw TorchError("Expected \(optimizer.learningRates.count) lr_lambdas, but got \(lrLambdas.count)")
    }
    self.optimizer = optimizer
    self.lambdas = lrLambdas
    self.baseLRs = optimizer.learningRates
    try step()
  }

  /// The learning rates of the schedule at `epoch` (without changing anything).
  public func learningRates(at epoch: Int) -> [Double] {
    zip(baseLRs, lambdas).map { $0 * $1(epoch) }
  }

  public func step() throws {
    lastEpoch += 1
    let rates = learningRates(at: lastEpoch)
    try optimizer.setLearningRates(rates)
    lastLR = rates
  }

  /// `last_epoch`, `base_lrs` and `_last_lr` (the factor functions are code, not state).
  public func stateDict() throws -> [String: Tensor] {
    [
      "last_epoch": try Tensor(scalar: Int64(lastEpoch)), "base_lrs": try Tensor(baseLRs),
      "_last_lr": try Tensor(lastLR)
    ]
  }

  /// Restores the schedule position saved by `stateDict()` (the optimizer's own state dict holds its lrs).
  public func load(stateDict: [String: Tensor]) throws {
    guard let epoch = stateDict["last_epoch"], let base = stateDict["base_lrs"] else {
      throw TorchError("scheduler state dict needs 'last_epoch' and 'base_lrs', got keys \(stateDict.keys.sorted())")
    }
    let bases = try base.toArray(Double.self)
    guard bases.count == baseLRs.count else {
      throw TorchError(
        "scheduler state dict has \(bases.count) base learning rates, the optimizer has \(baseLRs.count) groups")
    }
    lastEpoch = try epoch.item(Int.self)
    baseLRs = bases
    lastLR = try stateDict["_last_lr"]?.toArray(Double.self) ?? learningRates(at: lastEpoch)
  }
}

/// Linear warmup from 0 to the base lr over `numWarmupSteps`, then linear decay to 0 at
/// `numTrainingSteps` (Hugging Face transformers' `get_linear_schedule_with_warmup`).
public func getLinearScheduleWithWarmup(optimizer: Optimizer, numWarmupSteps: Int, numTrainingSteps: Int) throws
  -> LambdaLR
{
  guard numWarmupSteps >= 0, numTrainingSteps >= 0 else {
    throw TorchError("warmup and training steps must be non-negative, got \(numWarmupSteps) and \(numTrainingSteps)")
  }
  return try LambdaLR(optimizer: optimizer) { step in
    if step < numWarmupSteps { return Double(step) / Double(max(1, numWarmupSteps)) }
    return max(0.0, Double(numTrainingSteps - step) / Double(max(1, numTrainingSteps - numWarmupSteps)))
  }
}

/// Linear warmup, then a cosine from the base lr down to 0 over `numCycles` half-waves (0.5: one decay)
/// (transformers' `get_cosine_schedule_with_warmup`).
public func getCosineScheduleWithWarmup(
  optimizer: Optimizer, numWarmupSteps: Int, numTrainingSteps: Int,
  numCycles: Double = 0.5
) throws -> LambdaLR {
  guard numWarmupSteps >= 0, numTrainingSteps >= 0 else {
    throw TorchError("warmup and training steps must be non-negative, got \(numWarmupSteps) and \(numTrainingSteps)")
  }
  return try LambdaLR(optimizer: optimizer) { step in
    if step < numWarmupSteps { return Double(step) / Double(max(1, numWarmupSteps)) }
    let progress = Double(step - numWarmupSteps) / Double(max(1, numTrainingSteps - numWarmupSteps))
    return max(0.0, 0.5 * (1.0 + cos(Double.pi * numCycles * 2.0 * progress)))
  }
}

/// Linear warmup, then the base lr (transformers' `get_constant_schedule_with_warmup`).
public func getConstantScheduleWithWarmup(optimizer: Optimizer, numWarmupSteps: Int) throws -> LambdaLR {
  guard numWarmupSteps >= 0 else { throw TorchError("warmup steps must be non-negative, got \(numWarmupSteps)") }
  return try LambdaLR(optimizer: optimizer) { step in
    if step < numWarmupSteps { return Double(step) / max(1.0, Double(numWarmupSteps)) }
    return 1.0
  }
}

/// The base lr throughout (transformers' `get_constant_schedule`; no warmup).
public func getConstantSchedule(optimizer: Optimizer) throws -> LambdaLR {
  try LambdaLR(optimizer: optimizer) { _ in 1.0 }
}

/// Schedule names as transformers' `SchedulerType` spells them (`lr_scheduler_type`, `get_scheduler(name, …)`),
/// for the schedules TorchSwift implements.
public enum SchedulerType: String, CaseIterable, Sendable {
  /// `get_constant_schedule`: the base lr at every step; warmup does not apply.
  case constant
  /// `get_constant_schedule_with_warmup`: linear warmup from 0, then the base lr.
  case constantWithWarmup = "constant_with_warmup"
  /// `get_linear_schedule_with_warmup`: linear warmup, then linear decay to 0 at the last step.
  case linear
  /// `get_cosine_schedule_with_warmup` (half a cosine wave): linear warmup, then cosine decay to 0.
  case cosine

  /// Whether the schedule has a warmup phase (`constant` has none, as in transformers).
  public var usesWarmup: Bool { self != .constant }
}

/// transformers' `get_scheduler(name, optimizer, num_warmup_steps, num_training_steps)` for the schedules of
/// `SchedulerType` (`constant` ignores both step counts, `constant_with_warmup` the training steps).
public func getScheduler(_ name: SchedulerType, optimizer: Optimizer, numWarmupSteps: Int, numTrainingSteps: Int) throws
  -> LambdaLR
{
  switch name {
  case .constant: return try getConstantSchedule(optimizer: optimizer)
  case .constantWithWarmup:
    return try getConstantScheduleWithWarmup(optimizer: optimizer, numWarmupSteps: numWarmupSteps)
  case .linear:
    return try getLinearScheduleWithWarmup(
      optimizer: optimizer, numWarmupSteps: numWarmupSteps, numTrainingSteps: numTrainingSteps)
  case .cosine:
    return try getCosineScheduleWithWarmup(
      optimizer: optimizer, numWarmupSteps: numWarmupSteps, numTrainingSteps: numTrainingSteps)
  }
}

/// Warmup steps for a warmup ratio, as transformers' `TrainingArguments.get_warmup_steps`:
/// `ceil(numTrainingSteps · ratio)`; the ratio must lie in [0, 1].
public func warmupSteps(ratio: Double, numTrainingSteps: Int) throws -> Int {
  guard ratio >= 0, ratio <= 1 else { throw TorchError("warmup ratio must lie in [0, 1], got \(ratio)") }
  return Int((Double(numTrainingSteps) * ratio).rounded(.up))
}
