import Foundation
import ReferenceTesting
import XCTest
@testable import TrainingSupport

/// TensorBoard event files checked with tensorboard's own Python loaders.
final class TensorBoardWriterTests: XCTestCase {
  private func bits(_ any: Any?) -> UInt32? { (any as? NSNumber).map { UInt32(truncatingIfNeeded: $0.int64Value) } }

  private func assertSameFloat(
    _ a: Float, _ expectedBits: UInt32?, _ message: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    guard let expectedBits else { return XCTFail("missing value: \(message)", file: file, line: line) }
    let e = Float(bitPattern: expectedBits)
    if a.isNaN && e.isNaN { return }
    XCTAssertEqual(a.bitPattern, expectedBits, "\(a) vs \(e): \(message)", file: file, line: line)
  }

  func testCRC32CMatchesTensorBoard() throws {
    var generator = SplitMix(state: 31)
    var inputs: [[UInt8]] = [
      [], Array("hello".utf8), Array("123456789".utf8), [UInt8](repeating: 0, count: 32),
      [UInt8](repeating: 0xFF, count: 32)
    ]
    for length in [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
      inputs.append((0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }
    let hex = inputs.map { $0.map { String(format: "%02x", $0) }.joined() }
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "tensorboard_reference.py", ["crc"] + hex) as? [[NSNumber]])
    XCTAssertEqual(reference.count, inputs.count)
    for (input, expected) in zip(inputs, reference) {
      XCTAssertEqual(CRC32C.checksum(input), expected[0].uint32Value, "crc32c of \(input.count) bytes")
      XCTAssertEqual(CRC32C.maskedChecksum(input), expected[1].uint32Value, "masked crc32c of \(input.count) bytes")
      XCTAssertEqual(CRC32C.unmask(CRC32C.maskedChecksum(input)), CRC32C.checksum(input))
    }
    XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283, "standard check value")
    // Incremental updates equal one-shot checksums.
    let long = inputs.last ?? []
    XCTAssertEqual(CRC32C.update(crc: CRC32C.checksum(long[..<1001]), long[1001...]), CRC32C.checksum(long))
  }

  /// Thousands of steps, several tags, NaN/±inf, negative and out-of-order steps, denormals.
  private func writeRun(_ logdir: URL, encoding: ScalarEncoding) throws -> [String: [(Int64, Float, Double)]] {
    var expected: [String: [(Int64, Float, Double)]] = [:]
    let writer = try TensorBoardWriter(
      logdir: logdir, options: .init(flushInterval: 0.05, maxPendingEvents: 100, scalarEncoding: encoding))
    var rng = SplitMix(state: 99)
    let specials: [Float] = [
      .nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-30
    ]
    for step in -3..<3000 {
      let wall = 1_700_000_000.0 + Double(step) * 0.25
      let loss = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next() >> 32) & 0x3FFF_FFFF)  // finite, varied
      writer.addScalar("train/loss", loss, step: step, wallTime: wall)
      expected["train/loss", default: []].append((Int64(step), loss, wall))
      if step % 10 == 0 {
        let values: [(String, Float)] = [
          ("eval/accuracy", Float(step) / 3000), ("eval/f1 macro", specials[(step / 10 + 8) % 8])
        ]
        writer.addScalars(values, step: step, wallTime: wall)
        for (tag, v) in values { expected[tag, default: []].append((Int64(step), v, wall)) }
      }
    }
    // A step going backwards and a huge step (int64 varint edge cases).
    writer.addScalar("lr", 0.001, step: 5, wallTime: 1.5)
    writer.addScalar("lr", 0.002, step: Int(Int32.max) + 10, wallTime: 2.5)
    writer.addScalars(["a/x": 1.0, "a/y": -2.5], step: 7, wallTime: 3.5)
    expected["lr"] = [(5, 0.001, 1.5), (Int64(Int32.max) + 10, 0.002, 2.5)]
    expected["a/x"] = [(7, 1.0, 3.5)]
    expected["a/y"] = [(7, -2.5, 3.5)]
    try writer.close()
    XCTAssertNil(writer.lastError)
    return expected
  }

  private func compare(_ actual: [String: [[Any]]], _ expected: [String: [(Int64, Float, Double)]], _ what: String) {
    XCTAssertEqual(Set(actual.keys), Set(expected.keys), what)
    for (tag, rows) in expected {
      let got = actual[tag] ?? []
      XCTAssertEqual(got.count, rows.count, "\(what) \(tag) count")
      for (g, e) in zip(got, rows) {
        XCTAssertEqual((g[0] as? NSNumber)?.int64Value, e.0, "\(what) \(tag) step")
        assertSameFloat(e.1, bits(g[1]), "\(what) \(tag) step \(e.0)")
        XCTAssertEqual((g[2] as? NSNumber)?.doubleValue, e.2, "\(what) \(tag) wall time")
      }
    }
  }

  func testSimpleValueScalarsReadByEventAccumulator() throws {
    let logdir = try ReferenceTools.temporaryDirectory(self).appendingPathComponent("run")
    let expected = try writeRun(logdir, encoding: .simpleValue)
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "tensorboard_reference.py", ["scalars", logdir.path]) as? [String: Any])
    XCTAssertEqual((reference["file_version"] as? NSNumber)?.doubleValue, 2)
    compare(try XCTUnwrap(reference["scalars"] as? [String: [[Any]]]), expected, "EventAccumulator.Scalars")
    compare(try XCTUnwrap(reference["tensors"] as? [String: [[Any]]]), expected, "plugin EventAccumulator.Tensors")

    // Our own reader sees the same.
    let files = try TensorBoardEventReader.eventFiles(in: logdir)
    XCTAssertEqual(files.count, 1)
    let reader = try TensorBoardEventReader(fileURL: try XCTUnwrap(files.first))
    XCTAssertEqual(reader.fileVersion, "brain.Event:2")
    let byTag = reader.scalarsByTag
    for (tag, rows) in expected {
      let got = byTag[tag] ?? []
      XCTAssertEqual(got.map(\.step), rows.map(\.0), tag)
      for (g, e) in zip(got, rows) {
        XCTAssertTrue(g.value.bitPattern == e.1.bitPattern || (g.value.isNaN && e.1.isNaN))
      }
    }
  }

  func testTensorScalarsReadByPluginAccumulator() throws {
    let logdir = try ReferenceTools.temporaryDirectory(self).appendingPathComponent("run")
    let expected = try writeRun(logdir, encoding: .tensor)
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "tensorboard_reference.py", ["scalars", logdir.path]) as? [String: Any])
    compare(try XCTUnwrap(reference["tensors"] as? [String: [[Any]]]), expected, "plugin EventAccumulator.Tensors")
    XCTAssertEqual(reference["scalar_plugin_tags"] as? [String], expected.keys.sorted())
    let ours = try TensorBoardEventReader.scalars(inLogdir: logdir)
    XCTAssertEqual(ours.count, expected.values.map(\.count).reduce(0, +))
  }

  func testFileNameAndFileVersionRecord() throws {
    let logdir = try ReferenceTools.temporaryDirectory(self)
    let writer = try TensorBoardWriter(logdir: logdir.path, options: .init(filenameSuffix: ".v2"))
    let name = writer.fileURL.lastPathComponent
    let parts = name.split(separator: ".", omittingEmptySubsequences: false)
    XCTAssertTrue(name.hasPrefix("events.out.tfevents."), name)
    XCTAssertEqual(parts[3].count, 10, name)
    XCTAssertTrue(name.contains(".\(getpid())."), name)
    XCTAssertTrue(name.hasSuffix(".v2"), name)
    let second = try TensorBoardWriter(logdir: logdir)
    XCTAssertNotEqual(second.fileURL, writer.fileURL, "a per-process counter keeps names unique")
    // The file-version record is on disk before any scalar is added.
    let events = try TensorBoardEventReader(fileURL: writer.fileURL).events
    XCTAssertEqual(events.count, 1)
    XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
    try writer.close()
    try second.close()
    try writer.close()  // idempotent
  }

  func testBufferingPeriodicFlushAndClose() throws {
    let logdir = try ReferenceTools.temporaryDirectory(self)
    let writer = try TensorBoardWriter(logdir: logdir, options: .init(flushInterval: 0.1, maxPendingEvents: 1000))
    writer.addScalar("x", 1.0, step: 1)
    XCTAssertEqual(try TensorBoardEventReader(fileURL: writer.fileURL).scalars.count, 0, "buffered")
    Thread.sleep(forTimeInterval: 0.5)
    XCTAssertEqual(try TensorBoardEventReader(fileURL: writer.fileURL).scalars.count, 1, "flushed by the timer")
    writer.addScalar("x", 2, step: 2)  // an integer literal resolves to the Double overload
    try writer.flush()
    XCTAssertEqual(try TensorBoardEventReader(fileURL: writer.fileURL).scalars.map(\.value), [1, 2])
    try writer.close()
    var reported: [String] = []
    writer.errorHandler = { reported.append("\($0)") }
    writer.addScalar("x", 3.0, step: 3)
    XCTAssertEqual(reported.count, 1)
    XCTAssertTrue(reported.first?.contains("closed") ?? false)
    XCTAssertNotNil(writer.lastError)
  }

  func testWriteErrorsAreReportedNotFatal() throws {
    guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
    let logdir = try ReferenceTools.temporaryDirectory(self)
    let writer = try TensorBoardWriter(logdir: logdir, options: .init(flushInterval: 0, maxPendingEvents: 2))
    // Redirect the descriptor to /dev/full so that every write fails with ENOSPC.
    let full = open("/dev/full", O_WRONLY)
    XCTAssertGreaterThanOrEqual(full, 0)
    try writer.replaceDescriptorForTesting(full)
    var errors: [Error] = []
    writer.errorHandler = { errors.append($0) }
    for step in 0..<5 { writer.addScalar("x", Float(step), step: step) }
    XCTAssertFalse(errors.isEmpty)
    XCTAssertTrue("\(errors[0])".contains("No space left on device"), "\(errors[0])")
    XCTAssertThrowsError(try writer.flush())
    XCTAssertThrowsError(try writer.close())
  }

  func testReaderDetectsCorruption() throws {
    let logdir = try ReferenceTools.temporaryDirectory(self)
    let writer = try TensorBoardWriter(logdir: logdir)
    writer.addScalar("x", 1.0, step: 1)
    try writer.close()
    var bytes = [UInt8](try Data(contentsOf: writer.fileURL))
    // Truncated tail: tolerated on request, reported otherwise.
    let truncated = logdir.appendingPathComponent("events.out.tfevents.truncated")
    try Data(bytes.dropLast(3)).write(to: truncated)
    XCTAssertThrowsError(try TensorBoardEventReader(fileURL: truncated))
    XCTAssertEqual(try TensorBoardEventReader(fileURL: truncated, allowTruncatedTail: true).events.count, 1)
    // A flipped data byte fails the data CRC.
    bytes[bytes.count - 6] ^= 0x01
    let corrupt = logdir.appendingPathComponent("events.out.tfevents.corrupt")
    try Data(bytes).write(to: corrupt)
    XCTAssertThrowsError(try TensorBoardEventReader(fileURL: corrupt)) { error in
      XCTAssertTrue("\(error)".contains("data CRC mismatch"), "\(error)")
    }
  }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
