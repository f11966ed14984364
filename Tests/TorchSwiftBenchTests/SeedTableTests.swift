import Foundation
import Torch
import XCTest

@testable import torchswift_bench

final class SeedTableReportTests: XCTestCase {
  func sampleReport() -> SeedTableReport {
    let ok = Measurement(medianMs: 100, p90Ms: 120, peakMemBytes: 2_500_000_000, samplesPerS: 320)
    let pyEager = Measurement(medianMs: 110, p90Ms: 130, peakMemBytes: 2_600_000_000, samplesPerS: 290.9)
    let pyCompile = Measurement(medianMs: 80, p90Ms: 85, peakMemBytes: 2_000_000_000, samplesPerS: 400)
    let flops = 9.89e12  // 10 % MFU at 100 ms on an H100's bf16 peak (989 TFLOP/s)
    return SeedTableReport(
      date: "2026-01-02", machine: "16 cores", torchVersion: "2.11.0+cu130", gpuName: "NVIDIA H100 80GB HBM3",
      steps: 10, warmup: 3, comparePyTorch: true,
      entries: [
        TableEntry(
          scenario: "encoder", shape: "[10, 32, 512]", row: .cpuFP32, batch: 32, flopsPerStep: flops,
          swift: .ok(ok), pytorchEager: .ok(pyEager), pytorchCompile: .skipped("not in --compile-rows")),
        TableEntry(
          scenario: "encoder", shape: "[10, 32, 512]", row: .gpuAMPBF16, batch: 32, flopsPerStep: flops,
          swift: .ok(ok), pytorchEager: .ok(pyEager), pytorchCompile: .ok(pyCompile)),
        TableEntry(
          scenario: "minilm", shape: "B=32 T=128", row: .gpuGraph, batch: 32, flopsPerStep: flops,
          swift: .skipped("no CUDA device"), pytorchEager: .skipped("not run"), pytorchCompile: .skipped("not run")),
        TableEntry(
          scenario: "encoder", shape: "[10, 32, 512]", row: .gpuFP32, batch: 32, flopsPerStep: flops,
          swift: .ok(Measurement(medianMs: 200, p90Ms: 210, peakMemBytes: 4_000_000_000, samplesPerS: 160)),
          pytorchEager: .ok(pyEager), pytorchCompile: .skipped("not in --compile-rows"))
      ],
      notes: ["minilm: built-in config"])
  }

  func testTerminalTable() {
    let text = sampleReport().terminalTable()
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertTrue(lines[0].hasPrefix("scenario"))
    XCTAssertTrue(lines[0].contains("Swift ÷ eager"))
    let bf16 = lines.first { $0.contains("GPU AMP BF16") && !$0.contains("graph") }!
    XCTAssertTrue(bf16.contains("100 / 120"), bf16)
    XCTAssertTrue(bf16.contains("2.50"), bf16)  // GB
    XCTAssertTrue(bf16.contains("10.0%"), bf16)  // MFU
    XCTAssertTrue(bf16.contains("1.10×"), bf16)  // 320 / 290.9
    XCTAssertTrue(bf16.contains("0.80×"), bf16)  // 320 / 400
    XCTAssertTrue(bf16.contains("−38%"), bf16)  // 2.5 GB against the GPU FP32 row's 4.0 GB
    XCTAssertTrue(bf16.contains("2.60"), bf16)  // PyTorch eager's peak GB
    XCTAssertTrue(lines[0].contains("mem vs FP32") && lines[0].contains("PyTorch eager peak GB"))
    // 320 / 160 samples/s, 2.5 / 4.0 GB; PyTorch eager 290.9 / 290.9, 2.6 / 2.6 GB.
    XCTAssertTrue(
      text.contains(
        "encoder [10, 32, 512]: GPU AMP BF16 vs GPU FP32: 2.00× samples/s, peak memory −38% (PyTorch eager: 1.00×, ±0%)"
      ), text)
    let cpu = lines.first { $0.contains("CPU FP32") }!
    XCTAssertTrue(cpu.contains("n/a"), cpu)  // no MFU on the CPU
    XCTAssertTrue(cpu.contains("skipped"), cpu)  // compile not run
    XCTAssertTrue(lines.contains { $0.contains("GPU AMP BF16 + CUDA graph") && $0.contains("skipped: no CUDA device") })
    XCTAssertTrue(text.contains("not in --compile-rows"))
    XCTAssertTrue(text.contains("minilm: built-in config"))
  }

  func testMarkdown() {
    let md = sampleReport().markdown()
    let table = md.split(separator: "\n").filter { $0.hasPrefix("|") }
    XCTAssertEqual(table.count, 2 + 4)  // header, separator, four rows
    let columns = table[0].split(separator: "|", omittingEmptySubsequences: false).count
    for row in table {
      XCTAssertEqual(row.split(separator: "|", omittingEmptySubsequences: false).count, columns, String(row))
    }
    XCTAssertTrue(table[1].hasPrefix("|---|---|---:|"))
    XCTAssertTrue(md.contains("| minilm B=32 T=128 | GPU AMP BF16 + CUDA graph | skipped: no CUDA device |"))
  }

