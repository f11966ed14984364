import Foundation
import Training
import XCTest

/// What a new user meets first: usage errors that show the subcommand's usage, a `--model` folder checked before
/// the data is read, and the closing lines of runs that exported nothing or had nothing left to do.
final class FirstUseCLITests: XCTestCase {
  func testValidationErrorsShowTheSubcommandsUsage() throws {
    let s = try TrainEnv.scratch("first-use-usage")
    let cases: [([String], String, String)] = [
      (["finetune", "--precision", "fp8"], "torchswift finetune", "--precision"),
      (["finetune", "--device", "tpu"], "torchswift finetune", "--device tpu"),
      (["finetune", "--lr-schedule", "step"], "torchswift finetune", "--lr-schedule"),
      (["predict", "--model", s], "torchswift predict", "no input"),
      (["tokenize"], "torchswift tokenize", "no input"),
      (["embed", "--output", s + "/e.txt", "hello"], "torchswift embed", "--output must end in .jsonl or .npy"),
      (["example", "transformer", "--device", "tpu"], "torchswift example transformer", "--device tpu")
    ]
    for (args, command, message) in cases {
      let r = try TrainEnv.torchswift(args, cache: s + "/cache")
      let what = args.joined(separator: " ")
      XCTAssertEqual(r.status, 64, "\(what):\n\(r.output)")
      XCTAssertTrue(r.output.contains("Error: ") && r.output.contains(message), "\(what):\n\(r.output)")
      XCTAssertTrue(r.output.contains("Usage: \(command) "), "\(what): not its own usage:\n\(r.output)")
      XCTAssertTrue(r.output.contains("See '\(command) --help'"), "\(what):\n\(r.output)")
      XCTAssertFalse(r.output.contains("torchswift <subcommand>"), "\(what):\n\(r.output)")
    }
  }

  func testModelFolderWithoutConfigIsRefusedBeforeTheDataIsRead() throws {
    let s = try TrainEnv.scratch("first-use-model")
    try FileManager.default.createDirectory(atPath: s + "/empty-model", withIntermediateDirectories: true)
    let r = try TrainEnv.torchswift(["finetune", "--model", s + "/empty-model"], cache: s + "/cache")
    XCTAssertEqual(r.status, 64, r.output)
    XCTAssertTrue(r.output.contains("--model \(s)/empty-model: no config.json"), r.output)
    XCTAssertFalse(r.output.contains("data: "), "refused before reading the corpus:\n\(r.output)")
    let missing = try TrainEnv.torchswift(["eval", "--model", s + "/nope", "--data", "x.csv"], cache: s + "/cache")
    XCTAssertTrue(missing.output.contains("--model \(s)/nope: no such folder"), missing.output)
  }

  /// `eval` on the bundled corpus reads its `sentiment` column as `finetune` does (`label` elsewhere).
  func testEvalLabelColumnDefaultsAsFinetune() throws {
    let s = try TrainEnv.scratch("first-use-eval")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/corpus.csv", perLabel: 5)
    let bundled = try TrainEnv.torchswift(
      ["eval", "--model", model, "--data", s + "/corpus.csv", "--json"], cache: s + "/cache",
      env: ["TORCHSWIFT_CORPUS": s + "/corpus.csv"])
    XCTAssertEqual(bundled.status, 0, bundled.output)
    XCTAssertTrue(bundled.output.contains("\"count\":15"), bundled.output)
    let other = try TrainEnv.torchswift(
      ["eval", "--model", model, "--data", s + "/corpus.csv"], cache: s + "/cache",
      env: ["TORCHSWIFT_CORPUS": s + "/other.csv"])
    XCTAssertNotEqual(other.status, 0)
    XCTAssertTrue(other.output.contains("label column \"label\" not found"), other.output)
  }

  func testClosingLinesSayWhetherAModelWasExported() throws {
    let s = try TrainEnv.scratch("first-use-export")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 10)
    let base = [
      "finetune", "--model", model, "--data", s + "/data.csv", "--label-column", "sentiment", "--eval-size", "6",
      "--batch-size", "4", "--max-length", "16", "--output", s + "/out", "--logdir", s + "/logs", "--checkpoint-dir",
      s + "/ckpt"
    ]
    // Ctrl-C before the first evaluation: no model exported, and the closing lines say so.
    try TrainEnv.sampleCSV(s + "/long.csv", perLabel: 200)
    let p = try TrainEnv.start(
      base.map { $0 == s + "/data.csv" ? s + "/long.csv" : $0 } + ["--eval-every", "0"], cache: s + "/cache")
    let pipe = (p.standardOutput as! Pipe).fileHandleForReading
    var text = ""
    while !text.contains("| step 10/") {
      let chunk = pipe.availableData
      if chunk.isEmpty { break }
      text += String(decoding: chunk, as: UTF8.self)
    }
    kill(p.processIdentifier, SIGINT)
    text += String(decoding: pipe.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 130, text)
    XCTAssertTrue(text.contains("no model exported: the run stopped at step"), text)
    XCTAssertFalse(text.contains("best model (HF layout)"), text)
    XCTAssertFalse(FileManager.default.fileExists(atPath: s + "/out/config.json"), text)
    try FileManager.default.removeItem(atPath: s + "/ckpt")

    // Finished run, then --resume latest: nothing to train, no "newly initialized" note, the best accuracy shown.
    let done = try TrainEnv.torchswift(base + ["--max-steps", "2"], cache: s + "/cache")
    XCTAssertEqual(done.status, 0, done.output)
    XCTAssertTrue(done.output.contains("best model (HF layout): \(s)/out (from the evaluation at step 2)"), done.output)
    let again = try TrainEnv.torchswift(base + ["--max-steps", "2", "--resume", "latest"], cache: s + "/cache")
    XCTAssertEqual(again.status, 0, again.output)
    XCTAssertTrue(again.output.contains("nothing left to train"), again.output)
    XCTAssertTrue(again.output.contains("its best validation accuracy: "), again.output)
    XCTAssertFalse(again.output.contains("newly initialized"), again.output)
    XCTAssertTrue(
      again.output.contains("best model (HF layout): \(s)/out (from the evaluation at step 2)"), again.output)
  }
}
