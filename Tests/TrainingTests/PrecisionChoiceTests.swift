import Foundation
import Models
import Training
import XCTest

@testable import Torch

/// CPU bfloat16/float16 detection from /proc/cpuinfo flags, `--precision auto`, and the one warning before bf16
/// autocast on a CPU without native bfloat16 (issue 15).
final class PrecisionChoiceTests: XCTestCase {
  /// Two processors of a 2-core AMD EPYC with AVX2 and no native bfloat16 (as /proc/cpuinfo lists them).
  static let epycAVX2 = (0..<2).map { i in
    """
    processor\t: \(i)
    vendor_id\t: AuthenticAMD
    cpu family\t: 23
    model name\t: AMD EPYC 7B12
    flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr arat npt nrip_save umip rdpid
    bugs\t\t: sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass retbleed smt_rsb
    bogomips\t: 4499.99

    """
  }.joined()

  /// One processor of an Intel Sapphire Rapids Xeon: AVX512_BF16, AMX-BF16 and AVX512_FP16 (no AMX-FP16).
  static let sapphireRapids = """
    processor\t: 0
    vendor_id\t: GenuineIntel
    model name\t: Intel(R) Xeon(R) Platinum 8480+
    flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov sse sse2 ss ht syscall nx pdpe1gb rdtscp lm avx f16c avx2 avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx512_bf16 avx512vbmi umip pku avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq avx512_fp16 amx_bf16 amx_tile amx_int8 arch_capabilities

    """

  func testDetectsNativeBF16AndFP16FromCpuinfoFlags() throws {
    let epyc = try XCTUnwrap(CPUFeatures(cpuinfo: Self.epycAVX2))
    XCTAssertEqual(epyc.modelName, "AMD EPYC 7B12")
    XCTAssertTrue(epyc.flags.contains("avx2") && epyc.flags.contains("f16c"))
    XCTAssertFalse(epyc.hasNativeBF16)
    XCTAssertFalse(epyc.hasNativeFP16)
    XCTAssertEqual(epyc.bf16Features, [])
    XCTAssertEqual(epyc.vectorExtension, "AVX2")

    let spr = try XCTUnwrap(CPUFeatures(cpuinfo: Self.sapphireRapids))
    XCTAssertTrue(spr.hasAVX512BF16 && spr.hasAMXBF16 && spr.hasNativeBF16)
    XCTAssertEqual(spr.bf16Features, ["AVX512_BF16", "AMX-BF16"])
    XCTAssertTrue(spr.hasAVX512FP16 && spr.hasNativeFP16)
    XCTAssertFalse(spr.hasAMXFP16)
    XCTAssertEqual(spr.fp16Features, ["AVX512_FP16"])
    XCTAssertEqual(spr.vectorExtension, "AVX-512")

    // AMX alone is enough; a flag only some processors list does not count; a listing without flags says nothing.
    XCTAssertTrue(CPUFeatures(flags: ["avx2", "amx_bf16"]).hasNativeBF16)
    XCTAssertTrue(CPUFeatures(flags: ["amx_fp16"]).hasNativeFP16)
    let mixed = try XCTUnwrap(CPUFeatures(cpuinfo: "flags : avx2 avx512_bf16\nflags : avx2\n"))
    XCTAssertFalse(mixed.hasNativeBF16)
    XCTAssertNil(
      CPUFeatures(cpuinfo: "processor : 0\nBogoMIPS : 50.00\nFeatures : fp asimd bf16\nCPU implementer : 0x41\n"))
  }

