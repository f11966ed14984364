import XCTest

@testable import Torch

/// libtorch errors come back as Swift errors carrying libtorch's explanation; the process carries on.
final class ErrorTests: XCTestCase {
  func message(_ body: () throws -> Any) -> String {
    do {
      _ = try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  func testShapeMismatch() throws {
    let a = try Tensor.ones([2, 3])
    let b = try Tensor.ones([4, 5])
    let m = message { try a.matmul(b) }
    XCTAssertTrue(m.contains("cannot be multiplied"), m)
    XCTAssertFalse(m.contains("Exception raised from"), "no C++ backtrace: \(m)")
    let m2 = message { try a.add(b) }
    XCTAssertTrue(m2.contains("must match the size"), m2)
  }

  func testDTypeMismatch() throws {
    let a = try Tensor.ones([2, 2])
    let b = try Tensor.ones([2, 2], dtype: .float64)
    let m = message { try a.mm(b) }
    XCTAssertTrue(m.contains("expected") && (m.contains("Double") || m.contains("dtype")), m)
  }

  func testIndexOutOfRange() throws {
    let a = try Tensor.ones([3])
    let m = message { try a.index([.index(5)]) }
    XCTAssertTrue(m.contains("out of range"), m)
    let m2 = message { try a.indexSelect(dim: 0, index: Tensor([7] as [Int])) }
    XCTAssertTrue(m2.lowercased().contains("out of range"), m2)
  }

  func testCUDAWithoutCUDA() throws {
    try XCTSkipIf(CUDA.isAvailable, "this machine has CUDA")
    let m = message { try Tensor.zeros([2], device: .cuda(0)) }
    XCTAssertTrue(m.contains("CUDA") || m.contains("NVIDIA"), m)
    let m2 = message { try Tensor.ones([2]).to(device: .cuda) }
    XCTAssertTrue(m2.contains("CUDA") || m2.contains("NVIDIA"), m2)
    // still alive and computing
    XCTAssertEqual(try (Tensor.ones([2]) + 1).floats(), [2, 2])
  }

  func testBadFileAndBackwardErrors() throws {
    let m = message { try Torch.load("/nonexistent/x.pt") }
    XCTAssertTrue(m.contains("/nonexistent/x.pt"), m)
    let m2 = message { try Tensor.ones([2]).requiresGrad_().mul(2).backward() }
    XCTAssertTrue(m2.contains("grad can be implicitly created only for scalar outputs"), m2)
  }
}
