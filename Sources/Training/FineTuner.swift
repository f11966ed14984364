import Datasets
import Distributed
import FileIO
import Foundation
import Models
import NN
import Optim
import Tokenizers
import Torch
import TrainingSupport

/// Everything `torchswift finetune` can be told.
public struct FineTuneConfig: Sendable {
  public enum Precision: String, Sendable, CaseIterable { case fp32, bf16, fp16 }

  public var modelDir: String
  public var dataPath: String
  public var evalDataPath: String?
  public var textColumn = "text"
  public var labelColumn = "label"
  public var epochs = 1
  public var batchSize = 32
  public var evalBatchSize = 64
  public var lr = 5e-5
  public var weightDecay = 0.01
  /// The learning-rate schedule (transformers' `lr_scheduler_type` names). Default: constant after 10 % warmup,
  /// chosen from 3-seed measurements on the bundled 4,000/2,000 task (README, "Fine-tuning accuracy"): decay to 0
  /// left the ~125 steps of a short run under-trained.
  public var lrSchedule = SchedulerType.constantWithWarmup
  /// Fraction of the optimizer steps spent in linear warmup (`ceil(steps · ratio)` steps, as transformers'
  /// `warmup_ratio`); must lie in [0, 1]; `constant` has no warmup.
  public var warmupRatio = 0.1
  public var maxLength = 128
  /// Training rows used (a seeded random subset of the training split); nil = all.
  public var trainSize: Int?
  /// Held-out rows when no `evalDataPath` is given: a count, else a fraction of the data.
  public var evalSize: Int?
  public var evalFraction = 0.1
  public var seed: UInt64 = 42
  public var gradAccumulation = 1
  /// Clip the gradients' joint L2 norm to this (`clip_grad_norm_`); 0 turns clipping off (as transformers'
  /// `max_grad_norm`). The norm is logged either way. Default: off, as the plain PyTorch recipe.
  public var maxGradNorm = 0.0
  public var precision = Precision.fp32
  /// Semi-structured sparsity to train with: "2:4" prunes every encoder `Linear` to 2:4 by magnitude before the first
  /// step and keeps the mask after every step (`SemiStructuredSparsity`); nil: dense.
  public var sparsity: String?
  public var device = Device.cpu
  public var outputDir = "runs/finetune/model"
  public var logdir = "runs/finetune/logs"
  public var checkpointDir = "runs/finetune/checkpoints"
  /// Evaluate every N optimizer steps (0: only at the end of each epoch).
  public var evalEvery = 0
  /// Checkpoint every N optimizer steps (0: only at the end of each epoch).
  public var saveEvery = 0
  public var keepCheckpoints = 2
  /// Resume from this checkpoint ("" = the latest in `checkpointDir`).
  public var resume: String?
  public var strict = false
  public var logEvery = 10
  /// Stop after this many optimizer steps (for tests and quick runs); nil = run all epochs.
  public var maxSteps: Int?
  /// Shuffled batches of similar lengths (less padding, as transformers' `group_by_length`); default off: plain
  /// shuffled batches, as transformers' default and the plain recipe (grouping cost 2.5 points of accuracy over 3
  /// seeds on the bundled task).
  public var groupByLength = false
  public var dropLast = false
  public var cacheDir = TokenizationCache.defaultDirectory
  public var progress: Bool? = nil
  /// Profile optimizer steps on this schedule (counted from the first step of this run) and write each recorded
  /// cycle as a trace for TensorBoard's profiler plugin into `<logdir>/profile`; nil: no profiling.
  public var profile: ProfilerSchedule? = nil
  /// Data-parallel strategy when the tuner is given a process group (default DDP); ignored without one.
  /// `batchSize` is per rank (PyTorch's and transformers' per-device batch size): the job's batch is
  /// `batchSize × worldSize × gradAccumulation`.
  public var distributed = DistributedMode.ddp

  public init(modelDir: String, dataPath: String) {
    self.modelDir = modelDir
    self.dataPath = dataPath
  }
}

