import ArgumentParser
import CLISupport
import Foundation
import Models
import Torch
import Training

extension Bench {
  /// `torchswift-bench table`: the seed's table of training-step speed, memory and MFU per precision recipe.
  struct Table: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "table",
      abstract: "Training-step table: encoder and BERT scenarios × CPU/GPU precision rows (optionally beside PyTorch).",
      discussion: """
        Each row times training steps (forward, loss, backward, fused AdamW) after warm-up, synchronising the GPU \
        after every step: median and p90 step time, peak memory (GPU: caching allocator peak; CPU: peak RSS growth), \
        samples/s and, on known GPUs, MFU. Rows this machine cannot run are listed as skipped with the reason.
        The gpu-graph row captures the whole step (AMP BF16, fused AdamW with its step counts on the GPU) in one CUDA \
        graph and replays it after copying each batch into the captured input tensors; GradScaler is not used there \
        (its overflow check reads a value on the host, which capture forbids). If capture fails the row is timed \
        eagerly and the reason is printed and noted.
        With --compare-pytorch, bench/seed_table.py runs the same configurations in PyTorch (eager and torch.compile; \
        reduce-overhead for the graph row) in the same run, interleaved per configuration.
        Writes <out>/<name>.json, .md and .svg.
        """)

    @Option(help: "Comma-separated scenarios: encoder, minilm, bert-base (default all; --quick: encoder,minilm).")
    var scenarios: String?

    @Option(help: "GPU sequence lengths for the BERT scenarios (default 128,512; --quick: 128).")
    var seqLens: String?

    @Option(help: "CPU sequence lengths for the BERT scenarios.")
    var cpuSeqLens = "128"

    @Option(help: "GPU batch size for the BERT scenarios.")
    var gpuBatch = 32

    @Option(help: "CPU batch size for the BERT scenarios (default 8; --quick: 4).")
    var cpuBatch: Int?

    @Option(help: "Timed steps per row (default 20; --quick: 5).")
    var steps: Int?

    @Option(help: "Untimed warm-up steps per row (default 5; --quick: 2).")
    var warmup: Int?

    @Option(
      help:
        "Rows: cpu, gpu, or row names (cpu-fp32, cpu-bf16, gpu-fp32, gpu-tf32, gpu-amp-fp16, gpu-amp-bf16, gpu-graph).")
    var deviceRows = "cpu,gpu"

    @Flag(help: "Small, fast defaults (for make bench).")
    var quick = false

    @Flag(help: "Also run the PyTorch twin (bench/seed_table.py) and print TorchSwift/PyTorch ratios.")
    var comparePytorch = false

    @Option(
      help:
        "Python with torch (and transformers for BERT) for --compare-pytorch (default: $TORCHSWIFT_PYTHON, else .venv/bin/python)."
    )
    var python: String?

    @Option(help: "Path of bench/seed_table.py (default: ./bench/seed_table.py or beside the binary).")
    var pytorchScript: String?

    @Option(
      help:
        "Rows PyTorch also runs under torch.compile: all, none or a list (default all; --quick: cpu-fp32,gpu-amp-bf16,gpu-graph)."
    )
    var compileRows: String?

    @Option(help: "Wall-clock budget in seconds: configurations left when it is spent are listed as skipped.")
    var budgetS: Double?

    @Flag(
      help: "Run PyTorch's torch.compile passes after all eager rows (so a --budget-s cut drops compile results first)."
    )
    var compileLast = false

    @Option(help: "Intra-op CPU threads for both sides (default: libtorch's choice).")
    var threads: Int?

    @Option(help: "all-MiniLM-L6-v2 config.json (default: the bundled model's, else built-in values).")
    var minilmConfig: String?

    @Option(help: "Output folder.")
    var out = "bench/results"

    @Option(
      help:
        "Profile each row after timing it (3 more steps, libtorch's profiler on both sides) and write Chrome traces and key-average tables into this folder."
    )
    var profileDir: String?

    @Option(help: "Base name of the output files.")
    var name = "seed_table"

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
      if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
      if let warmup, warmup < 0 { throw ValidationError("--warmup must be non-negative") }
      if let cpuBatch, cpuBatch < 1 { throw ValidationError("--cpu-batch must be at least 1") }
      if gpuBatch < 1 { throw ValidationError("--gpu-batch must be at least 1") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
      if let budgetS, budgetS <= 0 { throw ValidationError("--budget-s must be positive") }
    }

    func run() throws {
      let plan = try makePlan()
      if plan.configs.contains(where: { $0.rows.contains(.cpuBF16) }),
        let warning = PrecisionChoice.cpuWarning(
          .bf16, device: .cpu, cpu: CPUFeatures.current(), subject: "the cpu-bf16 row",
          alternative: "Its timing shows the emulation; leave it out with --device-rows cpu-fp32.")
      {
        PrecisionWarning.emit(warning)
      }
      if let profileDir {
        do {
          try FileManager.default.createDirectory(atPath: profileDir, withIntermediateDirectories: true)
        } catch {
          throw ValidationError("--profile-dir: cannot create '\(profileDir)': \(error.localizedDescription)")
        }
      }
      if let threads { Torch.numThreads = threads }
      let report = try execute(plan) { partial in try? self.write(partial, quiet: true) }
      try write(report)
    }

    // MARK: planning

    struct Plan {
      var configs: [(config: ScenarioConfig, rows: [RowKind])]
      var steps: Int
      var warmup: Int
      var compileRows: Set<RowKind>
      var notes: [String]
    }

    static func parseInts(_ s: String, flag: String) throws -> [Int] {
      try s.split(separator: ",").map {
        guard let v = Int($0.trimmingCharacters(in: .whitespaces)), v > 0 else {
          throw ValidationError("\(flag): '\($0)' is not a positive integer")
        }
        return v
      }
    }

    func makePlan() throws -> Plan {
      let names = (scenarios ?? (quick ? "encoder,minilm" : "encoder,minilm,bert-base"))
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      for n in names where !["encoder", "minilm", "bert-base"].contains(n) {
        throw ValidationError("unknown scenario '\(n)': use encoder, minilm, bert-base")
      }
      let rows = try RowKind.rows(
        forDevices: deviceRows.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      let gpuSeqs = try Self.parseInts(seqLens ?? (quick ? "128" : "128,512"), flag: "--seq-lens")
      let cpuSeqs = try Self.parseInts(cpuSeqLens, flag: "--cpu-seq-lens")
      let cpuB = cpuBatch ?? (quick ? 4 : 8)
      var compile = Set<RowKind>()
      switch compileRows ?? (quick ? "cpu-fp32,gpu-amp-bf16,gpu-graph" : "all") {
      case "all": compile = Set(RowKind.allCases)
      case "none": break
      case let list: compile = Set(try RowKind.rows(forDevices: list.split(separator: ",").map(String.init)))
      }
      var notes: [String] = []
      let cpuRows = rows.filter { !$0.onGPU }
      let gpuRows = rows.filter { $0.onGPU }
      var configs: [(ScenarioConfig, [RowKind])] = []
      for n in names {
        var perDevice: [(Bool, [RowKind])] = []
        if !cpuRows.isEmpty { perDevice.append((false, cpuRows)) }
        if !gpuRows.isEmpty { perDevice.append((true, gpuRows)) }
        for (gpu, devRows) in perDevice {
          switch n {
          case "encoder":
            // The seed's input [10, 32, 512] (sequence-first), and a larger one on the GPU.
            let enc = ScenarioConfig.Model.encoder(dModel: 512, nhead: 8, layers: 6, feedForward: 2048, dropout: 0.1)
            configs.append((ScenarioConfig(scenario: "encoder", model: enc, batch: 32, seq: 10, onGPU: gpu), devRows))
            if gpu {
              configs.append(
                (ScenarioConfig(scenario: "encoder", model: enc, batch: 64, seq: 128, onGPU: gpu), devRows))
            }
          default:
            let cfg: BertConfig
            if n == "minilm" {
              let (c, source) = try miniLMConfig(explicitPath: minilmConfig)
              cfg = c
              if !notes.contains(where: { $0.hasPrefix("minilm") }) {
                notes.append("minilm: all-MiniLM-L6-v2 architecture from \(source), random weights")
              }
            } else {
              cfg = BertConfig()  // BERT-base: hidden 768, 12 layers, 12 heads, ff 3072
              if !notes.contains(where: { $0.hasPrefix("bert-base") }) {
                notes.append("bert-base: hidden 768, 12 layers, 12 heads, ff 3072, vocab 30522, random weights")
              }
            }
            for t in (gpu ? gpuSeqs : cpuSeqs) {
              guard t <= cfg.maxPositionEmbeddings else {
                throw ValidationError(
                  "sequence length \(t) exceeds \(n)'s max_position_embeddings \(cfg.maxPositionEmbeddings)")
              }
              configs.append(
                (
                  ScenarioConfig(scenario: n, model: .bert(cfg), batch: gpu ? gpuBatch : cpuB, seq: t, onGPU: gpu),
                  devRows
                ))
            }
          }
        }
      }
      return Plan(
        configs: configs, steps: steps ?? (quick ? 5 : 20), warmup: warmup ?? (quick ? 2 : 5),
        compileRows: compile, notes: notes)
    }

    // MARK: running

    /// Why this machine cannot run `row`, or nil.
    static func skipReason(_ row: RowKind, gpu: CUDA.DeviceProperties?) -> String? {
      guard row.onGPU else { return nil }
      guard CUDA.isAvailable else {
        return Torch.cudaBuildVersions == nil
          ? "libtorch is CPU-only (no CUDA)" : "no CUDA device (no NVIDIA driver or GPU visible)"
      }
      guard let gpu else { return "cannot read the GPU's properties" }
      switch row {
      case .gpuTF32 where !gpu.supportsTF32, .gpuAMPBF16 where !gpu.supportsBF16, .gpuGraph where !gpu.supportsBF16:
        return "needs compute capability 8.0 or newer (\(gpu.name) is \(gpu.major).\(gpu.minor))"
      case .gpuGraph where !CUDA.hasCUDAExtensions:
        return "the C layer was built without CUDA headers (no CUDA graphs): rebuild it with CUDA headers"
      default: return nil
      }
    }

    /// Runs the plan; `checkpoint` gets the table so far after every configuration (partial results survive a kill).
    func execute(_ plan: Plan, checkpoint: (SeedTableReport) -> Void = { _ in }) throws -> SeedTableReport {
      let start = Date()
      let gpu: CUDA.DeviceProperties? = CUDA.isAvailable ? try? CUDA.properties(0) : nil
      var twin: PyTorchTwin? = nil
      var notes = plan.notes
      var pytorchProblem: String? = nil
      if comparePytorch {
        if let script = PyTorchTwin.locateScript(pytorchScript) {
          twin = PyTorchTwin(python: PyTorchTwin.resolvePython(python), script: script)
        } else {
          pytorchProblem =
            pytorchScript.map { "PyTorch script '\($0)' not found" }
            ?? "bench/seed_table.py not found (pass --pytorch-script)"
          notes.append("PyTorch: \(pytorchProblem!)")
        }
      }
      if let gpu, PeakThroughput.entry(forDeviceName: gpu.name) == nil {
        notes.append("MFU: no peak throughput known for \(gpu.name) (known: H100, H200, A100)")
      }
      let df = DateFormatter()
      df.dateFormat = "yyyy-MM-dd"
      df.locale = Locale(identifier: "en_US_POSIX")
      let machine = Self.machineDescription()
      func report(_ entries: [TableEntry]) -> SeedTableReport {
        SeedTableReport(
          date: df.string(from: Date()), machine: machine, torchVersion: Torch.runtime.version,
          gpuName: gpu?.name, steps: plan.steps, warmup: plan.warmup, comparePyTorch: comparePytorch,
          entries: entries, notes: notes,
          fusedKernels: gpu == nil ? nil : "fused kernels \(FusedKernels.summary)")
      }
      let deadline = budgetS.map { start.addingTimeInterval($0) }
      let budgetNote = "time budget (--budget-s \(Int(budgetS ?? 0))) spent"
      func spec(_ config: ScenarioConfig, rows: [RowKind], eager: Bool, compile: [RowKind]) -> [String: Any] {
        var s: [String: Any] = [
          "scenario": config.scenario, "kind": config.pythonModel.kind, "model": config.pythonModel.model,
          "batch": config.batch, "seq": config.seq, "device": config.onGPU ? "cuda" : "cpu",
          "rows": rows.map(\.rawValue), "eager": eager, "compile_rows": compile.map(\.rawValue),
          "steps": plan.steps, "warmup": plan.warmup, "threads": Torch.numThreads, "seed": Int(seed)
        ]
        if let deadline { s["deadline"] = deadline.timeIntervalSince1970 }
        if let profileDir {
          s["profile_dir"] = profileDir
          s["profile_name"] = config.fileStem
        }
        return s
      }
      var entries: [TableEntry] = []
      // With --compile-last, torch.compile passes wait until every eager row is done: (config, rows, entry indices).
      var pendingCompile: [(ScenarioConfig, [RowKind], Range<Int>)] = []
      for (config, rows) in plan.configs {
        var runnable: [RowKind] = []
        var group: [TableEntry] = []
        let outOfTime = deadline.map { Date() > $0 } ?? false
        for row in rows {
          var e = TableEntry(
            scenario: config.scenario, shape: config.shape, row: row, batch: config.batch,
            flopsPerStep: config.flops.trainingFLOPs(batch: config.batch, seq: config.seq), swift: .skipped(""))
          if let reason = Self.skipReason(row, gpu: gpu) {
            e.swift = .skipped(reason)
          } else if outOfTime {
            e.swift = .skipped(budgetNote)
          } else {
            log(
              "\(config.scenario) \(config.shape) \(row.rawValue): running (\(plan.warmup) warm-up + \(plan.steps) timed steps)"
            )
            do {
              let m = try measureSwiftRow(
                config, row: row, steps: plan.steps, warmup: plan.warmup, seed: seed,
                profile: profileDir.map { "\($0)/\(config.fileStem)-\(row.rawValue)-torchswift" })
              e.swift = .ok(m)
              log(
                String(
                  format: "  TorchSwift: median %.2f ms, p90 %.2f ms, %.1f samples/s", m.medianMs, m.p90Ms,
                  m.samplesPerS))
            } catch {
              e.swift = .failed("\(error)")
              log("  TorchSwift failed: \(error)")
            }
            runnable.append(row)
          }
          if row.onGPU, CUDA.isAvailable { try? CUDA.emptyCache() }
          group.append(e)
        }
        if comparePytorch {
          let compileRows = runnable.filter { plan.compileRows.contains($0) }
          let compileNow = !compileLast
          var results: PyTorchTwin.Results = [:]
          var problem = pytorchProblem
          if let twin, !runnable.isEmpty {
            log(
              "\(config.scenario) \(config.shape): PyTorch twin (\(runnable.map(\.rawValue).joined(separator: ", ")))")
            (results, problem) = twin.run(
              spec: spec(config, rows: runnable, eager: true, compile: compileNow ? compileRows : []))
            if let problem { log("  PyTorch: \(problem)") }
          }
          for i in group.indices {
            let row = group[i].row
            guard runnable.contains(row) else {
              group[i].pytorchEager = .skipped("not run (TorchSwift row skipped)")
              group[i].pytorchCompile = .skipped("not run (TorchSwift row skipped)")
              continue
            }
            let missing: Outcome = .failed(problem ?? "no result from the PyTorch script")
            group[i].pytorchEager = results[row.rawValue]?["eager"] ?? missing
            if compileNow || !compileRows.contains(row) {
              group[i].pytorchCompile =
                results[row.rawValue]?["compile"]
                ?? (compileRows.contains(row) ? missing : .skipped("not in --compile-rows"))
            } else {
              group[i].pytorchCompile = .skipped("not reached (compile passes run last)")
            }
          }
          if !compileNow, twin != nil, !compileRows.isEmpty {
            pendingCompile.append((config, compileRows, entries.count..<(entries.count + group.count)))
          }
        }
        entries += group
        checkpoint(report(entries))
      }
      for (config, rows, range) in pendingCompile {
        guard let twin else { break }
        if let deadline, Date().addingTimeInterval(60) > deadline {
          for i in range where rows.contains(entries[i].row) { entries[i].pytorchCompile = .skipped(budgetNote) }
          continue
        }
        log(
          "\(config.scenario) \(config.shape): PyTorch torch.compile (\(rows.map(\.rawValue).joined(separator: ", ")))")
        let (results, problem) = twin.run(spec: spec(config, rows: rows, eager: false, compile: rows))
        if let problem { log("  PyTorch: \(problem)") }
        for i in range where rows.contains(entries[i].row) {
          entries[i].pytorchCompile =
            results[entries[i].row.rawValue]?["compile"]
            ?? .failed(problem ?? "no result from the PyTorch script")
        }
        checkpoint(report(entries))
      }
      return report(entries)
    }

    func log(_ s: String) { FileHandle.standardError.write(Data("bench table: \(s)\n".utf8)) }

    static func machineDescription() -> String {
      var cpu = "unknown CPU"
      if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let colon = line.firstIndex(of: ":")
      {
        cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), \(Torch.numThreads) threads"
    }

    func write(_ report: SeedTableReport, quiet: Bool = false) throws {
      if !quiet { print(report.terminalTable(), terminator: "") }
      let dir = URL(fileURLWithPath: out)
      do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try report.json().write(to: dir.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        try report.markdown().write(to: dir.appendingPathComponent("\(name).md"), atomically: true, encoding: .utf8)
        try report.svg().write(to: dir.appendingPathComponent("\(name).svg"), atomically: true, encoding: .utf8)
      } catch {
        throw BenchTableError("cannot write the results into '\(out)': \(error.localizedDescription)")
      }
      if !quiet { print("wrote \(out)/\(name).json, .md and .svg") }
    }
  }
}
