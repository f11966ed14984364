import XCTest
@testable import Torch

final class SmokeTests: XCTestCase {
  func testAdd() throws {
    let a = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let b = a + a
    XCTAssertEqual(try b.floats(), [2, 4, 6, 8])
    print(b)
  }
}
