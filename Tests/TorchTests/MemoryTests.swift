import Foundation
import XCTest

@testable import Torch

/// ARC frees libtorch tensors deterministically: resident memory stays flat.
final class MemoryTests: XCTestCase {
  func residentMB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
      let pages = Double(s.split(separator: " ")[1])
    else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
  }

  func testMillionSmallAndThousandLargeTensorsKeepMemoryFlat() throws {
    let a = try Tensor([1, 2, 3, 4] as [Float])
    for _ in 0..<20_000 { _ = a + a }  // warm up allocator caches
    let before = residentMB()
    for _ in 0..<1_000_000 {
      let b = a + a
      _ = b
    }
    let afterSmall = residentMB()
    for _ in 0..<1_000 {
      let big = try Tensor.empty([4 * 1024 * 1024])  // 16 MB each, 16 GB in total
      try big.fill_(1)
    }
    let afterLarge = residentMB()
    print(
      String(
        format: "resident memory: %.1f MB before, %.1f MB after 1M small, %.1f MB after 1000 x 16 MB",
        before, afterSmall, afterLarge))
    // Bound: growth under 64 MB (a leak of 1M small tensors would be hundreds of MB; of 1000 large, 16 GB).
    XCTAssertLessThan(afterSmall - before, 64)
    XCTAssertLessThan(afterLarge - before, 64)
  }
}