  func testJSONRoundTrip() throws {
    let text = try sampleReport().json()
    let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    XCTAssertEqual(obj["benchmark"] as? String, "seed_table")
    XCTAssertEqual(obj["gpu"] as? String, "NVIDIA H100 80GB HBM3")
    let results = obj["results"] as! [[String: Any]]
    XCTAssertEqual(results.count, 4)
    let bf16 = results[1]
    XCTAssertEqual(bf16["row"] as? String, "gpu-amp-bf16")
    XCTAssertEqual(bf16["precision"] as? String, "bf16")
    XCTAssertEqual((bf16["mfu"] as? NSNumber)?.doubleValue ?? 0, 0.1, accuracy: 1e-9)
    XCTAssertEqual((bf16["speedup_vs_compile"] as? NSNumber)?.doubleValue ?? 0, 0.8, accuracy: 1e-9)
    let swift = bf16["swift"] as! [String: Any]
    XCTAssertEqual(swift["status"] as? String, "ok")
    XCTAssertEqual((swift["median_ms"] as? NSNumber)?.doubleValue, 100)
    XCTAssertEqual((swift["peak_mem_bytes"] as? NSNumber)?.intValue, 2_500_000_000)
    let skipped = results[2]["swift"] as! [String: Any]
    XCTAssertEqual(skipped["status"] as? String, "skipped")
    XCTAssertEqual(skipped["reason"] as? String, "no CUDA device")
    XCTAssertTrue(results[0]["mfu"] is NSNull)  // CPU row
    XCTAssertTrue(obj["fused_kernels"] is NSNull, "not stated without a GPU run's status")
  }

  func testTheGPURunSaysWhetherTheFusedKernelsRan() throws {
    var report = sampleReport()
    report.fusedKernels = "fused kernels on (NVRTC 13.0)"
    XCTAssertTrue(
      report.summaryLine.contains("GPU NVIDIA H100 80GB HBM3, fused kernels on (NVRTC 13.0);"), report.summaryLine)
    let obj = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as! [String: Any]
    XCTAssertEqual(obj["fused_kernels"] as? String, "fused kernels on (NVRTC 13.0)")
  }

  func testSVG() {
    let svg = sampleReport().svg()
    XCTAssertTrue(svg.hasPrefix("<?xml"))
    XCTAssertTrue(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    XCTAssertTrue(svg.hasSuffix("</svg>\n"))
    // Bars: Swift and PyTorch eager on the three measured rows, PyTorch compile on one.
    XCTAssertEqual(svg.components(separatedBy: "<title>").count - 1, 7)
    XCTAssertTrue(svg.contains("TorchSwift: 320 samples/s"))
    XCTAssertTrue(svg.contains("PyTorch compile: skipped"))
    XCTAssertEqual(svg.components(separatedBy: "<text").count, svg.components(separatedBy: "</text>").count)
  }

  func testPyTorchTwinOutputParsing() {
    let out = """
      some warning printed by torch
      {"row": "cpu-fp32", "mode": "eager", "status": "ok", "median_ms": 10.5, "p90_ms": 12, "peak_mem_bytes": null, "samples_per_s": 3047.6}
      {"row": "cpu-fp32", "mode": "compile", "status": "failed", "reason": "RuntimeError: boom"}
      {"row": "cpu-bf16", "mode": "compile", "status": "skipped", "reason": "not in --compile-rows"}
      {"row": "cpu-bf16", "mode": "eager", "status": "ok"}
      """
    let r = PyTorchTwin.parse(out)
    XCTAssertEqual(
      r["cpu-fp32"]?["eager"], .ok(Measurement(medianMs: 10.5, p90Ms: 12, peakMemBytes: nil, samplesPerS: 3047.6)))
    XCTAssertEqual(r["cpu-fp32"]?["compile"], .failed("RuntimeError: boom"))
    XCTAssertEqual(r["cpu-bf16"]?["compile"], .skipped("not in --compile-rows"))
    XCTAssertEqual(r["cpu-bf16"]?["eager"], .failed("malformed result line from the PyTorch script"))
  }
}

/// On a machine without CUDA the GPU rows are listed as skipped, with the reason.
final class SeedTableWithoutGPUTests: XCTestCase {
  func testGPURowsAreSkippedWithAReason() throws {
    try XCTSkipIf(CUDA.isAvailable, "this machine has a GPU")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("seed-table-test-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let cmd = try Bench.Table.parse([
      "--device-rows", "gpu", "--scenarios", "encoder,minilm", "--seq-lens", "128,512",
      "--compare-pytorch", "--out", out, "--name", "t"
    ])
    let plan = try cmd.makePlan()
    // encoder: the seed's shape and the large one; minilm: two sequence lengths.
    XCTAssertEqual(
      plan.configs.map { $0.config.shape }, ["[10, 32, 512]", "[128, 64, 512]", "B=32 T=128", "B=32 T=512"])
    let report = try cmd.execute(plan)
    XCTAssertEqual(report.entries.count, 4 * 5)
    for e in report.entries {
      XCTAssertTrue(e.row.onGPU)
      guard case .skipped(let reason) = e.swift else { return XCTFail("\(e.label) \(e.row) ran without a GPU") }
      XCTAssertTrue(reason.contains("no CUDA device") || reason.contains("CPU-only"), reason)
      XCTAssertEqual(e.pytorchEager, .skipped("not run (TorchSwift row skipped)"))
    }
    XCTAssertTrue(report.terminalTable().contains("GPU TF32                   skipped: "))
    try cmd.write(report)
    for ext in ["json", "md", "svg"] { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/t.\(ext)"), ext) }
  }

