import Foundation
import Training
import XCTest

/// A `FineTuner` in the process, its report collected: every line it reports, the progress lines and the
/// evaluation and checkpoint messages included, goes to the `log` it was given (by default the
/// `torchswift.training` logger), none straight to standard output.
final class FineTunerLogTests: XCTestCase {
  func testProgressAndReportLinesGoThroughTheLog() throws {
    let s = try TrainEnv.scratch("finetuner-log")
    let model = try TrainEnv.tinyModel(in: s)
    try TrainEnv.sampleCSV(s + "/data.csv", perLabel: 20)
    var c = FineTuneConfig(modelDir: model, dataPath: s + "/data.csv")
    c.labelColumn = "sentiment"
    c.evalSize = 15
    c.batchSize = 8
    c.maxSteps = 4
    c.evalEvery = 2
    c.logEvery = 1
    c.progress = false
    c.lr = 1e-3
    c.outputDir = s + "/out"
    c.logdir = s + "/logs"
    c.checkpointDir = s + "/ckpt"
    c.cacheDir = s + "/cache"
    var lines: [String] = []
    let result = try FineTuner(config: c, log: { lines.append($0) }).run()
    XCTAssertEqual(result.globalStep, 4)
    let progress = lines.filter { $0.hasPrefix("epoch 1/1 | step ") }
    XCTAssertEqual(progress.count, 4, lines.joined(separator: "\n"))
    XCTAssertTrue(lines.contains { $0.hasPrefix("checkpoint: ") }, lines.joined(separator: "\n"))
    XCTAssertTrue(lines.contains { $0.contains("accuracy") }, lines.joined(separator: "\n"))
    XCTAssertTrue(lines.allSatisfy { !$0.hasSuffix("\n") && !$0.contains("\r") })
  }
}
