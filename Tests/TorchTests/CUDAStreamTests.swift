import XCTest

@testable import Torch

/// Streams and events: without a GPU every entry point reports it (no crash); with one, ordering through
/// `wait`, `withStream` restoring the current stream, and event timing.
final class CUDAStreamTests: XCTestCase {
  func testWithoutCUDAEveryEntryPointThrowsAClearError() throws {
    try XCTSkipIf(CUDA.isAvailable, "this machine has CUDA")
    for (what, make) in [
      ("CUDAStream()", { _ = try CUDAStream() }),
      ("CUDAStream.current()", { _ = try CUDAStream.current() }),
      ("CUDAStream.defaultStream()", { _ = try CUDAStream.defaultStream() }),
      ("CUDAEvent()", { _ = try CUDAEvent(enableTiming: true) })
    ] as [(String, () throws -> Void)] {
      XCTAssertThrowsError(try make(), what) { error in
        let text = "\(error)"
        XCTAssertTrue(text.contains("CUDA is not available") || text.contains("built without CUDA"), "\(what): \(text)")
      }
    }
  }

  func testStreamsOrderWorkAndEventsTimeIt() throws {
    try XCTSkipUnless(
      CUDA.isAvailable && CUDA.hasCUDAExtensions, "needs a CUDA device and the C layer's CUDA extensions")
    let main = try CUDAStream.current()
    let side = try CUDAStream(highPriority: true)
    XCTAssertNotEqual(side.id, main.id)
    XCTAssertEqual(try CUDAStream.current().id, main.id, "current(): the same stream each time")
    let a = try Tensor.randn([512, 512], device: .cuda(0)).div(.double(16))
    let start = try CUDAEvent(enableTiming: true), end = try CUDAEvent(enableTiming: true)
    try side.wait(main)
    let onSide = try withStream(side) { () throws -> Tensor in
      XCTAssertEqual(try CUDAStream.current().id, side.id, "inside withStream the side stream is current")
      try start.record(on: side)
      let y = try a.matmul(a).matmul(a)
      try end.record(on: side)
      return y
    }
    XCTAssertEqual(try CUDAStream.current().id, main.id, "withStream restores the previous stream")
    try main.wait(end)
    let reference = try a.matmul(a).matmul(a)
    try end.synchronize()
    XCTAssertTrue(try end.query())
    XCTAssertGreaterThan(try start.elapsedTime(to: end), 0)
    XCTAssertLessThanOrEqual(try (onSide - reference).abs().max().item(Double.self), 1e-4)
    XCTAssertThrowsError(try CUDAEvent().elapsedTime(to: end), "events without timing cannot be timed")
    try onSide.recordStream(main)
    XCTAssertThrowsError(try Tensor.zeros([2]).recordStream(main), "record_stream needs a CUDA tensor")
    XCTAssertThrowsError(try CUDAStream(device: 4096), "a device that does not exist")
  }
}
