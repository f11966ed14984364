import CTorch
import Foundation
import XCTest

@testable import Torch

/// Metadata getters check the C layer's status: reading the shape, dtype or device of an undefined tensor
/// (`at::Tensor()`) stops with libtorch's message instead of reading as 0 dimensions / uint8 / CPU.
final class TensorMetadataTests: XCTestCase {
  static let childVariable = "TORCHSWIFT_METADATA_CHILD"

  func undefinedTensor() throws -> Tensor {
    var out: ts_tensor? = nil
    try check(ts_tensor_undefined(&out))
    return Tensor(taking: out!)
  }

  /// Runs one getter on an undefined tensor in a child test process (the getter traps, as the
  /// non-throwing accessors do); returns its exit status and output.
  func runChild(_ getter: String) throws -> (status: Int32, signalled: Bool, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    p.arguments = ["TorchTests.TensorMetadataTests/testChildReadsGetterOfUndefinedTensor"]
    var env = ProcessInfo.processInfo.environment
    env[Self.childVariable] = getter
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, p.terminationReason == .uncaughtSignal, String(decoding: data, as: UTF8.self))
  }

  /// The child's side (does nothing in a normal run).
  func testChildReadsGetterOfUndefinedTensor() throws {
    guard let getter = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
    let t = try undefinedTensor()
    let value: Any
    switch getter {
    case "dim": value = t.dim
    case "shape": value = t.shape
    case "dtype": value = t.dtype
    case "device": value = t.device
    case "numel": value = t.numel
    default: value = "unknown getter \(getter)"
    }
    print("CHILD-READ \(getter) = \(value)")
  }

  func testGettersOfAnUndefinedTensorStopWithLibtorchsMessage() throws {
    for getter in ["dim", "shape", "dtype", "device", "numel"] {
      let r = try runChild(getter)
      XCTAssertTrue(r.signalled, "\(getter) of an undefined tensor did not stop the process: \(r.output.suffix(600))")
      XCTAssertFalse(r.output.contains("CHILD-READ"), "\(getter) read a value: \(r.output.suffix(600))")
      XCTAssertTrue(r.output.contains("undefined"), "\(getter): libtorch's message missing: \(r.output.suffix(600))")
    }
  }

  func testGettersOfDefinedTensorsReadLibtorchsValues() throws {
    let t = try Tensor.zeros([2, 3, 4], dtype: .float64).transpose(0, 2)
    XCTAssertEqual(t.dim, 3)
    XCTAssertEqual(t.shape, [4, 3, 2])
    XCTAssertEqual(t.strides, [1, 4, 12])
    XCTAssertEqual(t.numel, 24)
    XCTAssertEqual(t.dtype, .float64)
    XCTAssertEqual(t.device, .cpu)
    XCTAssertFalse(t.isContiguous)
    XCTAssertEqual(try t.index([.index(1)]).storageOffset, 1)
  }
}
