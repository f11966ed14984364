import Distributed
import Foundation
import ReferenceTesting
import XCTest

/// `DistributedSampler` against `torch.utils.data.DistributedSampler` (no processes: every rank's view is
/// computed in one place on each side).
final class DistributedSamplerTests: XCTestCase {
  struct Case: Codable {
    var n: Int
    var world: Int
    var shuffle: Bool
    var seed: UInt64
    var epoch: Int
    var drop_last: Bool
  }

  static let cases: [Case] = [
    Case(n: 10, world: 3, shuffle: false, seed: 0, epoch: 0, drop_last: false),  // tail padded from the start
    Case(n: 10, world: 3, shuffle: false, seed: 0, epoch: 0, drop_last: true),  // tail dropped
    Case(n: 10, world: 3, shuffle: true, seed: 0, epoch: 0, drop_last: false),
    Case(n: 10, world: 3, shuffle: true, seed: 0, epoch: 1, drop_last: false),  // another epoch, another order
    Case(n: 10, world: 3, shuffle: true, seed: 42, epoch: 3, drop_last: true),
    Case(n: 12, world: 4, shuffle: true, seed: 7, epoch: 2, drop_last: false),  // divisible: no padding
    Case(n: 12, world: 4, shuffle: true, seed: 7, epoch: 2, drop_last: true),
    Case(n: 5, world: 8, shuffle: true, seed: 1, epoch: 0, drop_last: false),  // n < world: padding repeats
    Case(n: 5, world: 8, shuffle: false, seed: 0, epoch: 0, drop_last: true),  // n < world, dropped: empty
    Case(n: 1, world: 2, shuffle: true, seed: 3, epoch: 5, drop_last: false),
    Case(n: 3, world: 7, shuffle: false, seed: 0, epoch: 0, drop_last: false),  // padding > n: repeated twice
    Case(n: 0, world: 2, shuffle: true, seed: 0, epoch: 0, drop_last: false),
    Case(n: 1000, world: 7, shuffle: true, seed: 123_456_789, epoch: 4, drop_last: false),
    Case(n: 1000, world: 7, shuffle: true, seed: 2, epoch: 0, drop_last: true)
  ]

  func testIndicesPerRankEqualPyTorch() throws {
    let input = try JSONEncoder().encode(Self.cases)
    let script = RankLauncher.fixtures.appendingPathComponent("reference.py").path
    let out = try ReferenceTools.runPython([script, "sampler"], input: input)
    let reference = try JSONDecoder().decode([[[Int]]].self, from: out)
    XCTAssertEqual(reference.count, Self.cases.count)
    for (c, torch) in zip(Self.cases, reference) {
      for rank in 0..<c.world {
        let s = try DistributedSampler(
          datasetSize: c.n, numReplicas: c.world, rank: rank, shuffle: c.shuffle,
          seed: c.seed, dropLast: c.drop_last)
        let indices = try s.indices(epoch: c.epoch)
        XCTAssertEqual(indices, torch[rank], "\(c), rank \(rank)")
        XCTAssertEqual(s.numSamples, torch[rank].count, "\(c): numSamples (len(sampler))")
      }
    }
    // The cases exercise what they claim: padding repeats indices, shuffling changes the order per epoch.
    XCTAssertEqual(reference[0].flatMap { $0 }.count, 12)
    XCTAssertNotEqual(reference[2], reference[3])
    XCTAssertEqual(reference[8].flatMap { $0 }, [])
  }

  func testInvalidArgumentsAreErrors() {
    XCTAssertThrowsError(try DistributedSampler(datasetSize: 4, numReplicas: 2, rank: 2)) {
      XCTAssertTrue("\($0)".contains("rank 2"), "\($0)")
    }
    XCTAssertThrowsError(try DistributedSampler(datasetSize: 4, numReplicas: 0, rank: 0))
  }
}