  /// `--profile-dir`: both sides' key-average tables and Chrome traces per row; the same model run by TorchSwift and
  /// by PyTorch + transformers records the same number of matmul-with-bias calls.
  func testProfileDirHoldsBothSidesProfiles() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("seed-table-profile-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    let cmd = try Bench.Table.parse([
      "--device-rows", "cpu-fp32", "--scenarios", "minilm", "--cpu-seq-lens", "16",
      "--cpu-batch", "2", "--steps", "1", "--warmup", "1", "--compare-pytorch",
      "--compile-rows", "none", "--out", root, "--name", "t", "--profile-dir", root + "/p"
    ])
    try cmd.run()
    let stem = root + "/p/minilm-16x2-cpu-fp32"
    func addmmCalls(_ path: String) throws -> Int {
      let json =
        try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
      let events = try XCTUnwrap(json?["traceEvents"] as? [[String: Any]], path)
      return events.filter { $0["name"] as? String == "aten::addmm" }.count
    }
    let swiftCalls = try addmmCalls(stem + "-torchswift.json"),
      torchCalls = try addmmCalls(stem + "-pytorch-eager.json")
    XCTAssertGreaterThan(swiftCalls, 0)
    XCTAssertEqual(swiftCalls, torchCalls, "aten::addmm calls in 3 profiled steps, TorchSwift vs PyTorch")
    let table = try String(contentsOfFile: stem + "-torchswift.txt", encoding: .utf8)
    XCTAssertTrue(table.hasPrefix("minilm B=2 T=16 cpu-fp32, TorchSwift: 3 steps"), table)
    XCTAssertTrue(table.contains("aten::addmm"), table)
    XCTAssertTrue(try String(contentsOfFile: stem + "-pytorch-eager.txt", encoding: .utf8).contains("aten::addmm"))
    XCTAssertThrowsError(try Bench.Table.parse(["--profile-dir", "/proc/no-such-dir/p", "--out", root]).run()) {
      XCTAssertTrue("\($0)".contains("--profile-dir"), "\($0)")
    }
  }

  func testPlanDefaultsAndValidation() throws {
    let quick = try Bench.Table.parse(["--quick", "--device-rows", "cpu"]).makePlan()
    XCTAssertEqual(quick.steps, 5)
    XCTAssertEqual(quick.warmup, 2)
    XCTAssertEqual(
      quick.configs.map { "\($0.config.scenario) \($0.config.shape)" }, ["encoder [10, 32, 512]", "minilm B=4 T=128"])
    XCTAssertEqual(quick.configs[0].rows, [.cpuFP32, .cpuBF16])
    let full = try Bench.Table.parse(["--device-rows", "cpu,gpu-graph", "--cpu-batch", "2", "--compile-rows", "none"])
      .makePlan()
    XCTAssertEqual(full.configs.count, 1 + 2 + 1 + 2 + 1 + 2)  // encoder ×(1 CPU + 2 GPU), minilm, bert-base ×(1 + 2)
    XCTAssertTrue(full.compileRows.isEmpty)
    XCTAssertThrowsError(try Bench.Table.parse(["--scenarios", "gpt2"]).makePlan())
    XCTAssertThrowsError(try Bench.Table.parse(["--device-rows", "tpu"]).makePlan())
    XCTAssertThrowsError(
      try Bench.Table.parse(["--seq-lens", "1024", "--device-rows", "gpu", "--scenarios", "minilm"]).makePlan())
    XCTAssertThrowsError(try Bench.Table.parse(["--steps", "0"]))
  }
}

/// `torchswift gpu-selftest` without a GPU: "skipped: no CUDA device", exit status 0.
final class GPUSelftestWithoutGPUTests: XCTestCase {
  func testSkipsCleanly() throws {
    try XCTSkipIf(CUDA.isAvailable, "this machine has a GPU")
    let candidates = [
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("torchswift")
        .path,
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent(".build/debug/torchswift").path
    ]
    guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      return XCTFail("the torchswift binary was not built (looked in \(candidates))")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: bin)
    p.arguments = ["gpu-selftest"]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    XCTAssertEqual(p.terminationStatus, 0, text)
    XCTAssertTrue(text.contains("skipped: no CUDA device"), text)
  }
}
