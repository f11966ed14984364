import Foundation
import XCTest
import SafeTensors

final class FuzzAndPerformanceTests: XCTestCase {
  /// Runs the fuzzer core for about five seconds; any consistency
  /// violation (or a crash) fails the test.
  func testFuzzFiveSeconds() throws {
    let scratch = try TestSupport.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let seed = UInt64(Date().timeIntervalSince1970)
    var fuzzer = SafeTensorsFuzzer(seed: seed)
    let report = fuzzer.run(seconds: 5, scratchDirectory: scratch.path)
    print("fuzz seed \(seed):\n\(report)")
    XCTAssertEqual(report.violations, [], "seed \(seed)")
    XCTAssertGreaterThan(report.iterations, 1000)
    XCTAssertGreaterThan(report.accepted, 0)
    XCTAssertGreaterThan(report.rejectionsByKind.count, 10)
  }

  /// A 100 MB model with 20,000 tensors (a ~1.6 MB header): opening it maps
  /// the file and parses the header in milliseconds without touching the data.
  func testLargeHeaderParsesFast() throws {
    let directory = try TestSupport.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let count = 20_000
    let perTensor = 5_000  // bytes; 20,000 x 5,000 = 100 MB
    let plan = try SafeTensorsWriter.Plan(
      (0..<count).map { index in
        SafeTensorsWriter.Entry(
          name: "model.layers.\(index).self_attn.q_proj.weight", dtype: .F32,
          shape: [25, perTensor / 100]
        ) { _ in }
      }, metadata: ["format": "pt"], path: "<memory>")
    XCTAssertEqual(plan.dataByteCount, count * perTensor)
    // Header via the writer's plan, data as a sparse hole (no 100 MB write).
    let url = directory.appendingPathComponent("big.safetensors")
    var prefix = withUnsafeBytes(of: UInt64(plan.header.count).littleEndian) { [UInt8]($0) }
    prefix += plan.header
    XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(prefix)))
    XCTAssertEqual(truncate(url.path, off_t(prefix.count + plan.dataByteCount)), 0)

    let start = Date()
    let file = try SafeTensorsFile(url: url)
    let elapsed = Date().timeIntervalSince(start)
    print("opened \(plan.header.count)-byte header, \(count) tensors, in \(Int(elapsed * 1000)) ms")
    XCTAssertEqual(file.count, count)
    XCTAssertEqual(try file.info("model.layers.19999.self_attn.q_proj.weight").byteCount, perTensor)
    // Generous bound: debug builds are several times slower than release.
    XCTAssertLessThan(elapsed, 2.0)
  }
}
