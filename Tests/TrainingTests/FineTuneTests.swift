import Foundation
import Models
import SafeTensors
import Training
import XCTest

@testable import Torch

/// The main job end to end through the `torchswift` binary: TensorBoard files TensorBoard reads, exact
/// resume after SIGKILL, SIGINT, bad data, the tokenization cache, eval and predict on the export.
final class FineTuneTests: XCTestCase {
  func testShortRunWritesTensorBoardScalarsThatTensorBoardReadsAndExportsAModel() throws {
    let s = try TrainEnv.scratch("tb")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 40)
    let args = [
      "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment", "--eval-size", "30",
      "--batch-size", "8", "--max-steps", "6", "--eval-every", "2", "--output", s + "/out", "--logdir", s + "/logs",
      "--checkpoint-dir", s + "/ckpt", "--lr", "1e-3"
    ]
    let r = try TrainEnv.torchswift(args + ["--profile", "1,1,2"], cache: s + "/cache")
    // On a machine without a GPU, Kineto's "gpuGetDeviceCount failed with code 35" is not shown.
    XCTAssertFalse(r.output.contains("gpuGetDeviceCount"), r.output)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("validation accuracy:"), r.output)
    XCTAssertTrue(r.output.contains("tokenize: encoded"), r.output)
    // --profile 1,1,2: steps 2 and 3 (0-based) recorded, one trace file for TensorBoard's profiler plugin.
    let traces = try FileManager.default.contentsOfDirectory(atPath: s + "/logs/profile").filter {
      $0.hasSuffix(".pt.trace.json")
    }
    XCTAssertEqual(traces.count, 1, "\(traces)")
    if let trace = traces.first {
      let obj = try JSONSerialization.jsonObject(
        with: try Data(contentsOf: URL(fileURLWithPath: s + "/logs/profile/" + trace)))
      let names = Set(
        ((obj as? [String: Any])?["traceEvents"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
      XCTAssertEqual(names.filter { $0.hasPrefix("ProfilerStep#") }.sorted(), ["ProfilerStep#2", "ProfilerStep#3"])
      XCTAssertTrue(
        names.contains("aten::addmm") && names.contains("aten::_fused_adamw_"), "\(names.sorted().prefix(40))")
      XCTAssertTrue(r.output.contains("profile: " + s + "/logs/profile/" + trace), r.output)
    }
    let bad = try TrainEnv.torchswift(args + ["--profile", "1,x,2"], cache: s + "/cache")
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.output.contains("--profile must be WAIT,WARMUP,ACTIVE"), bad.output)
    // A second run finds the tokenization in the cache.
    try FileManager.default.removeItem(atPath: s + "/ckpt")
    let again = try TrainEnv.torchswift(args + ["--max-steps", "1"], cache: s + "/cache")
    XCTAssertTrue(again.output.contains("tokenize: loaded"), again.output)

    // Every scalar of metrics.jsonl is in the event files, as TensorBoard's EventAccumulator reads them.
    let logs = s + "/logs"
    let json = try TrainEnv.pythonRun([
      "-c",
      """
      import json, sys
      from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
      acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0}); acc.Reload()
      print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()['scalars']}))
      """, logs
    ])
    let tb = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: [[Double]]]
    let entries = try String(contentsOfFile: logs + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    var checked = 0
    for line in entries {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      let step = obj["step"] as! Int
      for (tag, v) in obj["values"] as! [String: Double] {
        let points = tb[tag] ?? []
        let match = points.contains { Int($0[0]) == step && Float($0[1]) == Float(v) }
        XCTAssertTrue(match, "TensorBoard lacks \(tag) at step \(step) = \(v); has \(points)")
        checked += 1
      }
    }
    for tag in [
      "train/loss", "train/learning_rate", "train/grad_norm", "train/samples_per_second", "eval/loss",
      "eval/accuracy", "eval/macro_f1"
    ] {
      XCTAssertNotNil(tb[tag], "missing tag \(tag)")
    }
    XCTAssertGreaterThan(checked, 30)
    XCTAssertTrue(FileManager.default.fileExists(atPath: logs + "/curves.svg"))

    // The export loads in Swift (predict, eval) and reports JSON metrics.
    let pred = try TrainEnv.torchswift(
      ["predict", "--model", s + "/out", "--json", "good morning", "awful day"], cache: s + "/cache")
    XCTAssertEqual(pred.status, 0, pred.output)
    let lines = pred.output.split(separator: "\n").filter { $0.hasPrefix("{") }
    XCTAssertEqual(lines.count, 2, pred.output)
    let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
    XCTAssertNotNil(first["label"] as? String)
    XCTAssertEqual((first["probabilities"] as? [String: Double])?.count, 3)
    XCTAssertEqual((first["logits"] as? [Double])?.count, 3)
    let ev = try TrainEnv.torchswift(
      ["eval", "--model", s + "/out", "--data", s + "/data.csv", "--label-column", "sentiment", "--json"],
      cache: s + "/cache")
    XCTAssertEqual(ev.status, 0, ev.output)
    let evLine = ev.output.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
    let metrics = try JSONSerialization.jsonObject(with: Data(evLine.utf8)) as! [String: Any]
    XCTAssertNotNil(metrics["accuracy"] as? Double)
    XCTAssertNotNil(metrics["macro_f1"] as? Double)
  }

  /// Kills training with SIGKILL at a random step after a checkpoint, resumes, and compares the final
  /// weights with an uninterrupted run: bit-identical on the CPU.
  /// `--output` as a bare relative name (no folder part) exports into the current directory; it used to trap in
  /// Foundation's `deletingLastPathComponent`.
  func testBareRelativeOutputNameExportsIntoTheCurrentDirectory() throws {
    let s = try TrainEnv.scratch("bare-output")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 8)
    let r = try TrainEnv.torchswift(
      [
        "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment",
        "--eval-size", "6", "--batch-size", "6", "--max-steps", "1", "--output", "m",
        "--logdir", "l", "--checkpoint-dir", "c"
      ], cache: s + "/cache", cwd: s)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(FileManager.default.fileExists(atPath: s + "/m/model.safetensors"), r.output)
  }

  func testResumeAfterSIGKILLIsBitIdentical() throws {
    let s = try TrainEnv.scratch("resume")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 60)
    func args(_ tag: String) -> [String] {
      [
        "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment", "--eval-size", "20",
        "--batch-size", "8", "--epochs", "2", "--save-every", "2", "--keep-checkpoints", "3", "--lr", "1e-3",
        "--output", s + "/\(tag)-out", "--logdir", s + "/\(tag)-logs", "--checkpoint-dir", s + "/\(tag)-ckpt"
      ]
    }
    let full = try TrainEnv.torchswift(args("full"), cache: s + "/cache")
    XCTAssertEqual(full.status, 0, full.output)
    let ckFull = Checkpointer(directory: s + "/full-ckpt", keep: 3)
    guard let finalFull = ckFull.list().last else { return XCTFail("no checkpoint from the full run") }

    // Interrupted run: wait for a random checkpoint, then SIGKILL.
    let target = [2, 4, 6, 8].randomElement()!
    let p = try TrainEnv.start(args("cut"), cache: s + "/cache")
    let ck = Checkpointer(directory: s + "/cut-ckpt", keep: 3)
    let deadline = Date().addingTimeInterval(300)
    while (ck.list().last?.step ?? 0) < target && p.isRunning && Date() < deadline { usleep(20_000) }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    print("killed at checkpoint step \(ck.list().last?.step ?? -1) (target \(target)), final step \(finalFull.step)")
    // Whatever the kill interrupted, every listed checkpoint loads.
    for c in ck.list() {
      XCTAssertNoThrow(try Torch.loadSafetensors(c.path + "/model.safetensors"), "checkpoint \(c.path) does not load")
      XCTAssertNoThrow(try Torch.loadSafetensors(c.path + "/optimizer.safetensors"))
    }
    let resumed = try TrainEnv.torchswift(args("cut") + ["--resume", "latest"], cache: s + "/cache")
    XCTAssertEqual(resumed.status, 0, resumed.output)
    XCTAssertTrue(resumed.output.contains("resume: from"), resumed.output)
    guard let finalCut = ck.list().last else { return XCTFail("no checkpoint after resuming") }
    XCTAssertEqual(finalCut.step, finalFull.step)
    let a = try SafeTensorsFile(path: finalFull.path + "/model.safetensors")
    let b = try SafeTensorsFile(path: finalCut.path + "/model.safetensors")
    XCTAssertEqual(a.names, b.names)
    for name in a.names {
      XCTAssertEqual(try a.bytes(of: name), try b.bytes(of: name), "\(name) differs after resume")
    }
  }

  func testSIGINTStopsAtAStepBoundaryAfterACheckpoint() throws {
    let s = try TrainEnv.scratch("sigint")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 200)
    let p = try TrainEnv.start(
      [
        "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment",
        "--eval-size", "20", "--batch-size", "4", "--epochs", "3", "--output", s + "/out",
        "--logdir", s + "/logs", "--checkpoint-dir", s + "/ckpt"
      ], cache: s + "/cache")
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: s + "/logs/metrics.jsonl") && Date() < deadline { usleep(20_000) }
    usleep(300_000)
    kill(p.processIdentifier, SIGINT)
    let out = String(decoding: (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 130, out)
    XCTAssertTrue(out.contains("interrupted: stopped at step"), out)
    let ck = Checkpointer(directory: s + "/ckpt", keep: 2)
    XCTAssertNotNil(ck.latest, "a checkpoint is written before stopping")
  }

  func testBadDataIsReportedAndSkippedOrRefused() throws {
    let s = try TrainEnv.scratch("baddata")
    let model = try TrainEnv.tinyModel(in: s)
    var csv = "sentiment,confidence,text\n"
    for i in 0..<30 { csv += "\(["negative", "neutral", "positive"][i % 3]),0.9,example text number \(i)\n" }
    var bytes = Array(csv.utf8)
    // invalid UTF-8 (kept)
    bytes += Array("positive,0.5,bad bytes \u{0}".utf8).dropLast() + [0xff, 0xfe] + Array(" here\n".utf8)
    bytes += Array("negative,0.5,\n".utf8)  // empty text
    bytes += Array(",0.5,no label here\n".utf8)  // missing label
    bytes += Array("neutral,0.5,too,many,columns\n".utf8)  // wrong column count
    try Data(bytes).write(to: URL(fileURLWithPath: s + "/bad.csv"))
    let base = [
      "finetune", "--model", model, "--label-column", "sentiment", "--eval-size", "6", "--batch-size", "8",
      "--max-steps", "1", "--output", s + "/out", "--logdir", s + "/logs", "--checkpoint-dir", s + "/ckpt"
    ]
    let ok = try TrainEnv.torchswift(base + ["--data", s + "/bad.csv"], cache: s + "/cache")
    XCTAssertEqual(ok.status, 0, ok.output)
    for needle in ["invalid UTF-8", "empty", "missing label", "column", "line 32", "line 33", "line 34", "line 35"] {
      XCTAssertTrue(ok.output.contains(needle), "report lacks '\(needle)':\n\(ok.output)")
    }
    for internalName in ["invalidUTF8", "emptyText", "missingLabel", "wrongColumnCount"] {
      XCTAssertFalse(ok.output.contains(internalName), "the report names kinds in words:\n\(ok.output)")
    }
    let strict = try TrainEnv.torchswift(base + ["--data", s + "/bad.csv", "--strict"], cache: s + "/cache")
    XCTAssertNotEqual(strict.status, 0)
    XCTAssertTrue(strict.output.contains("bad.csv") && strict.output.contains("33"), strict.output)
    XCTAssertTrue(strict.output.contains("bad.csv:33: empty text"), strict.output)

    let missing = try TrainEnv.torchswift(base + ["--data", s + "/nope.csv"], cache: s + "/cache")
    XCTAssertNotEqual(missing.status, 0)
    XCTAssertTrue(missing.output.contains("nope.csv"), missing.output)

    let column = try TrainEnv.torchswift(
      base + ["--data", s + "/bad.csv", "--text-column", "tweet"], cache: s + "/cache")
    XCTAssertNotEqual(column.status, 0)
    XCTAssertTrue(column.output.contains("tweet") && column.output.contains("text"), column.output)

    try "sentiment,confidence,text\n".write(toFile: s + "/empty.csv", atomically: true, encoding: .utf8)
    let empty = try TrainEnv.torchswift(base + ["--data", s + "/empty.csv"], cache: s + "/cache")
    XCTAssertNotEqual(empty.status, 0)
    XCTAssertTrue(empty.output.contains("empty.csv"), empty.output)

    let flag = try TrainEnv.torchswift(base + ["--data", s + "/bad.csv", "--precision", "fp8"], cache: s + "/cache")
    XCTAssertNotEqual(flag.status, 0)
    XCTAssertTrue(flag.output.contains("--precision"), flag.output)

    // A device that cannot be used here is refused before any work, naming the flag.
    let device = try TrainEnv.torchswift(base + ["--data", s + "/bad.csv", "--device", "cuda:99"], cache: s + "/cache")
    XCTAssertNotEqual(device.status, 0)
    XCTAssertTrue(device.output.contains("--device cuda:99") && device.output.contains("not available"), device.output)
    XCTAssertFalse(device.output.contains("tokenize:"), "refused before tokenizing:\n\(device.output)")
    let typo = try TrainEnv.torchswift(base + ["--data", s + "/bad.csv", "--device", "gpu0"], cache: s + "/cache")
    XCTAssertNotEqual(typo.status, 0)
    XCTAssertTrue(typo.output.contains("--device gpu0") && typo.output.contains("cpu, cuda or cuda:N"), typo.output)
  }
}
