import Foundation
import Models
import XCTest

@testable import Torch

/// Learning quality against PyTorch + transformers on the same fixed split (4,000 training rows, 2,000
/// held-out rows, lr 5e-5, batch 32, one epoch, max length 128), both starting from all-MiniLM-L6-v2.
final class FineTuneQualityTests: XCTestCase {
  func testValidationAccuracyMatchesThePyTorchRecipe() throws {
    let s = try TrainEnv.scratch("quality")
    // A fixed split, written once for both sides: seeded shuffle of the corpus, 4,000 + 2,000 rows.
    _ = try TrainEnv.pythonRun([
      "-c",
      """
      import csv, random, sys
      rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', errors='replace', newline='')))
      random.Random(2024).shuffle(rows)
      for name, part in (('train', rows[:4000]), ('eval', rows[4000:6000])):
          with open(sys.argv[2] + '/' + name + '.csv', 'w', encoding='utf-8', newline='') as f:
              w = csv.DictWriter(f, fieldnames=['sentiment', 'confidence', 'text']); w.writeheader(); w.writerows(part)
      """, TrainEnv.corpus, s
    ])
    let swift = try TrainEnv.torchswift(
      [
        "finetune", "--data", s + "/train.csv", "--eval-data", s + "/eval.csv", "--label-column", "sentiment",
        "--train-size", "all", "--lr", "5e-5", "--batch-size", "32", "--epochs", "1", "--max-length", "128",
        "--output", s + "/model", "--logdir", s + "/logs", "--checkpoint-dir", s + "/ckpt"
      ], cache: s + "/cache")
    XCTAssertEqual(swift.status, 0, swift.output)
    guard let line = swift.output.split(separator: "\n").first(where: { $0.hasPrefix("validation accuracy:") }),
      let swiftAcc = Double(line.split(separator: " ").dropFirst(2).first ?? "")
    else { return XCTFail("no accuracy in output:\n\(swift.output)") }
    let modelDir = try BundledModel.directory()
    let ref = try TrainEnv.pythonRun([
      TrainEnv.root + "/bench/finetune_reference.py", "--model", modelDir, "--train",
      s + "/train.csv", "--eval", s + "/eval.csv"
    ])
    let obj = try JSONSerialization.jsonObject(with: Data(ref.split(separator: "\n").last!.utf8)) as! [String: Any]
    let torchAcc = obj["accuracy"] as! Double
    print(
      String(
        format: "fine-tuning quality (4000 train / 2000 held out): TorchSwift %.4f, PyTorch + transformers %.4f",
        swiftAcc, torchAcc))
    try? "\(swiftAcc) \(torchAcc)\n".write(toFile: s + "/accuracies.txt", atomically: true, encoding: .utf8)
    // Same recipe, different random streams (new-head initialisation, shuffling, dropout): the two runs
    // differ by chance by about a point; TorchSwift must not be worse beyond that noise (1.5 points).
    XCTAssertGreaterThanOrEqual(swiftAcc, torchAcc - 0.015)
    XCTAssertGreaterThan(swiftAcc, 0.5, "the model learned something (3 classes, 42% majority)")
  }
}
