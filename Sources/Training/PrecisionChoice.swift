import Torch

/// Turning a `--precision` value (fp32, bf16, fp16 or auto) into the precision a run uses, and the warning due
/// when bfloat16 (or float16) autocast would run on a CPU without native support for it.
public enum PrecisionChoice {
  /// The values `--precision` accepts.
  public static let names = FineTuneConfig.Precision.allCases.map(\.rawValue) + ["auto"]

  /// What `auto` picks on `device`: bf16 on a GPU that supports it (compute capability 8.0 or newer) and on a
  /// CPU with native bfloat16 (AVX512_BF16 or AMX-BF16); fp32 everywhere else, including a CPU that cannot be
  /// identified (`cpu` nil).
  public static func auto(device: Device, cpu: CPUFeatures?, gpuSupportsBF16: Bool) -> FineTuneConfig.Precision {
    switch device {
    case .cuda: return gpuSupportsBF16 ? .bf16 : .fp32
    case .cpu: return cpu?.hasNativeBF16 == true ? .bf16 : .fp32
    }
  }

  /// Resolves a `--precision` value for `device`; `auto` reads the GPU's properties or the CPU's flags
  /// (this machine's `CPUFeatures.current()` unless `cpu` is given).
  public static func resolve(_ name: String, device: Device, cpu: CPUFeatures? = CPUFeatures.current()) throws
    -> FineTuneConfig.Precision
  {
    if let p = FineTuneConfig.Precision(rawValue: name) { return p }
    guard name == "auto" else {
      throw TrainingError("--precision must be one of \(names.joined(separator: ", ")), got '\(name)'")
    }
    var gpuBF16 = false
    if case .cuda(let index) = device { gpuBF16 = (try? CUDA.properties(index).supportsBF16) ?? false }
    return auto(device: device, cpu: cpu, gpuSupportsBF16: gpuBF16)
  }

  /// Why `auto` picked what it did, for a run's banner ("auto: the CPU has no AVX512_BF16 or AMX-BF16").
  public static func autoReason(device: Device, cpu: CPUFeatures?, picked: FineTuneConfig.Precision) -> String {
    switch (device, picked) {
    case (.cuda, .bf16): return "auto: \(device) supports bf16"
    case (.cuda, _): return "auto: \(device) has no native bf16 (compute capability below 8.0)"
    case (.cpu, .bf16): return "auto: the CPU has \(cpu?.bf16Features.joined(separator: " and ") ?? "native bf16")"
    case (.cpu, _):
      return cpu == nil ? "auto: the CPU's features could not be read" : "auto: the CPU has no AVX512_BF16 or AMX-BF16"
    }
  }

  /// The alternative the warning offers by default.
  public static let defaultAlternative =
    "Use --precision fp32, or --precision auto to pick bf16 only where the hardware has it."

  /// The warning due before a run with `precision` on `device`, or nil: bf16 autocast on a CPU whose flags show no
  /// native bfloat16 (AVX512_BF16, AMX-BF16), or fp16 autocast on one without native float16 (AVX512_FP16,
  /// AMX-FP16). It says what was detected, the expected slowdown and the `alternative`; `subject` names what asked
  /// for the precision (default: the `--precision` flag). Nothing is said on GPUs, for fp32, or when the CPU could
  /// not be identified.
  public static func cpuWarning(
    _ precision: FineTuneConfig.Precision, device: Device, cpu: CPUFeatures?,
    subject: String? = nil, alternative: String = defaultAlternative
  ) -> String? {
    guard device == .cpu, let cpu else { return nil }
    let what = [cpu.modelName, cpu.vectorExtension].compactMap { $0 }.joined(separator: ", ")
    let thisCPU = "this CPU" + (what.isEmpty ? "" : " (\(what))")
    let lead = "warning: \(subject ?? "--precision \(precision.rawValue) on the CPU")"
    switch precision {
    case .bf16 where !cpu.hasNativeBF16:
      return "\(lead): \(thisCPU) has no native bfloat16 (neither AVX512_BF16 nor AMX-BF16 in its flags), so libtorch "
        + "emulates bf16 autocast in software and each step runs about 10-20x slower than fp32 (measured on a 2-core "
        + "AVX2 CPU: a MiniLM training step 12x, a transformer encoder step 20x). " + alternative
    case .fp16 where !cpu.hasNativeFP16:
      return "\(lead): \(thisCPU) has no native float16 (neither AVX512_FP16 nor AMX-FP16 in its flags), so libtorch "
        + "emulates fp16 autocast in software and runs far slower than fp32 (measured on an AVX-512 CPU without "
        + "AVX512_FP16: a 128x384 by 384x1536 linear layer 40x slower). " + alternative
    default:
      return nil
    }
  }
}

extension FineTuneConfig.Precision {
  /// The dtype autocast runs eligible ops in, nil for fp32 (no autocast).
  public var autocastDType: DType? {
    switch self {
    case .fp32: return nil
    case .bf16: return .bfloat16
    case .fp16: return .float16
    }
  }

  /// Runs `body` under autocast to this precision on `device` (directly for fp32).
  public func run<R>(on device: Device, _ body: () throws -> R) throws -> R {
    guard let dtype = autocastDType else { return try body() }
    return try withAutocast(dtype, device: device, body)
  }
}
