import Datasets
import Foundation
import Models
import NN
import Optim
import Torch

/// How `CausalLMTrainer` trains (transformers `TrainingArguments` names where they exist).
public struct CausalLMTrainingConfig: Sendable {
  public var learningRate = 2e-4
  public var weightDecay = 0.0
  public var betas = (0.9, 0.999)
  public var eps = 1e-8
  /// `constant`, `constant_with_warmup`, `linear` or `cosine`.
  public var lrSchedule = "linear"
  public var warmupSteps = 0
  public var batchSize = 4
  public var gradientAccumulation = 1
  /// Gradient-norm clipping (nil or ≤ 0: off).
  public var maxGradNorm: Double? = 1.0
  public var epochs = 1
  /// Stop after this many optimizer steps (nil: the epochs decide).
  public var maxSteps: Int?
  public var shuffle = true
  public var seed: UInt64 = 42
  /// bfloat16 or float16 autocast on the model's device (nil: none).
  public var autocast: DType?
  public var padTokenId = 0

  public init() {}

  func validate() throws {
    guard learningRate > 0 else { throw TrainingError("--lr must be positive, got \(learningRate)") }
    guard batchSize > 0 else { throw TrainingError("--batch-size must be positive, got \(batchSize)") }
    guard gradientAccumulation > 0 else {
      throw TrainingError("--grad-accumulation must be positive, got \(gradientAccumulation)")
    }
    guard epochs > 0 else { throw TrainingError("--epochs must be positive, got \(epochs)") }
    guard ["constant", "constant_with_warmup", "linear", "cosine"].contains(lrSchedule) else {
      throw TrainingError("--lr-schedule must be constant, constant_with_warmup, linear or cosine, got '\(lrSchedule)'")
    }
  }
}

/// Trains a decoder-only model (all its parameters, or only those left trainable, such as LoRA adapters) on
/// causal-LM examples: AdamW over the trainable parameters, a warmup schedule, gradient accumulation, clipping,
/// optional autocast; evaluation as mean loss and perplexity.
public final class CausalLMTrainer {
  public let model: any CausalLanguageModel
  public let config: CausalLMTrainingConfig
  public let optimizer: AdamW
  public private(set) var scheduler: LambdaLR?
  public private(set) var globalStep = 0
  let parameters: [Tensor]

  public init(model: any CausalLanguageModel, config: CausalLMTrainingConfig) throws {
    try config.validate()
    self.model = model
    self.config = config
    parameters = model.parameters().filter(\.requiresGrad)
    guard !parameters.isEmpty else { throw TrainingError("the model has no trainable parameters") }
    // Weight decay on matrices only (transformers' Trainer leaves biases and norms out).
    let decay = parameters.filter { $0.dim >= 2 }
    let noDecay = parameters.filter { $0.dim < 2 }
    var groups: [ParamGroup<AdamOptions>] = []
    let options = AdamOptions(
      lr: config.learningRate, betas: config.betas, eps: config.eps, weightDecay: config.weightDecay)
    if !decay.isEmpty { groups.append(ParamGroup(params: decay, options: options)) }
    var plain = options
    plain.weightDecay = 0
    if !noDecay.isEmpty { groups.append(ParamGroup(params: noDecay, options: plain)) }
    optimizer = try AdamW(groups)
  }

  /// The schedule for `totalSteps` optimizer steps (made by `train`, or call it yourself before `step`).
  public func makeScheduler(totalSteps: Int) throws {
    let warmup = config.warmupSteps
    switch config.lrSchedule {
    case "constant": scheduler = try getConstantScheduleWithWarmup(optimizer: optimizer, numWarmupSteps: 0)
    case "constant_with_warmup":
      scheduler = try getConstantScheduleWithWarmup(optimizer: optimizer, numWarmupSteps: warmup)
    case "cosine":
      scheduler = try getCosineScheduleWithWarmup(
        optimizer: optimizer, numWarmupSteps: warmup, numTrainingSteps: totalSteps)
    default:
      scheduler = try getLinearScheduleWithWarmup(
        optimizer: optimizer, numWarmupSteps: warmup, numTrainingSteps: totalSteps)
    }
  }

