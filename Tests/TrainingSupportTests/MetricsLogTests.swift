import Foundation
import ReferenceTesting
import XCTest
import TrainingSupport

final class MetricsLogTests: XCTestCase {
  func testAppendFlushesEachLineAndReadsBack() throws {
    let url = try ReferenceTools.temporaryDirectory(self).appendingPathComponent("logs/metrics.jsonl")
    let log = try MetricsLog(url: url)
    try log.append(step: 1, epoch: 0.01, wallTime: 1000.5, ["train/loss": 0.6931471805599453, "lr": 5e-05])
    // Visible on disk right away, before close.
    let first = try String(contentsOf: url, encoding: .utf8)
    XCTAssertEqual(
      first,
      "{\"step\":1,\"epoch\":0.01,\"wall_time\":1000.5,\"values\":{\"lr\":5e-05,\"train/loss\":0.6931471805599453}}\n")
    try log.append(step: 2, wallTime: 1001, ["train/loss": .nan, "weird \"tag\"\n": .infinity, "eval/accuracy": 1])
    log.close()
    XCTAssertThrowsError(try log.append(step: 3, ["x": 1]))

    // Each line is valid JSON for Python too (NaN/inf written as null).
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    for line in lines { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8))) }

    let entries = try MetricsLog.read(url: url)
    XCTAssertEqual(entries.count, 2)
    XCTAssertEqual(
      entries[0],
      MetricsLogEntry(step: 1, epoch: 0.01, wallTime: 1000.5, values: ["train/loss": 0.6931471805599453, "lr": 5e-05]))
    XCTAssertNil(entries[1].epoch)
    XCTAssertTrue(entries[1].values["train/loss"]?.isNaN ?? false)
    XCTAssertTrue(entries[1].values["weird \"tag\"\n"]?.isNaN ?? false)
    XCTAssertEqual(entries[1].values["eval/accuracy"], 1)

    // Reopening appends; a truncated last line (crash mid-write) is ignored.
    let again = try MetricsLog(url: url)
    try again.append(step: 3, wallTime: 1002, ["train/loss": 0.5])
    again.close()
    let handle = try FileHandle(forWritingTo: url)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("{\"step\":4,\"wal".utf8))
    try handle.close()
    XCTAssertEqual(try MetricsLog.read(url: url).map(\.step), [1, 2, 3])
  }
}
