import ArgumentParser
import CLISupport
import Distributed
import Foundation
import Models
import Optim
import Torch
import Training

/// `torchswift finetune`: the main job.
struct FineTune: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "finetune",
    abstract: "Fine-tune a BERT-family model for text classification (default: all-MiniLM-L6-v2 on the bundled tweets)."
  )

  @Option(help: "HF model folder (config.json, weights, tokenizer). Default: the bundled all-MiniLM-L6-v2.") var model:
    String?
  @Option(help: "Training data: CSV, TSV or JSONL. Default: the bundled sentiment corpus.") var data: String?
  @Option(name: .customLong("eval-data"), help: "Evaluation data (default: a seeded split of --data).") var evalData:
    String?
  @Option(name: .customLong("text-column"), help: "Text column.") var textColumn = "text"
  @Option(
    name: .customLong("label-column"), help: "Label column (default: sentiment for the bundled corpus, else label).")
  var labelColumn: String?
  @Option(help: "Epochs.") var epochs = 1
  @Option(name: .customLong("batch-size"), help: "Examples per batch.") var batchSize = 32
  @Option(help: "Peak learning rate (AdamW).") var lr = 5e-5
  @Option(name: .customLong("weight-decay"), help: "AdamW weight decay (not on biases and LayerNorm).")
  var weightDecay = 0.01
  @Option(
    name: .customLong("lr-schedule"),
    help: "Learning-rate schedule, as transformers' get_scheduler: constant, constant_with_warmup, linear or cosine.")
  var lrSchedule = FineTuneConfig(modelDir: "", dataPath: "").lrSchedule.rawValue
  @Option(
    name: .customLong("warmup-ratio"),
    help: "Fraction of the optimizer steps of linear warmup (ceil(steps × ratio), 0 to 1; not for 'constant').")
  var warmupRatio: Double?
  @Option(name: .customLong("max-length"), help: "Truncate texts to N tokens.") var maxLength = 128
  @Option(
    name: .customLong("train-size"),
    help: "Training rows to use: N or all (default: 4000 on the bundled corpus, else all).")
  var trainSize: String?
  @Option(name: .customLong("eval-size"), help: "Held-out rows (default: 2000 on the bundled corpus, else 10%).")
  var evalSize: Int?
  @Flag(
    name: .customLong("group-by-length"), inversion: .prefixedNo,
    help: "Shuffled batches of similar lengths (less padding; transformers' group_by_length) or plain shuffled batches."
  )
  var groupByLength = FineTuneConfig(modelDir: "", dataPath: "").groupByLength
  @Option(name: .customLong("grad-accumulation"), help: "Batches per optimizer step.") var gradAccumulation = 1
  @Option(name: .customLong("max-grad-norm"), help: "Clip the gradient norm to this; 0: no clipping.")
  var maxGradNorm = FineTuneConfig(modelDir: "", dataPath: "").maxGradNorm
  @Option(help: ArgumentHelp(precisionHelp + " fp16 uses a dynamic grad scaler.")) var precision = "fp32"
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: "Random seed (split, shuffling, dropout, new head).") var seed: UInt64 = 42
  @Option(help: "Where the best model is exported (HF layout).") var output = "runs/finetune/model"
  @Option(help: "TensorBoard logs, metrics.jsonl and curves.svg.") var logdir = "runs/finetune/logs"
  @Option(name: .customLong("checkpoint-dir"), help: "Checkpoints.") var checkpointDir = "runs/finetune/checkpoints"
  @Option(
    name: .customLong("eval-every"),
    help: "Evaluate every N steps (0: each epoch; default 40 on the bundled corpus, else 0).")
  var evalEvery: Int?
  @Option(name: .customLong("save-every"), help: "Checkpoint every N steps (0: each epoch).") var saveEvery = 0
  @Option(name: .customLong("keep-checkpoints"), help: "Checkpoints kept.") var keepCheckpoints = 2
  @Option(name: .customLong("max-steps"), help: "Stop after N optimizer steps.") var maxSteps: Int?
  @Option(help: "Continue from a checkpoint folder, or 'latest' for the newest in --checkpoint-dir.") var resume:
    String?
  @Flag(help: "Fail on the first bad row instead of skipping it.") var strict = false
  @Option(help: "libtorch CPU threads (default: all cores).") var threads: Int?
  @Option(
    help: ArgumentHelp(
      "Profile optimizer steps: WAIT,WARMUP,ACTIVE[,REPEAT] as torch.profiler.schedule (REPEAT defaults to 1; 0 repeats until the end); traces for TensorBoard's profiler plugin go to <logdir>/profile.",
      valueName: "schedule")) var profile: String?
  @Option(
    help: ArgumentHelp(
      "Data-parallel training over torchrun's workers: ddp, fsdp or none. Default: ddp when started by torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set), else none. --batch-size is per rank.",
      valueName: "mode")) var distributed: String?
  @Option(
    name: .customLong("dist-backend"), help: "Process-group backend: gloo or nccl (default: nccl on CUDA, else gloo).")
  var distBackend: String?
  @Option(
    name: .customLong("dist-timeout"),
    help: "Seconds a collective may wait before the job fails naming the rank that stopped (default 1800, as PyTorch).")
  var distTimeout = 1800.0
  @Option(
    help:
      "Train with 2:4 semi-structured sparsity: prune every encoder linear layer to 2:4 by magnitude, keep the mask.")
  var sparsity: String?

  func run() throws {
    if let sparsity, sparsity != "2:4" { throw ValidationError("--sparsity must be 2:4, got '\(sparsity)'") }
    guard PrecisionChoice.names.contains(precision) else {
      throw ValidationError(
        "--precision must be one of \(PrecisionChoice.names.joined(separator: ", ")), got '\(precision)'")
    }
    guard let schedule = SchedulerType(rawValue: lrSchedule) else {
      throw ValidationError(
        "--lr-schedule must be one of \(SchedulerType.allCases.map(\.rawValue).joined(separator: ", ")), got '\(lrSchedule)'"
      )
    }
    if let warmupRatio {
      guard warmupRatio >= 0, warmupRatio <= 1 else {
        throw ValidationError("--warmup-ratio must lie in [0, 1], got \(warmupRatio)")
      }
      guard schedule.usesWarmup || warmupRatio == 0 else {
        throw ValidationError(
          "--warmup-ratio: the 'constant' schedule has no warmup (as in transformers); use --lr-schedule constant_with_warmup"
        )
      }
    }
    guard maxGradNorm >= 0 else {
      throw ValidationError("--max-grad-norm must be ≥ 0 (0: no clipping), got \(maxGradNorm)")
    }
    guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
    guard lr > 0 else { throw ValidationError("--lr must be positive") }
    guard gradAccumulation > 0 else { throw ValidationError("--grad-accumulation must be positive") }
    if let threads { Torch.numThreads = threads }
    let underTorchrun = DistributedEnvironment.isPresent()
    let mode: DistributedMode?
    switch distributed {
    case nil: mode = underTorchrun ? .ddp : nil
    case "none": mode = nil
    case let m?:
      guard let parsed = DistributedMode(rawValue: m) else {
        throw ValidationError("--distributed must be ddp, fsdp or none, got '\(m)'")
      }
      mode = parsed
    }
    let backend = try distBackend.map { name -> Backend in
      guard let b = Backend(rawValue: name) else {
        throw ValidationError("--dist-backend must be gloo or nccl, got '\(name)'")
      }
      return b
    }
    guard distTimeout > 0 else {
      throw ValidationError("--dist-timeout must be positive (seconds), got \(distTimeout)")
    }
    let bundled = data == nil
    var c = FineTuneConfig(modelDir: try model ?? BundledModel.directory(), dataPath: try data ?? bundledCorpus())
    c.evalDataPath = evalData
    c.textColumn = textColumn
    c.labelColumn = labelColumn ?? (bundled ? "sentiment" : "label")
    c.epochs = epochs
    c.batchSize = batchSize
    c.lr = lr
    c.weightDecay = weightDecay
    c.lrSchedule = schedule
    if let warmupRatio { c.warmupRatio = warmupRatio } else if !schedule.usesWarmup { c.warmupRatio = 0 }
    c.maxLength = maxLength
    switch trainSize {
    case nil: c.trainSize = bundled ? 4000 : nil
    case "all": c.trainSize = nil
    case let s?:
      guard let n = Int(s), n > 0 else {
        throw ValidationError("--train-size must be a positive number or 'all', got '\(s)'")
      }
      c.trainSize = n
    }
    c.evalSize = evalSize ?? (bundled && evalData == nil ? 2000 : nil)
    c.gradAccumulation = gradAccumulation
    c.groupByLength = groupByLength
    c.maxGradNorm = maxGradNorm
    c.device = try deviceOption(device)
    var processGroup: ProcessGroup? = nil
    if let mode {
      let env: DistributedEnvironment
      do { env = try DistributedEnvironment.read() } catch {
        throw ValidationError(
          "--distributed \(mode.rawValue): \(error) (start it with torchrun, e.g. torchrun --no-python --nproc-per-node 2 ./torchswift finetune …)"
        )
      }
      // One GPU per worker: cuda means cuda:LOCAL_RANK (as torch.cuda.set_device(local_rank)).
      if c.device == .cuda(0) && device == "cuda" { c.device = try deviceOption("cuda:\(env.localRank)") }
      do {
        processGroup = try ProcessGroup.initFromEnvironment(backend: backend, device: c.device, timeout: distTimeout)
      } catch {
        throw DistributedLaunchError(message: "\(error)")
      }
      c.distributed = mode
    }
    let isMain = (processGroup?.rank ?? 0) == 0
    let cpu = CPUFeatures.current()
    c.precision = try precisionOption(precision, device: c.device, cpu: cpu)
    c.sparsity = sparsity
    let precisionNote =
      precision == "auto"
      ? " (\(PrecisionChoice.autoReason(device: c.device, cpu: cpu, picked: c.precision)))" : ""
    c.seed = seed
    c.outputDir = output
    c.logdir = logdir
    c.checkpointDir = checkpointDir
    c.evalEvery = evalEvery ?? (bundled ? 40 : 0)
    c.saveEvery = saveEvery
    c.keepCheckpoints = keepCheckpoints
    c.maxSteps = maxSteps
    c.resume = resume.map { $0 == "latest" ? "" : $0 }
    c.strict = strict
    if let profile {
      let fields = profile.split(separator: ",", omittingEmptySubsequences: false)
      let n = fields.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard n.count == fields.count, n.count == 3 || n.count == 4 else {
        throw ValidationError("--profile must be WAIT,WARMUP,ACTIVE[,REPEAT] (whole numbers), got '\(profile)'")
      }
      do {
        c.profile = try ProfilerSchedule(wait: n[0], warmup: n[1], active: n[2], repeat: n.count == 4 ? n[3] : 1)
      } catch {
        throw ValidationError("--profile: \(error)")
      }
    }
    if let model { try checkModelFolder(model) }  // before any data is read
    let warmupText = c.lrSchedule.usesWarmup ? ", warmup \(c.warmupRatio)" : ""
    if isMain {
      print(
        "finetune: \(c.modelDir) on \(c.dataPath) (\(c.textColumn) → \(c.labelColumn)), \(c.device), \(c.precision.rawValue)\(precisionNote), "
          + "batch \(c.batchSize), lr \(c.lr) (\(c.lrSchedule.rawValue)\(warmupText)), "
          + "\(c.maxGradNorm > 0 ? "clip \(c.maxGradNorm)" : "no clipping"), max length \(c.maxLength), \(c.epochs) epoch(s)"
      )
    }
    // A restarted torchrun worker (--max-restarts) continues from the last checkpoint.
    if c.resume == nil,
      let restarts = ProcessInfo.processInfo.environment["TORCHELASTIC_RESTART_COUNT"].flatMap(Int.init), restarts > 0
    {
      c.resume = ""
    }
    let r = try FineTuner(config: c, processGroup: processGroup).run()
    guard isMain else {
      if r.stopSignal != 0 { throw ExitCode(128 + r.stopSignal) }
      return
    }
    if let m = r.metrics {
      print(
        String(
          format: "\nvalidation accuracy: %.4f   macro-F1: %.4f   loss: %.4f   (%d steps, %.1f training samples/s%@)",
          m.accuracy, m.macroF1, r.evalLoss ?? .nan, r.globalStep, r.samplesPerSecond,
          r.worldSize > 1 ? " over \(r.worldSize) ranks" : ""))
      print(m.report(digits: 4))
    } else if r.alreadyFinished, let step = r.bestStep, let accuracy = r.bestAccuracy {
      print(
        String(
          format: "\nnothing to train: the run had finished; its best validation accuracy: %.4f (step %d)", accuracy,
          step))
    }
    let best: String
    if let step = r.bestStep {
      best = "best model (HF layout): \(r.outputDir) (from the evaluation at step \(step))"
    } else {
      best =
        "no model exported: the run stopped at step \(r.globalStep), before its first evaluation (--eval-every N evaluates more often; --resume latest continues)"
    }
    print(
      """
      \(best)
      logs: \(r.logdir) (TensorBoard events, metrics.jsonl), plot: \(r.plotPath)
      checkpoints: \(c.checkpointDir)
      TensorBoard: tensorboard --logdir \(r.logdir)   (e.g. .venv/bin/tensorboard after `make setup-test`)
      """)
    if r.bestStep != nil { print("predict: ./torchswift predict --model \(r.outputDir) \"what a great day\"") }
    if r.stopSignal != 0 { throw ExitCode(128 + r.stopSignal) }
  }
}