  func testAutoPicksBF16OnlyWhereTheHardwareHasIt() throws {
    let epyc = CPUFeatures(cpuinfo: Self.epycAVX2)
    let spr = CPUFeatures(cpuinfo: Self.sapphireRapids)
    XCTAssertEqual(PrecisionChoice.auto(device: .cpu, cpu: spr, gpuSupportsBF16: false), .bf16)
    XCTAssertEqual(PrecisionChoice.auto(device: .cpu, cpu: epyc, gpuSupportsBF16: true), .fp32)
    XCTAssertEqual(PrecisionChoice.auto(device: .cpu, cpu: nil, gpuSupportsBF16: true), .fp32, "unknown CPU: fp32")
    XCTAssertEqual(PrecisionChoice.auto(device: .cuda(0), cpu: epyc, gpuSupportsBF16: true), .bf16)
    XCTAssertEqual(PrecisionChoice.auto(device: .cuda(1), cpu: spr, gpuSupportsBF16: false), .fp32)
    XCTAssertEqual(try PrecisionChoice.resolve("auto", device: .cpu, cpu: spr), .bf16)
    XCTAssertEqual(try PrecisionChoice.resolve("auto", device: .cpu, cpu: epyc), .fp32)
    // Explicit values are kept whatever the hardware; anything else is refused, naming the flag and the choices.
    XCTAssertEqual(try PrecisionChoice.resolve("bf16", device: .cpu, cpu: epyc), .bf16)
    XCTAssertEqual(try PrecisionChoice.resolve("fp16", device: .cpu, cpu: spr), .fp16)
    XCTAssertEqual(try PrecisionChoice.resolve("fp32", device: .cpu, cpu: spr), .fp32)
    XCTAssertThrowsError(try PrecisionChoice.resolve("bfloat16", device: .cpu, cpu: spr)) {
      XCTAssertTrue("\($0)".contains("--precision must be one of fp32, bf16, fp16, auto, got 'bfloat16'"), "\($0)")
    }
    XCTAssertTrue(
      PrecisionChoice.autoReason(device: .cpu, cpu: spr, picked: .bf16).contains("AVX512_BF16 and AMX-BF16"))
    XCTAssertTrue(
      PrecisionChoice.autoReason(device: .cpu, cpu: epyc, picked: .fp32).contains("no AVX512_BF16 or AMX-BF16"))
  }

  func testWarningSaysWhatWasDetectedTheSlowdownAndTheAlternative() throws {
    let epyc = CPUFeatures(cpuinfo: Self.epycAVX2)
    let spr = CPUFeatures(cpuinfo: Self.sapphireRapids)
    let w = try XCTUnwrap(PrecisionChoice.cpuWarning(.bf16, device: .cpu, cpu: epyc))
    XCTAssertEqual(
      w,
      "warning: --precision bf16 on the CPU: this CPU (AMD EPYC 7B12, AVX2) has no native bfloat16 "
        + "(neither AVX512_BF16 nor AMX-BF16 in its flags), so libtorch emulates bf16 autocast in software and each step "
        + "runs about 10-20x slower than fp32 (measured on a 2-core AVX2 CPU: a MiniLM training step 12x, a transformer "
        + "encoder step 20x). Use --precision fp32, or --precision auto to pick bf16 only where the hardware has it.")
    let fp16 = try XCTUnwrap(PrecisionChoice.cpuWarning(.fp16, device: .cpu, cpu: epyc))
    XCTAssertTrue(
      fp16.hasPrefix("warning: --precision fp16 on the CPU: this CPU (AMD EPYC 7B12, AVX2) has no native float16"), fp16
    )
    // No warning where bf16 is native, on a GPU, for fp32, or when the CPU is unknown.
    XCTAssertNil(PrecisionChoice.cpuWarning(.bf16, device: .cpu, cpu: spr))
    XCTAssertNil(PrecisionChoice.cpuWarning(.fp16, device: .cpu, cpu: spr))
    XCTAssertNil(PrecisionChoice.cpuWarning(.bf16, device: .cuda(0), cpu: epyc))
    XCTAssertNil(PrecisionChoice.cpuWarning(.fp32, device: .cpu, cpu: epyc))
    XCTAssertNil(PrecisionChoice.cpuWarning(.bf16, device: .cpu, cpu: nil))
  }