/// What a fine-tuning run produced.
public struct FineTuneResult {
  public var metrics: ClassificationMetrics?
  public var evalLoss: Double?
  public var globalStep: Int
  public var interrupted: Bool
  public var outputDir: String
  public var logdir: String
  public var plotPath: String
  /// Training throughput of this run, all ranks together (evaluation and checkpoint time excluded).
  public var samplesPerSecond: Double
  /// The ranks that trained (1 without a process group).
  public var worldSize = 1
  /// The signal that stopped the run early (SIGINT or SIGTERM, here or on another rank), 0 when it ran to the end.
  public var stopSignal: Int32 = 0
  /// The step whose evaluation exported the best model to `outputDir` (in this run or the one it resumed), and
  /// that evaluation's accuracy; nil when no model was exported (stopped before the first evaluation).
  public var bestStep: Int? = nil
  public var bestAccuracy: Double? = nil
  /// True when `--resume` found the run already finished: nothing was trained or evaluated.
  public var alreadyFinished = false
}

/// Set by SIGINT or SIGTERM (the signal's number): the loop stops at the next step boundary after writing a
/// checkpoint — all ranks at the same step, as the flag travels with each step's all-reduce.
nonisolated(unsafe) var stopRequested: Int32 = 0

/// Fine-tunes a BertForSequenceClassification on a text-classification file: data → cached batched
/// tokenization → prefetching loader → model (under autocast) → loss → backward (grad scaler for fp16)
/// → clipping (optional) → AdamW + learning-rate schedule → metrics, TensorBoard, JSONL, progress, checkpoints → HF export.
///
/// Given a process group (e.g. `ProcessGroup.initFromEnvironment()` under torchrun) it trains data-parallel
/// (`config.distributed`: DDP or FSDP): each rank reads its `DistributedSampler` shard, evaluation is sharded
/// and its metrics summed over the ranks; rank 0 alone logs, writes TensorBoard events, exports and commits
/// checkpoints (FSDP ranks add their optimizer shards); every rank resumes from the same checkpoint.
public final class FineTuner {
  public let config: FineTuneConfig
  public let processGroup: ProcessGroup?
  let log: (String) -> Void

  /// `log` receives the run's report lines (default: the `torchswift.training` logger, at info level); with a
  /// process group only rank 0's lines are reported.
  public init(config: FineTuneConfig, processGroup: ProcessGroup? = nil, log: ((String) -> Void)? = nil) {
    self.config = config
    self.processGroup = processGroup
    let report = log ?? { trainingLogger.info("\($0)") }
    self.log = (processGroup?.rank ?? 0) == 0 ? report : { _ in }
  }

  /// Loads and splits the data, reporting bad rows.
  public func loadData() throws -> (train: TextClassificationDataset, eval: TextClassificationDataset) {
    let c = config
    let full = try TextClassificationDataset.load(
      path: c.dataPath, textColumn: c.textColumn, labelColumn: c.labelColumn,
      strict: c.strict)
    if full.report.skippedRecords > 0 || full.report.replacementCharacters > 0 {
      log("data: \(full.report.description)")
    }
    var train: TextClassificationDataset
    var eval: TextClassificationDataset
    if let evalPath = c.evalDataPath {
      train = full
      eval = try TextClassificationDataset.load(
        path: evalPath, textColumn: c.textColumn, labelColumn: c.labelColumn,
        labels: full.labels.labels, strict: c.strict)
      if eval.report.skippedRecords > 0 { log("eval data: \(eval.report.description)") }
    } else if let n = c.evalSize {
      (train, eval) = try full.split(validationCount: n, seed: c.seed)
    } else {
      (train, eval) = try full.split(validationFraction: c.evalFraction, seed: c.seed)
    }
    if let n = c.trainSize, n < train.count { train = train.subset(random: n, seed: c.seed &+ 1) }
    guard train.count > 0 else {
      throw TrainingError("\(c.dataPath): no training examples left after filtering and splitting")
    }
    guard eval.count > 0 else { throw TrainingError("\(c.evalDataPath ?? c.dataPath): no evaluation examples") }
    return (train, eval)
  }

