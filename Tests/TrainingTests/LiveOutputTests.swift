import Foundation
import XCTest

/// `finetune`'s output when standard output is a pipe (a file, torchrun, `docker logs`): each line arrives as it is
/// written, not when the process ends.
final class LiveOutputTests: XCTestCase {
  func testProgressLinesReachAPipeWhileTheRunGoesOn() throws {
    let dir = try TrainEnv.scratch("live-output")
    let model = try TrainEnv.tinyModel(in: dir)
    let data = dir + "/data.csv"
    try TrainEnv.sampleCSV(data, perLabel: 200)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try TrainEnv.binary())
    // 600 rows, batch 2, no evaluation before the epoch ends: ~270 steps, a progress line every 10.
    p.arguments = [
      "finetune", "--model", model, "--data", data, "--label-column", "sentiment", "--batch-size", "2",
      "--max-length", "16", "--eval-size", "60", "--threads", "1", "--output", dir + "/out", "--logdir", dir + "/logs",
      "--checkpoint-dir", dir + "/ckpt"
    ]
    var env = ProcessInfo.processInfo.environment
    env["TORCHSWIFT_CACHE"] = dir + "/cache"
    env["LD_LIBRARY_PATH"] = TrainEnv.root + "/.torchswift/lib" + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
    // Read what has arrived until a progress line shows up (the run is far from its end by then).
    var text = ""
    let deadline = Date().addingTimeInterval(120)
    while !text.contains("| step 10/"), Date() < deadline {
      let chunk = out.fileHandleForReading.availableData
      if chunk.isEmpty { break }  // end of file: the process closed its output
      text += String(decoding: chunk, as: UTF8.self)
    }
    let runningWhenRead = p.isRunning
    kill(p.processIdentifier, SIGKILL)  // as a killed job: nothing that was printed may be lost
    p.waitUntilExit()
    XCTAssertTrue(text.contains("| step 10/"), "no progress line on the pipe before the end:\n\(text)")
    XCTAssertTrue(runningWhenRead, "the run ended before its progress line was read:\n\(text)")
    // Block-buffered output would arrive all at once at the end, results included.
    XCTAssertFalse(text.contains("validation accuracy"), "the output came at the end, not line by line:\n\(text)")
    XCTAssertTrue(text.hasPrefix("finetune: "), "the header first:\n\(text)")
    XCTAssertTrue(text.contains("\ndata: "), text)
  }
}