  /// The real binary on a tiny run, with the CPU listing taken from a file: exactly one warning before a bf16 run
  /// (training and evaluation both under autocast) on the AVX2 CPU, none on Sapphire Rapids; `auto` resolves there
  /// to bf16 and says why; predict and embed warn the same way.
  func testTheBinaryWarnsOnceBeforeABF16RunWithoutNativeBF16() throws {
    let s = try TrainEnv.scratch("precision")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 12)
    try Self.epycAVX2.write(toFile: s + "/cpuinfo-avx2", atomically: true, encoding: .utf8)
    try Self.sapphireRapids.write(toFile: s + "/cpuinfo-spr", atomically: true, encoding: .utf8)
    let avx2 = ["TORCHSWIFT_CPUINFO": s + "/cpuinfo-avx2"]
    let spr = ["TORCHSWIFT_CPUINFO": s + "/cpuinfo-spr"]
    var runs = 0
    func finetune(_ extra: [String]) -> [String] {
      runs += 1
      return [
        "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment", "--eval-size", "8",
        "--batch-size", "4", "--max-steps", "2", "--output", s + "/out", "--logdir", s + "/logs", "--checkpoint-dir",
        s + "/ckpt-\(runs)"
      ] + extra
    }
    let warning = "warning: --precision bf16 on the CPU: this CPU (AMD EPYC 7B12, AVX2) has no native bfloat16"
    func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    let slow = try TrainEnv.torchswift(finetune(["--precision", "bf16"]), cache: s + "/cache", env: avx2)
    XCTAssertEqual(slow.status, 0, slow.output)
    XCTAssertEqual(count(slow.output, warning), 1, slow.output)
    XCTAssertEqual(count(slow.output, "warning:"), 1, slow.output)
    XCTAssertTrue(slow.output.contains("cpu, bf16, batch 4"), slow.output)
    XCTAssertLessThan(
      slow.output.range(of: warning)!.lowerBound, slow.output.range(of: "tokenize:")!.lowerBound,
      "the warning comes before the run")

    let native = try TrainEnv.torchswift(finetune(["--precision", "bf16"]), cache: s + "/cache", env: spr)
    XCTAssertEqual(native.status, 0, native.output)
    XCTAssertFalse(native.output.contains("warning:"), native.output)

    let auto = try TrainEnv.torchswift(finetune(["--precision", "auto"]), cache: s + "/cache", env: spr)
    XCTAssertEqual(auto.status, 0, auto.output)
    XCTAssertTrue(auto.output.contains("cpu, bf16 (auto: the CPU has AVX512_BF16 and AMX-BF16)"), auto.output)
    let autoSlow = try TrainEnv.torchswift(finetune(["--precision", "auto"]), cache: s + "/cache", env: avx2)
    XCTAssertEqual(autoSlow.status, 0, autoSlow.output)
    XCTAssertTrue(autoSlow.output.contains("cpu, fp32 (auto: the CPU has no AVX512_BF16 or AMX-BF16)"), autoSlow.output)
    XCTAssertFalse(autoSlow.output.contains("warning:"), autoSlow.output)

    try "what a great day\nthis is awful\n".write(toFile: s + "/texts.txt", atomically: true, encoding: .utf8)
    let predict = try TrainEnv.torchswift(
      ["predict", "--model", model, "--precision", "bf16", "--input", s + "/texts.txt"],
      cache: s + "/cache", env: avx2)
    XCTAssertEqual(predict.status, 0, predict.output)
    XCTAssertEqual(count(predict.output, warning), 1, predict.output)
    XCTAssertEqual(predict.output.split(separator: "\n").filter { $0.contains("\t") }.count, 2, predict.output)
  }

  /// `embed --precision bf16` really runs the forward under bf16 autocast: the embeddings differ from fp32's, by
  /// no more than bfloat16 rounding allows.
  func testEmbedPrecisionRunsTheForwardUnderAutocast() throws {
    let s = try TrainEnv.scratch("precision-embed")
    try "the cat sat on the mat\nTorchSwift fine-tunes MiniLM\n".write(
      toFile: s + "/in.txt", atomically: true, encoding: .utf8)
    let spr = ["TORCHSWIFT_CPUINFO": s + "/cpuinfo-spr"]
    try Self.sapphireRapids.write(toFile: s + "/cpuinfo-spr", atomically: true, encoding: .utf8)
    var outputs: [[[Double]]] = []
    for p in ["fp32", "bf16", "auto"] {
      let r = try TrainEnv.torchswift(["embed", "--precision", p, "--input", s + "/in.txt"], cache: s, env: spr)
      XCTAssertEqual(r.status, 0, r.output)
      XCTAssertFalse(r.output.contains("warning:"), r.output)
      outputs.append(
        try r.output.split(separator: "\n").filter { $0.hasPrefix("[") }.map {
          try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [Double]
        })
    }
    XCTAssertEqual(outputs[0].count, 2)
    let diff = zip(outputs[0].joined(), outputs[1].joined()).map { abs($0 - $1) }.max() ?? 0
    XCTAssertGreaterThan(diff, 0, "bf16 autocast changed nothing")
    XCTAssertLessThan(diff, 0.02, "bf16 embeddings (unit vectors) stay near fp32's")
    XCTAssertEqual(outputs[1], outputs[2], "auto is bf16 on a CPU with AVX512_BF16 and AMX-BF16")
  }
}
