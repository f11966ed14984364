import ArgumentParser
import Foundation
import Models
import Torch
import Training

#if canImport(Glibc)
  import Glibc
#endif

/// `torchswift doctor`: what this machine offers TorchSwift, and whether it is healthy.
struct Doctor: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Check Swift, libtorch, CPU and CUDA (driver, cuDNN, NCCL, GPUs, /dev/shm), c10d; exits non-zero with advice on problems.",
    discussion:
      "A machine without a GPU is healthy: CUDA checks then report what is missing without failing. Under torchrun (torchrun --no-python --nproc-per-node N torchswift doctor) each rank also reports its view of the job and runs an all-reduce over all ranks."
  )

  @Flag(help: "Print libtorch's full build configuration too.")
  var verbose = false

  func run() throws {
    var problems: [String] = []
    var warnings: [String] = []
    func line(_ k: String, _ v: String) { print(k.padding(toLength: 22, withPad: " ", startingAt: 0) + v) }
    line("Swift", swiftVersion())
    let runtime = Torch.runtime
    line("libtorch (built)", Torch.builtVersion)
    line("libtorch (loaded)", "\(runtime.version) from \(runtime.libraryPath)")
    if let problem = Torch.versionProblem() { problems.append(problem) }
    line("C++11 ABI", Torch.cxx11ABI ? "yes" : "no")
    let built = Torch.cudaBuildVersions
    if let built {
      line("built with CUDA", "\(built.cuda), cuDNN \(built.cudnn)")
    } else {
      line("built with CUDA", "no (CPU-only libtorch)")
    }
    line("CPU capability", Torch.cpuCapability)
    for (name, value) in Self.cpuPrecisionLines(CPUFeatures.current()) { line(name, value) }
    line("threads", "\(Torch.numThreads) intra-op (of \(ProcessInfo.processInfo.activeProcessorCount) cores)")

    // ---- NVIDIA driver against the CUDA libtorch was built for ----
    let driver = Self.nvidiaDriverVersion()
    let (driverCUDA, runtimeCUDA) = CUDA.driverAndRuntimeVersions
    if let driver {
      line(
        "NVIDIA driver",
        "\(driver.version) (from \(driver.source))" + (driverCUDA.map { ", supports CUDA up to \($0)" } ?? ""))
    } else {
      line("NVIDIA driver", "none found (no /proc/driver/nvidia/version, no nvidia-smi)")
    }
    if let runtimeCUDA { line("CUDA runtime (loaded)", runtimeCUDA) }
    if let built, let driver {
      switch DriverRequirements.check(cuda: built.cuda, driver: driver.version) {
      case .ok(let required):
        line("driver check", "ok: CUDA \(built.cuda) needs \(required) or newer")
      case .minorCompatibility(let full, let minimum):
        line("driver check", "ok through CUDA minor version compatibility (≥ \(minimum))")
        warnings.append(
          "driver \(driver.version) runs CUDA \(built.cuda) through minor version compatibility only"
            + (full.map { "; full support (PTX JIT of newer kernels, newest APIs) needs \($0) or newer" } ?? ""))
      case .tooOld(let minimum):
        line("driver check", "TOO OLD for CUDA \(built.cuda) (needs \(minimum) or newer)")
        problems.append(
          "NVIDIA driver \(driver.version) is too old for libtorch built with CUDA \(built.cuda) (needs ≥ \(minimum)). "
            + "Upgrade the driver, or use a torch built for an older CUDA (e.g. pip install torch --index-url https://download.pytorch.org/whl/cu118) and rebuild with LIBTORCH=… make setup."
        )
      case .unknown(let why):
        line("driver check", "not checked: \(why)")
      }
    }
    if let built, let driverCUDA, let d = DottedVersion(driverCUDA), let b = DottedVersion(built.cuda),
      d.parts[0] < b.parts[0]
    {
      problems.append(
        "the NVIDIA driver supports CUDA up to \(driverCUDA) but libtorch needs CUDA \(built.cuda): upgrade the driver")
    }

    // ---- cuDNN, NCCL ----
    if built != nil {
      line("cuDNN (loaded)", CUDA.cudnnRuntimeVersion ?? "not loaded")
      line("NCCL (loaded)", CUDA.ncclVersion ?? "not loaded")
    }

    // ---- GPUs ----
    let visible = ProcessInfo.processInfo.environment["CUDA_VISIBLE_DEVICES"]
    line("CUDA_VISIBLE_DEVICES", visible.map { $0.isEmpty ? "(empty: no GPU visible)" : $0 } ?? "(not set)")
    let container = ContainerCheck.current
    if let container {
      line("container", "\(container)" + (driver != nil ? " (the NVIDIA driver above is the host's)" : ""))
      print(
        "NVIDIA_VISIBLE_DEVICES "
          + ContainerCheck.describeNvidiaVisibleDevices(ProcessInfo.processInfo.environment["NVIDIA_VISIBLE_DEVICES"]))
    }
    if CUDA.isAvailable {
      line("CUDA", "available, \(CUDA.deviceCount) device(s)")
      for i in 0..<CUDA.deviceCount {
        do {
          let p = try CUDA.properties(i)
          let gib = String(format: "%.1f", Double(p.totalMemory) / 1_073_741_824)
          line(
            "  cuda:\(i)",
            "\(p.name), \(gib) GiB, compute capability \(p.major).\(p.minor), \(p.multiprocessors) SMs, "
              + "TF32 \(p.supportsTF32 ? "yes" : "no"), BF16 \(p.supportsBF16 ? "yes" : "no")")
        } catch {
          problems.append("cannot read the properties of cuda:\(i): \(error)")
        }
      }
      if !CUDA.hasCUDAExtensions {
        warnings.append(
          "the C layer was built without CUDA headers: GPU memory statistics, streams and CUDA graphs are unavailable (install the CUDA toolkit or set CUDA_HOME, then make setup)"
        )
      }
      do {
        let a = try Tensor([1, 2, 3] as [Float]).to(device: .cuda(0))
        let b = try a.mul(a).sum().item(Float.self)
        line("GPU smoke test", b == 14 ? "ok (cuda:0 tensor math)" : "FAILED (got \(b), expected 14)")
        if b != 14 { problems.append("libtorch computed a wrong result on cuda:0") }
      } catch {
        problems.append("libtorch failed a GPU smoke test on cuda:0: \(error)")
      }
      // Not a problem when missing: the eager ops run instead.
      line("fused kernels", FusedKernels.summary + (FusedKernels.isAvailable ? "" : "; eager ops run instead"))
    } else {
      line("CUDA", "not available" + (built == nil ? " (CPU-only libtorch)" : " (no NVIDIA driver or GPU visible)"))
      if built != nil, driver != nil, visible.map({ !$0.isEmpty && $0 != "-1" }) ?? true {
        problems.append(
          "an NVIDIA driver is installed but libtorch sees no GPU: run nvidia-smi, check CUDA_VISIBLE_DEVICES"
            + " and that the driver supports CUDA \(built!.cuda)")
      } else if let built, driver == nil, let container {
        warnings.append(ContainerCheck.noDriverAdvice(engine: container, cuda: built.cuda))
      } else if built == nil, driver != nil {
        warnings.append(
          "this machine has an NVIDIA driver but libtorch is CPU-only: use a CUDA build of torch (LIBTORCH=… make setup) to use the GPU"
        )
      }
    }

    // ---- /dev/shm ----
    if let shm = Self.fileSystemSize("/dev/shm") {
      line("/dev/shm", String(format: "%.2f GiB", Double(shm) / 1_073_741_824))
      if let w = ContainerCheck.sharedMemoryWarning(bytes: shm) { warnings.append(w) }
    } else {
      line("/dev/shm", "not present")
    }

    do {
      let a = try Tensor([1, 2, 3] as [Float])
      let b = try a.mul(a).sum().item(Float.self)
      line("smoke test", b == 14 ? "ok (CPU tensor math)" : "FAILED (got \(b), expected 14)")
      if b != 14 { problems.append("libtorch computed a wrong result on the CPU") }
    } catch {
      problems.append("libtorch failed a CPU smoke test: \(error)")
    }
    line("encoder models", "BertModel, BertForSequenceClassification, sentence-transformers (bert)")
    line(
      "decoder-only models",
      AutoModelForCausalLM.supportedArchitectures.map { "\($0.architecture) (\($0.modelType))" }.joined(separator: ", ")
    )
    let distributed = DistributedCheck.run()
    for (k, v) in distributed.lines { line(k, v) }
    problems += distributed.problems
    if verbose { print("\n" + Torch.config) }
    if !warnings.isEmpty {
      print("\nWarnings:")
      for w in warnings { print("  - \(w)") }
    }
    if problems.isEmpty {
      print("\nAll checks passed.")
    } else {
      print("\nProblems:")
      for p in problems { print("  - \(p)") }
      throw ExitCode(1)
    }
  }

  /// What the CPU's flags say about `--precision` on the CPU: native bfloat16 (AVX512_BF16, AMX-BF16) and float16
  /// (AVX512_FP16, AMX-FP16), and what `auto` picks.
  static func cpuPrecisionLines(_ cpu: CPUFeatures?) -> [(String, String)] {
    guard let cpu else {
      return [
        ("CPU bfloat16/float16", "unknown (no x86 feature flags could be read); --precision auto uses fp32 on the CPU")
      ]
    }
    let bf16 =
      cpu.hasNativeBF16
      ? "native (\(cpu.bf16Features.joined(separator: ", "))): --precision bf16 runs natively; auto picks bf16 on the CPU"
      : "not native (no AVX512_BF16 or AMX-BF16): bf16 autocast is emulated, 10-20x slower than fp32; auto picks fp32 on the CPU"
    let fp16 =
      cpu.hasNativeFP16
      ? "native (\(cpu.fp16Features.joined(separator: ", "))): --precision fp16 runs natively on the CPU"
      : "not native (no AVX512_FP16 or AMX-FP16): fp16 autocast on the CPU is emulated and far slower than fp32"
    return [("CPU bfloat16", bf16), ("CPU float16", fp16)]
  }

  /// The NVIDIA kernel driver's version: /proc/driver/nvidia/version, else nvidia-smi.
  static func nvidiaDriverVersion() -> (version: String, source: String)? {
    if let text = try? String(contentsOfFile: "/proc/driver/nvidia/version", encoding: .utf8),
      let v = DriverRequirements.parseProcVersion(text)
    {
      return (v, "/proc/driver/nvidia/version")
    }
    if let out = runQuietly(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], timeout: 15),
      let first = out.split(separator: "\n").first.map({ $0.trimmingCharacters(in: .whitespaces) }),
      DottedVersion(first) != nil
    {
      return (first, "nvidia-smi")
    }
    return nil
  }

  /// Runs a program found on PATH and returns its stdout, or nil when it is missing, fails or times out.
  static func runQuietly(_ argv: [String], timeout: Double) -> String? {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
      .map { "\($0)/\(argv[0])" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let path else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = Array(argv.dropFirst())
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    guard p.terminationReason == .exit, p.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
  }

  /// Total size of the file system at `path` (statvfs), nil when it does not exist.
  static func fileSystemSize(_ path: String) -> UInt64? {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { return nil }
    return UInt64(s.f_blocks) * UInt64(s.f_frsize)
  }

  private func swiftVersion() -> String {
    #if compiler(>=6.4)
      return "6.4 or newer"
    #elseif compiler(>=6.3)
      return "6.3"
    #elseif compiler(>=6.2)
      return "6.2"
    #elseif compiler(>=6.1)
      return "6.1"
    #else
      return "6.0 or older"
    #endif
  }
}
