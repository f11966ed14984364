import XCTest
import TrainingSupport

final class ProgressBarTests: XCTestCase {
  func testFormatting() {
    XCTAssertEqual(ProgressFormat.duration(133), "02:13")
    XCTAssertEqual(ProgressFormat.duration(3725), "1:02:05")
    XCTAssertEqual(ProgressFormat.duration(0), "00:00")
    XCTAssertEqual(ProgressFormat.duration(nil), "--:--")
    XCTAssertEqual(ProgressFormat.duration(.infinity), "--:--")
    XCTAssertEqual(ProgressFormat.bar(fraction: 0.24, width: 10), "[==>       ]")
    XCTAssertEqual(ProgressFormat.bar(fraction: 0, width: 5), "[>    ]")
    XCTAssertEqual(ProgressFormat.bar(fraction: 1, width: 5), "[=====]")
    XCTAssertEqual(ProgressFormat.bar(fraction: .nan, width: 3), "[>  ]")
    XCTAssertEqual(ProgressFormat.percent(0.999), "99%")
    XCTAssertEqual(ProgressFormat.loss(0.51234), "0.5123")
    XCTAssertEqual(ProgressFormat.loss(.nan), "nan")
    XCTAssertEqual(ProgressFormat.loss(0.00001234), "1.234e-05")
    XCTAssertEqual(ProgressFormat.rate(31.24), "31.2")

    let snap = ProgressSnapshot(
      epoch: 1, epochs: 3, step: 120, totalSteps: 500, loss: 0.51234, samplesPerSecond: 31.2, eta: 133)
    XCTAssertEqual(
      snap.barLine(barWidth: 10), "epoch 1/3 | step 120/500 [==>       ] 24% | loss 0.5123 | 31.2 samples/s | ETA 02:13"
    )
    XCTAssertEqual(snap.logLine(), "epoch 1/3 | step 120/500 (24%) | loss 0.5123 | 31.2 samples/s | ETA 02:13")
  }

  func testInteractiveRedrawsOneLine() {
    var out = ""
    var now = 0.0
    let bar = ProgressBar(
      epochs: 2, stepsPerEpoch: 4, options: .init(interactive: true, barWidth: 4),
      output: { out += $0 }, clock: { now })
    for epoch in 1...2 {
      for step in 1...4 {
        now += 0.5  // 2 steps/s, 8 samples per step
        bar.update(epoch: epoch, step: step, loss: 1.0 / Double(step), samples: 8)
      }
    }
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
    XCTAssertEqual(lines.count, 3, out.debugDescription)  // one line per epoch, then empty
    XCTAssertTrue(lines[0].hasPrefix("\repoch 1/2 | step 1/4"), String(lines[0]))
    XCTAssertTrue(
      lines[0].contains("step 4/4 [====] 100% | loss 0.2500 | 16.0 samples/s | ETA 00:02"), String(lines[0]))
    XCTAssertTrue(lines[1].contains("epoch 2/2 | step 4/4 [====] 100%"), String(lines[1]))
    XCTAssertTrue(lines[1].hasSuffix("ETA 00:00"), String(lines[1]))
  }

  func testNonInteractiveLogsPeriodically() {
    var out: [String] = []
    var now = 0.0
    let bar = ProgressBar(
      epochs: 1, stepsPerEpoch: 100, options: .init(interactive: false, logEverySteps: 25, logEverySeconds: 1000),
      output: { out.append($0) }, clock: { now })
    for step in 1...100 {
      now += 0.1
      bar.update(epoch: 1, step: step, loss: 0.5, samples: 4)
    }
    XCTAssertEqual(out.count, 4)
    XCTAssertTrue(out.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
    XCTAssertTrue(out[0].hasPrefix("epoch 1/1 | step 25/100 (25%) | loss 0.5000 | 40.0 samples/s | ETA 00:08"), out[0])
    XCTAssertTrue(out[3].contains("step 100/100 (100%)"), out[3])

    // Time-based logging.
    var timed: [String] = []
    now = 0
    let slow = ProgressBar(
      epochs: 1, stepsPerEpoch: 1000, options: .init(interactive: false, logEverySteps: 1000, logEverySeconds: 30),
      output: { timed.append($0) }, clock: { now })
    for step in 1...10 {
      now += 10
      slow.update(epoch: 1, step: step)
    }
    XCTAssertEqual(timed.count, 3)  // at 30 s, 60 s, 90 s
    slow.log("evaluation done")
    XCTAssertEqual(timed.last, "evaluation done\n")
  }

  /// Complete lines go to `log` (e.g. a logger), the redrawn bar alone to `output`: a log message ends the bar's
  /// line on the terminal first, and never lands in the middle of it.
  func testLinesGoToTheLogAndTheBarToTheTerminal() {
    var terminal = ""
    var logged: [String] = []
    var now = 0.0
    let bar = ProgressBar(
      epochs: 1, stepsPerEpoch: 10, options: .init(interactive: true, barWidth: 4),
      output: { terminal += $0 }, log: { logged.append($0) }, clock: { now })
    now += 1
    bar.update(epoch: 1, step: 1, loss: 1, samples: 4)
    bar.log("evaluation: accuracy 0.5")
    XCTAssertEqual(logged, ["evaluation: accuracy 0.5"])
    XCTAssertTrue(terminal.hasPrefix("\repoch 1/1 | step 1/10"), terminal.debugDescription)
    XCTAssertTrue(terminal.hasSuffix("\n"), terminal.debugDescription)  // the bar's line was ended first
    XCTAssertFalse(terminal.contains("evaluation"))

    var plainTerminal = ""
    var plainLogged: [String] = []
    let plain = ProgressBar(
      epochs: 1, stepsPerEpoch: 2, options: .init(interactive: false, logEverySteps: 1),
      output: { plainTerminal += $0 }, log: { plainLogged.append($0) }, clock: { now })
    for step in 1...2 {
      now += 1
      plain.update(epoch: 1, step: step, loss: 0.5, samples: 4)
    }
    XCTAssertEqual(plainTerminal, "")
    XCTAssertEqual(plainLogged.count, 2)
    XCTAssertTrue(plainLogged.allSatisfy { !$0.hasSuffix("\n") && $0.hasPrefix("epoch 1/1 | step ") }, "\(plainLogged)")
  }
}
