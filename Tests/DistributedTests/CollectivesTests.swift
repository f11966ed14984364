import Foundation
import XCTest

/// Every collective of `ProcessGroup` against `torch.distributed` (Gloo) on the same inputs, 2 ranks each.
final class CollectivesTests: XCTestCase {
  /// The results the worker and reference.py print, by key (nested lists are flattened).
  static let keys = [
    "all_reduce_sum", "all_reduce_avg", "all_reduce_max", "all_reduce_min", "all_reduce_product", "all_reduce_int_max",
    "all_reduce_coalesced", "broadcast_from_1", "all_gather", "all_gather_into_tensor",
    "reduce_scatter_sum", "reduce_scatter_avg", "reduce_scatter_max", "reduce_scatter_min"
  ]

  static func flatten(_ any: Any?) -> [Double]? {
    if let n = any as? NSNumber { return [n.doubleValue] }
    guard let a = any as? [Any] else { return nil }
    var out: [Double] = []
    for e in a {
      guard let f = flatten(e) else { return nil }
      out += f
    }
    return out
  }

  /// Asserts that each rank's results equal PyTorch's bit for bit (float32 values printed as float64).
  static func assertSame(
    _ swift: [[[String: Any]]], _ torch: [[[String: Any]]], _ what: String,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(swift.count, 2, file: file, line: line)
    for rank in 0..<min(swift.count, torch.count) {
      guard let s = swift[rank].first(where: { $0["all_reduce_sum"] != nil }),
        let t = torch[rank].first(where: { $0["all_reduce_sum"] != nil })
      else {
        XCTFail("\(what): rank \(rank) printed no results", file: file, line: line)
        continue
      }
      XCTAssertEqual(s["rank"] as? Int, rank, file: file, line: line)
      XCTAssertEqual(s["world_size"] as? Int, 2, file: file, line: line)
      for key in keys {
        guard let a = flatten(s[key]), let b = flatten(t[key]) else {
          XCTFail(
            "\(what): rank \(rank) lacks \(key) (swift: \(s[key] != nil), torch: \(t[key] != nil))", file: file,
            line: line)
          continue
        }
        XCTAssertEqual(a, b, "\(what): rank \(rank) \(key)", file: file, line: line)
      }
    }
  }

  func testCollectivesEqualTorchDistributed() throws {
    let launcher = try RankLauncher(self)
    let swift = try launcher.start(.worker, ["collectives", "--timeout", "30"])
    let torch = try launcher.start(.reference, ["collectives"])
    let s = try swift.succeed()
    let t = try torch.succeed()
    Self.assertSame(s, t, "hand launch")
    // The results differ between ranks where they must (the reduce-scatter chunks), so equality above is not
    // equality of two copies of one rank.
    XCTAssertNotEqual(Self.flatten(s[0].first?["reduce_scatter_sum"]), Self.flatten(s[1].first?["reduce_scatter_sum"]))
    // barrier: rank 1 entered it 0.5 s late, so rank 0 must have waited there.
    let wait = s[0].first?["barrier_wait_s"] as? Double ?? 0
    XCTAssertGreaterThan(wait, 0.35, "rank 0 left the barrier before rank 1 entered it")
  }
}