/// `torchswift eval`: metrics of a classification model on a labelled file.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a BertForSequenceClassification folder on labelled data.")

  @Option(help: "Model folder (e.g. finetune's --output).") var model: String
  @Option(help: "CSV, TSV or JSONL with text and label columns.") var data: String
  @Option(name: .customLong("text-column"), help: "Text column.") var textColumn = "text"
  @Option(
    name: .customLong("label-column"), help: "Label column (default: sentiment for the bundled corpus, else label).")
  var labelColumn: String?
  @Option(name: .customLong("max-length"), help: "Truncate texts to N tokens.") var maxLength = 128
  @Option(name: .customLong("batch-size"), help: "Examples per batch.") var batchSize = 64
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: ArgumentHelp(precisionHelp)) var precision = "fp32"
  @Flag(help: "Print one JSON object (accuracy, macro_f1, per-class metrics, confusion matrix).") var json = false
  @OptionGroup var quantization: QuantizeOptions

  func run() throws {
    guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    let dev = try deviceOption(device)
    let precision = try precisionOption(precision, device: dev)
    try checkModelFolder(model)
    let isBundled = (try? bundledCorpus()).map { samePath($0, data) } ?? false
    let r = try evaluateModel(
      model: model, data: data, textColumn: textColumn, labelColumn: labelColumn ?? (isBundled ? "sentiment" : "label"),
      maxLength: maxLength, batchSize: batchSize, device: dev, precision: precision,
      prepare: { try quantization.apply(to: $0) })
    if json {
      var obj: [String: Any] = [
        "accuracy": r.metrics.accuracy, "macro_f1": r.metrics.macroF1, "loss": r.loss,
        "count": r.metrics.count, "confusion_matrix": r.metrics.confusionMatrix,
        "labels": r.metrics.perClass.map(\.label), "skipped_rows": r.skipped
      ]
      obj["per_class"] = Dictionary(
        uniqueKeysWithValues: r.metrics.perClass.map {
          ($0.label, ["precision": $0.precision, "recall": $0.recall, "f1": $0.f1, "support": Double($0.support)])
        })
      let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
      print(String(decoding: d, as: UTF8.self))
    } else {
      print(
        String(
          format: "accuracy: %.4f   macro-F1: %.4f   loss: %.4f   (%d examples)", r.metrics.accuracy,
          r.metrics.macroF1, r.loss, r.metrics.count))
      print(r.metrics.report(digits: 4))
    }
  }
}

/// A failure to join the distributed job (bad torchrun variables, unreachable store): printed as is.
struct DistributedLaunchError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}
