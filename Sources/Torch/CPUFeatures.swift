import Foundation

/// What an x86 CPU offers for reduced-precision math, from the feature flags Linux lists in `/proc/cpuinfo`.
///
/// libtorch runs bfloat16 autocast on the CPU with native instructions only where the CPU has AVX512_BF16
/// or AMX-BF16 (float16: AVX512_FP16 or AMX-FP16); elsewhere it converts in software, which made a MiniLM
/// training step 12× and a transformer encoder step 20× slower than float32 on a 2-core AVX2 AMD EPYC.
public struct CPUFeatures: Sendable, Equatable {
  /// The flags every processor in the listing reports (lower case, as in `/proc/cpuinfo`).
  public var flags: Set<String>
  /// The `model name` of the first processor, if listed.
  public var modelName: String?

  public init(flags: Set<String>, modelName: String? = nil) {
    self.flags = Set(flags.map { $0.lowercased() })
    self.modelName = modelName
  }

  /// Parses `/proc/cpuinfo` text: the flags common to all `flags` lines (one per processor) and the first
  /// `model name`. Nil when the text has no `flags` line (not an x86 listing), so nothing can be said.
  public init?(cpuinfo: String) {
    var common: Set<String>? = nil
    var model: String? = nil
    for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: true) {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      if key == "flags" {
        let set = Set(value.split(separator: " ").map { $0.lowercased() })
        common = common.map { $0.intersection(set) } ?? set
      } else if key == "model name", model == nil {
        model = value
      }
    }
    guard let common else { return nil }
    self.init(flags: common, modelName: model)
  }

  /// This machine's CPU, read from `$TORCHSWIFT_CPUINFO` (a file in `/proc/cpuinfo` format, for tests and
  /// diagnosis) or else `/proc/cpuinfo`; nil where neither can be read or parsed (e.g. macOS, Arm).
  public static func current() -> CPUFeatures? {
    let path =
      ProcessInfo.processInfo.environment["TORCHSWIFT_CPUINFO"].flatMap { $0.isEmpty ? nil : $0 } ?? "/proc/cpuinfo"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return CPUFeatures(cpuinfo: text)
  }

  /// AVX512_BF16 (`avx512_bf16`).
  public var hasAVX512BF16: Bool { flags.contains("avx512_bf16") }
  /// AMX with bfloat16 tiles (`amx_bf16`).
  public var hasAMXBF16: Bool { flags.contains("amx_bf16") }
  /// AVX512_FP16 (`avx512_fp16`).
  public var hasAVX512FP16: Bool { flags.contains("avx512_fp16") }
  /// AMX with float16 tiles (`amx_fp16`).
  public var hasAMXFP16: Bool { flags.contains("amx_fp16") }

  /// Native bfloat16 math: AVX512_BF16 or AMX-BF16.
  public var hasNativeBF16: Bool { hasAVX512BF16 || hasAMXBF16 }
  /// Native float16 math: AVX512_FP16 or AMX-FP16.
  public var hasNativeFP16: Bool { hasAVX512FP16 || hasAMXFP16 }

  /// The bfloat16 features found, in the spelling of Intel's manuals ("AVX512_BF16", "AMX-BF16").
  public var bf16Features: [String] { (hasAVX512BF16 ? ["AVX512_BF16"] : []) + (hasAMXBF16 ? ["AMX-BF16"] : []) }
  /// The float16 features found ("AVX512_FP16", "AMX-FP16").
  public var fp16Features: [String] { (hasAVX512FP16 ? ["AVX512_FP16"] : []) + (hasAMXFP16 ? ["AMX-FP16"] : []) }

  /// The widest vector extension listed (AVX512F, AVX2, AVX, SSE4.2), for messages.
  public var vectorExtension: String? {
    if flags.contains("avx512f") { return "AVX-512" }
    if flags.contains("avx2") { return "AVX2" }
    if flags.contains("avx") { return "AVX" }
    if flags.contains("sse4_2") { return "SSE4.2" }
    return nil
  }
}