  public func run() throws -> FineTuneResult {
    let c = config
    guard c.epochs > 0, c.batchSize > 0, c.gradAccumulation > 0, c.maxLength >= 2, c.lr > 0 else {
      throw TrainingError(
        "invalid settings: epochs, batch size and gradient accumulation must be positive, max length ≥ 2, lr > 0")
    }
    guard c.warmupRatio >= 0, c.warmupRatio <= 1 else {
      throw TrainingError("invalid settings: warmup ratio must lie in [0, 1], got \(c.warmupRatio)")
    }
    guard c.maxGradNorm >= 0, !c.maxGradNorm.isNaN else {
      throw TrainingError("invalid settings: max grad norm must be ≥ 0 (0: no clipping), got \(c.maxGradNorm)")
    }
    Torch.manualSeed(c.seed)
    let (trainSet, evalSet) = try loadData()
    let labels = trainSet.labels
    log("data: \(trainSet.count) training and \(evalSet.count) evaluation examples, labels \(labels.labels)")

    // Tokenize once, cached on disk.
    let tokenizer = try Tokenizer(directory: c.modelDir)
    let cache = TokenizationCache(directory: c.cacheDir)
    let t0 = Date()
    let fp = "\(c.dataPath)|\(c.evalDataPath ?? "")|\(c.textColumn)|\(c.labelColumn)"
    let pg = processGroup
    let rank = pg?.rank ?? 0
    let world = pg?.worldSize ?? 1
    let isMain = rank == 0
    // Rank 0 encodes and fills the cache; the others then load it.
    if !isMain { try pg?.barrier() }
    let (trainEnc, trainHit, _) = try cache.encode(
      trainSet.examples, tokenizer: tokenizer, tokenizerDir: c.modelDir,
      maxLength: c.maxLength, fingerprint: fp + "|train")
    let (evalEnc, evalHit, _) = try cache.encode(
      evalSet.examples, tokenizer: tokenizer, tokenizerDir: c.modelDir,
      maxLength: c.maxLength, fingerprint: fp + "|eval")
    if isMain { try pg?.barrier() }
    log(
      String(
        format: "tokenize: %@ in %.2f s (cache: %@)", (trainHit && evalHit) ? "loaded" : "encoded",
        Date().timeIntervalSince(t0), c.cacheDir))

    // Model, optimizer (no weight decay for biases and LayerNorm weights), schedule, scaler.
    let id2label = Dictionary(uniqueKeysWithValues: labels.labels.enumerated().map { ($0.offset, $0.element) })
    let (model, report) = try BertForSequenceClassification.fromPretrained(c.modelDir, id2label: id2label)
    try model.to(device: c.device)
    model.train()
    if let sparsity = c.sparsity {
      guard sparsity == "2:4" else { throw TrainingError("--sparsity must be 2:4, got '\(sparsity)'") }
      log(try SemiStructuredSparsity.prune(model).description)
    }
    let padId = Int32(tokenizer.tokenToId("[PAD]") ?? 0)
    let sampler = try pg.map {
      try DistributedSampler(datasetSize: trainEnc.count, processGroup: $0, shuffle: true, seed: c.seed)
    }
    let loader = try DataLoader(
      examples: trainEnc, batchSize: c.batchSize, shuffle: true, groupByLength: c.groupByLength,
      dropLast: c.dropLast, seed: c.seed, padId: padId, device: c.device, sampler: sampler)
    guard loader.count > 0 else {
      throw TrainingError(
        "no training batches: \(loader.samplesPerEpoch) examples per rank with batch size \(c.batchSize) and drop-last")
    }
    let mode: DistributedMode? = pg == nil ? nil : c.distributed
    var fingerprint =
      "\(fp)|\(trainEnc.count)|\(evalEnc.count)|\(c.modelDir)|\(c.batchSize)|\(c.lr)|\(c.maxLength)|\(c.seed)|\(c.epochs)|\(c.gradAccumulation)|\(c.precision)|\(c.lrSchedule.rawValue)|\(c.warmupRatio)|\(c.groupByLength)"
    if let mode { fingerprint += "|\(mode.rawValue)×\(world)" }
    let optimizerFile = mode == .fsdp ? "optimizer-rank\(rank)-of-\(world).safetensors" : "optimizer.safetensors"
    let rngFile = mode == nil ? "rng.safetensors" : "rng-rank\(rank)-of-\(world).safetensors"

    // Resume: every rank from the same checkpoint. The model's weights go in before DDP / FSDP take it over.
    let checkpointer = Checkpointer(directory: c.checkpointDir, keep: c.keepCheckpoints)
    var state = TrainerState(
      globalStep: 0, epoch: 0, nextBatch: 0, bestMetric: nil, bestStep: nil, elapsedSeconds: 0,
      fingerprint: fingerprint, scaler: [:], samplesSeen: 0, distributed: mode?.rawValue,
      worldSize: pg == nil ? nil : world)
    var resumePath: String? = nil
    var saved: TrainerState? = nil
    if let resume = c.resume {
      resumePath = resume.isEmpty ? checkpointer.latest : resume
      // Read once; a failure is reported after the ranks compared notes, so that no rank waits for it.
      var unreadable: Error? = nil
      if let path = resumePath {
        do { saved = try Checkpointer.loadState(path) } catch { unreadable = error }
      }
      if let pg {
        // A restarted job (torchrun --max-restarts) must agree on the checkpoint: all ranks read the same folder.
        let step = Double(saved?.globalStep ?? -1)
        let seen = try pg.allReduce([step, -step], op: .max)
        guard seen[0] == -seen[1] else {
          throw TrainingError(
            "rank \(rank): the ranks see different checkpoints in \(c.checkpointDir) (newest step \(Int(seen[0])) on one rank, \(Int(-seen[1])) on another); --checkpoint-dir must be one folder all ranks share"
          )
        }
      }
      if let unreadable { throw unreadable }
      if let path = resumePath, let saved {
        if saved.distributed != mode?.rawValue || (saved.worldSize ?? 1) != world {
          let was = saved.distributed.map { "\($0) on \(saved.worldSize ?? 1) ranks" } ?? "one process"
          let now = mode.map { "\($0.rawValue) on \(world) ranks" } ?? "one process"
          throw TrainingError("\(path) was written by a job of \(was); this job is \(now): resume with the same launch")
        }
        guard saved.fingerprint == fingerprint else {
          throw TrainingError("\(path) was written by a run with other data or settings; resume with the same flags")
        }
        try Checkpointer.loadModel(path, into: model)
      }
    }

    let parallel: ParallelModel
    do {
      parallel = try ParallelModel(model, mode: mode, processGroup: pg)
    } catch {
      throw (pg.map { $0.explain(error, during: "wrapping the model for \(mode?.rawValue ?? "")") } ?? error)
    }
    let (decay, noDecay) = parallel.optimizerParameters()
    let optimizer = try AdamW([
      ParamGroup(params: decay, options: AdamOptions(lr: c.lr, weightDecay: c.weightDecay)),
      ParamGroup(params: noDecay, options: AdamOptions(lr: c.lr, weightDecay: 0))
    ])
    let stepsPerEpoch = (loader.count + c.gradAccumulation - 1) / c.gradAccumulation
    let totalSteps = min(stepsPerEpoch * c.epochs, c.maxSteps ?? Int.max)
    let scheduler = try getScheduler(
      c.lrSchedule, optimizer: optimizer,
      numWarmupSteps: try warmupSteps(ratio: c.warmupRatio, numTrainingSteps: totalSteps),
      numTrainingSteps: totalSteps)
    let scaler = GradScaler(enabled: c.precision == .fp16)
    if mode == .fsdp, let pg {
      // ShardedGradScaler: every rank skips the step when any shard overflowed.
      scaler.reduceFoundInf = { found in try pg.allReduce(found, op: .max) }
    }
    let params = decay + noDecay
    if let path = resumePath, let saved {
      try Checkpointer.loadRest(
        path, optimizer: optimizer, optimizerFile: optimizerFile, rngFile: rngFile, scheduler: scheduler)
      state = saved
      if !state.scaler.isEmpty { try scaler.load(stateDict: state.scaler, device: c.device) }
      log("resume: from \(path) at step \(state.globalStep) (epoch \(state.epoch + 1), batch \(state.nextBatch))")
    } else if c.resume != nil {
      log("resume: no checkpoint in \(c.checkpointDir); starting from the beginning")
    }
    // The weights come from the checkpoint when resuming: the new head's "newly initialized" note does not apply.
    if saved == nil, !report.description.isEmpty { log(report.description) }
    let alreadyFinished = saved != nil && (state.epoch >= c.epochs || state.globalStep >= totalSteps)
    if alreadyFinished, let path = resumePath {
      log("resume: \(path) is the end of the run (step \(state.globalStep) of \(totalSteps)): nothing left to train")
    }
    if let pg {
      log(
        "distributed: \(mode!.rawValue) on \(world) ranks (\(pg.backend.rawValue)), batch \(c.batchSize) per rank × \(world) ranks × \(c.gradAccumulation) accumulation = \(c.batchSize * world * c.gradAccumulation) per step; \(loader.samplesPerEpoch) training examples per rank"
      )
    }

    // Monitoring (rank 0 only).
    var tb: TensorBoardWriter? = nil
    var metricsLog: MetricsLog? = nil
    var progress: ProgressBar? = nil
    if isMain {
      try FileManager.default.createDirectory(atPath: c.logdir, withIntermediateDirectories: true)
      tb = try TensorBoardWriter(logdir: c.logdir)
      metricsLog = try MetricsLog(url: URL(fileURLWithPath: c.logdir + "/metrics.jsonl"))
      progress = ProgressBar(
        epochs: c.epochs, stepsPerEpoch: stepsPerEpoch,
        options: ProgressBar.Options(interactive: c.progress, logEverySteps: c.logEvery), log: log)
    }
    let previousInt = signal(SIGINT) { _ in stopRequested = SIGINT }
    let previousTerm = signal(SIGTERM) { _ in stopRequested = SIGTERM }
    defer {
      signal(SIGINT, previousInt)
      signal(SIGTERM, previousTerm)
    }
    stopRequested = 0

    var lastMetrics: ClassificationMetrics? = nil
    var lastEvalLoss: Double? = nil
    let runStart = Date()
    let elapsedBefore = state.elapsedSeconds
    let samplesBefore = state.samplesSeen
    var interrupted = false
    var windowSamples = 0
    var windowStart = Date()
    var throughput = 0.0

    func record(_ values: [String: Double]) throws {
      guard let tb, let metricsLog else { return }
      for (k, v) in values.sorted(by: { $0.key < $1.key }) { tb.addScalar(k, v, step: state.globalStep) }
      try metricsLog.append(
        step: state.globalStep, epoch: Double(state.epoch) + Double(state.nextBatch) / Double(max(loader.count, 1)),
        values)
    }

    var overheadSeconds = 0.0
    func evaluate() throws {
      let started = Date()
      defer { overheadSeconds += Date().timeIntervalSince(started) }
      // Each rank evaluates its shard of the evaluation set with the full weights; the counts are summed.
      let (m, loss) = try parallel.withFullModel { () -> (ClassificationMetrics, Double) in
        let result = try TextClassifier(
          model: model, tokenizer: nil, device: c.device, maxLength: c.maxLength, batchSize: c.evalBatchSize,
          precision: c.precision, padId: padId
        )
        .evaluate(evalEnc, processGroup: pg)
        model.train()
        lastMetrics = result.0
        lastEvalLoss = result.1
        if state.bestMetric == nil || result.0.accuracy > state.bestMetric! {
          state.bestMetric = result.0.accuracy
          state.bestStep = state.globalStep
          if isMain { try exportModel(model, to: c.outputDir, tokenizerDir: c.modelDir) }
        }
        return result
      }
      var values: [String: Double] = ["eval/loss": loss, "eval/accuracy": m.accuracy, "eval/macro_f1": m.macroF1]
      for pc in m.perClass {
        values["eval/precision/\(pc.label)"] = pc.precision
        values["eval/recall/\(pc.label)"] = pc.recall
      }
      try record(values)
      progress?.log(
        String(
          format: "eval at step %d: loss %.4f, accuracy %.4f, macro-F1 %.4f", state.globalStep, loss, m.accuracy,
          m.macroF1))
      try parallel.barrier()  // the export is complete before any rank goes on (or stops)
    }

    // Rank 0 stages the folder and writes model (full weights), scheduler, RNG and state; under FSDP every
    // rank adds its optimizer shard; rank 0 commits once all have written. All ranks leave together.
    let stageTag = "\(Int(try parallel.sum([isMain ? Double(getpid()) : 0])[0]))"
    func checkpoint() throws {
      let started = Date()
      defer { overheadSeconds += Date().timeIntervalSince(started) }
      state.elapsedSeconds = elapsedBefore + Date().timeIntervalSince(runStart)
      state.scaler = try scaler.stateDict()
      // Detached: FSDP swaps the module's parameters back to placeholders when the closure returns.
      let weights = try parallel.withFullModel { try model.stateDict().mapValues { try $0.detach() } }
      let staged = isMain ? try checkpointer.stage(step: state.globalStep, tag: stageTag) : ""
      try parallel.barrier()
      let tmp = isMain ? staged : c.checkpointDir + "/.checkpoint-\(state.globalStep).partial-\(stageTag)"
      let shardOptimizer = parallel.shardsOptimizer
      let optimizerState = isMain || shardOptimizer ? try optimizer.stateDict() : nil
      try Checkpointer.write(
        to: tmp, model: isMain ? weights : nil, optimizer: optimizerState, optimizerFile: optimizerFile,
        rngFile: rngFile, scheduler: isMain ? scheduler : nil, state: nil)
      try parallel.barrier()
      if isMain {
        try Checkpointer.write(to: tmp, model: nil, optimizer: nil, rngFile: nil, scheduler: nil, state: state)
        let path = try checkpointer.commit(step: state.globalStep, staged: tmp)
        progress?.log("checkpoint: \(path)")
      }
      try parallel.barrier()
    }

    // The profiler (torch.profiler with a schedule): one ProfilerStep#N range per optimizer step.
    var profiler: ProfilerSession? = nil
    if let schedule = c.profile, isMain {
      let dir = c.logdir + "/profile"
      let session = ProfilerSession(activities: c.device.isCUDA ? [.cpu, .cuda] : .cpu, schedule: schedule) { result in
        let path = try result.exportTensorBoardTrace(logdir: dir)
        progress?.log("profile: \(path)")
      }
      try session.start()
      profiler = session
    }
    defer { try? profiler?.stop() }

    do {
      training: while state.epoch < c.epochs && !alreadyFinished {
        let iterator = try loader.makeIterator(epoch: state.epoch, startBatch: state.nextBatch)
        defer { iterator.cancel() }
        var micro = 0
        var accLoss = 0.0
        var stepSamples = 0
        while let batch = try iterator.next() {
          let isLastBatch = state.nextBatch + 1 == loader.count
          let sync = micro + 1 == c.gradAccumulation || isLastBatch
          pg?.status = "training step \(state.globalStep + 1), batch \(state.nextBatch + 1)"
          let loss = try parallel.forward(sync: sync) { try forwardLoss(model, batch) }
          let scaled = try scaler.scale(loss.div(.int(c.gradAccumulation)))
          try scaled.backward()
          accLoss += try loss.item(Double.self)
          micro += 1
          state.nextBatch += 1
          stepSamples += batch.size
          guard sync else { continue }

          try scaler.unscale(optimizer)
          let gradNorm = try parallel.gradNorm(parameters: params, maxNorm: c.maxGradNorm)
          try scaler.step(optimizer)
          if c.sparsity != nil { try SemiStructuredSparsity.applyMasks(model) }  // the pruned weights stay zero
          try scaler.update()
          try scheduler.step()
          try optimizer.zeroGrad(setToNone: true)
          state.globalStep += 1
          // One small all-reduce per step: the job's mean loss, samples, and whether any rank was told to stop.
          let totals = try parallel.sum([accLoss, Double(micro), Double(stepSamples), stopRequested != 0 ? 1 : 0])
          let meanLoss = totals[0] / totals[1]
          let jobSamples = Int(totals[2])
          let stop = totals[3] > 0
          state.samplesSeen += jobSamples
          windowSamples += jobSamples
          micro = 0
          accLoss = 0
          stepSamples = 0
          let now = Date()
          if now.timeIntervalSince(windowStart) > 0.5 {
            throughput = Double(windowSamples) / now.timeIntervalSince(windowStart)
            windowSamples = 0
            windowStart = now
          }
          let stepInEpoch = (state.nextBatch + c.gradAccumulation - 1) / c.gradAccumulation
          _ = progress?.update(epoch: state.epoch + 1, step: stepInEpoch, loss: meanLoss, samples: jobSamples)
          if state.nextBatch >= loader.count {
            state.epoch += 1
            state.nextBatch = 0
          }
          var values: [String: Double] = [
            "train/loss": meanLoss, "train/learning_rate": optimizer.learningRates[0],
            "train/grad_norm": gradNorm, "train/samples_per_second": throughput
          ]
          if c.precision == .fp16 { values["train/loss_scale"] = scaler.scale }
          try record(values)

          let epochEnded = state.nextBatch == 0
          let done = state.globalStep >= totalSteps
          pg?.status = "evaluating / checkpointing after step \(state.globalStep)"
          if (c.evalEvery > 0 && state.globalStep % c.evalEvery == 0) || epochEnded || done { try evaluate() }
          let saved = (c.saveEvery > 0 && state.globalStep % c.saveEvery == 0) || epochEnded || done
          if saved { try checkpoint() }
          if stop {
            if !saved { try checkpoint() }
            progress?.log(
              "interrupted: stopped at step \(state.globalStep) after writing a checkpoint; continue with --resume")
            interrupted = true
            break training
          }
          try profiler?.step()  // after the step's evaluation and checkpoint, as prof.step() ends an iteration
          if done { break training }
          if epochEnded { break }
        }
      }
    } catch {
      throw parallel.explain(error, during: "training step \(state.globalStep + 1)")
    }
    try profiler?.stop()
    progress?.finish()
    try tb?.close()
    metricsLog?.close()

    let plotPath = c.logdir + "/curves.svg"
    if isMain {
      let entries = try MetricsLog.read(url: URL(fileURLWithPath: c.logdir + "/metrics.jsonl"))
      let modelName =
        (c.modelDir as NSString).lastPathComponent == "model"
        ? ((c.modelDir as NSString).deletingLastPathComponent as NSString).lastPathComponent
        : (c.modelDir as NSString).lastPathComponent
      try CurvePlot.write(
        TrainingCurves(entries: entries), to: URL(fileURLWithPath: plotPath),
        title: "Fine-tuning \(modelName) on \((c.dataPath as NSString).lastPathComponent)")
    }
    let seconds = Date().timeIntervalSince(runStart) - overheadSeconds
    return FineTuneResult(
      metrics: lastMetrics, evalLoss: lastEvalLoss, globalStep: state.globalStep, interrupted: interrupted,
      outputDir: c.outputDir, logdir: c.logdir, plotPath: plotPath,
      samplesPerSecond: seconds > 0 ? Double(state.samplesSeen - samplesBefore) / seconds : 0,
      worldSize: world, stopSignal: interrupted ? (stopRequested != 0 ? stopRequested : SIGTERM) : 0,
      bestStep: state.bestStep, bestAccuracy: state.bestMetric, alreadyFinished: alreadyFinished)
  }