  func forwardLoss(_ batch: [CausalLMExample]) throws -> Tensor {
    let (ids, mask, labels) = try CausalLMData.collate(batch, padId: config.padTokenId, device: model.device)
    let hasPadding = try mask.eq(.int(0)).any().item(Bool.self)
    if let dt = config.autocast {
      return try withAutocast(dt, device: model.device) {
        try model.loss(inputIds: ids, attentionMask: hasPadding ? mask : nil, labels: labels)
      }
    }
    return try model.loss(inputIds: ids, attentionMask: hasPadding ? mask : nil, labels: labels)
  }

  /// One optimizer step over `microBatches` (gradient accumulation: each loss divided by their count).
  /// Returns the mean loss.
  @discardableResult
  public func step(_ microBatches: [[CausalLMExample]]) throws -> Double {
    model.train()
    var total = 0.0
    for batch in microBatches {
      let loss = try forwardLoss(batch)
      total += try loss.item(Double.self)
      try loss.div(.int(microBatches.count)).backward()
    }
    if let maxNorm = config.maxGradNorm, maxNorm > 0 { _ = try clipGradNorm(parameters, maxNorm: maxNorm) }
    try optimizer.step()
    try scheduler?.step()
    try optimizer.zeroGrad()
    globalStep += 1
    return total / Double(microBatches.count)
  }

  /// Mean loss (over batches of `batchSize`) and its exponential, the perplexity.
  public func evaluate(_ examples: [CausalLMExample]) throws -> (loss: Double, perplexity: Double) {
    model.eval()
    defer { model.train() }
    var sum = 0.0
    var count = 0
    try withNoGrad {
      var i = 0
      while i < examples.count {
        let batch = Array(examples[i..<min(i + config.batchSize, examples.count)])
        sum += try forwardLoss(batch).item(Double.self) * Double(batch.count)
        count += batch.count
        i += config.batchSize
      }
    }
    let loss = count > 0 ? sum / Double(count) : .nan
    return (loss, exp(loss))
  }

  /// The optimizer steps of `epochs` passes over `examples` (batches of `batchSize`, `gradientAccumulation` per
  /// step; shuffled each epoch with `seed` unless `shuffle` is off). Calls `onStep(step, loss, lr)` after each.
  public func train(_ examples: [CausalLMExample], onStep: ((Int, Double, Double) throws -> Void)? = nil) throws
    -> [Double]
  {
    guard !examples.isEmpty else { throw TrainingError("no training examples") }
    let batchesPerEpoch = (examples.count + config.batchSize - 1) / config.batchSize
    let stepsPerEpoch = max(batchesPerEpoch / config.gradientAccumulation, 1)
    let total = config.maxSteps.map { min($0, stepsPerEpoch * config.epochs) } ?? stepsPerEpoch * config.epochs
    if scheduler == nil { try makeScheduler(totalSteps: total) }
    var generator = SeededGenerator(seed: config.seed)
    var losses: [Double] = []
    epochs: for _ in 0..<config.epochs {
      var order = Array(examples.indices)
      if config.shuffle { generator.shuffle(&order) }
      let batches = stride(from: 0, to: order.count, by: config.batchSize).map {
        order[$0..<min($0 + config.batchSize, order.count)].map { examples[$0] }
      }
      // Whole accumulation groups only (transformers drops the incomplete last one the same way).
      let groups = max(batches.count / config.gradientAccumulation, batches.isEmpty ? 0 : 1)
      for g in 0..<groups {
        let start = g * config.gradientAccumulation
        let group = Array(batches[start..<min(start + config.gradientAccumulation, batches.count)])
        let lr = optimizer.learningRates.first ?? config.learningRate
        let loss = try step(group)
        losses.append(loss)
        try onStep?(globalStep, loss, lr)
        if losses.count >= total { break epochs }
      }
    }
    return losses
  }
}