  /// Mean cross-entropy of a batch, under autocast for bf16/fp16.
  func forwardLoss(_ model: BertForSequenceClassification, _ b: Batch) throws -> Tensor {
    func run() throws -> Tensor {
      let out = try model(
        inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds, labels: b.labels)
      return out.loss!
    }
    switch config.precision {
    case .fp32: return try run()
    case .bf16: return try withAutocast(.bfloat16, device: config.device) { try run() }
    case .fp16: return try withAutocast(.float16, device: config.device) { try run() }
    }
  }
}

/// Writes the model in HF layout (config.json with labels, model.safetensors, tokenizer files), replacing
/// the folder atomically.
func exportModel(_ model: BertForSequenceClassification, to dir: String, tokenizerDir: String) throws {
  let parent = URL(fileURLWithPath: dir).deletingLastPathComponent().path
  if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
  let tmp = dir + ".partial-\(getpid())"
  try? FileManager.default.removeItem(atPath: tmp)
  try model.save(to: tmp, tokenizerDir: tokenizerDir)
  for f in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] { try AtomicFile.syncFile(tmp + "/" + f) }
  let old = dir + ".old-\(getpid())"
  if FileManager.default.fileExists(atPath: dir) { try FileManager.default.moveItem(atPath: dir, toPath: old) }
  try FileManager.default.moveItem(atPath: tmp, toPath: dir)
  try? FileManager.default.removeItem(atPath: old)
  try AtomicFile.syncDirectory(parent.isEmpty ? "." : parent)
}
