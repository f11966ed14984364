import Foundation
import XCTest

@testable import Training

/// The data loader's prefetching thread ends with its iterator: when the iterator is dropped mid-epoch,
/// when an epoch is left early by an error, and after evaluation.
final class DataLoaderTests: XCTestCase {
  func examples(_ n: Int) -> [EncodedExample] {
    (0..<n).map { EncodedExample(ids: [101, Int32(1000 + $0 % 50), 102], typeIds: [0, 0, 0], label: Int32($0 % 2)) }
  }

  /// Waits up to 5 s for every producer thread to end; returns how many are still running.
  func producersAfterWaiting() -> Int {
    let deadline = Date().addingTimeInterval(5)
    while BatchIterator.producers.value > 0 && Date() < deadline { usleep(10_000) }
    return BatchIterator.producers.value
  }

  func testDroppingAnIteratorMidEpochEndsItsProducerThread() throws {
    XCTAssertEqual(producersAfterWaiting(), 0, "a producer of an earlier test is still running")
    let loader = try DataLoader(examples: examples(64), batchSize: 2, shuffle: false, prefetch: 1)
    do {
      let it = try loader.makeIterator(epoch: 0)
      XCTAssertNotNil(try it.next())
      XCTAssertNotNil(try it.next())
      // The producer is now parked: the prefetch queue is full and 30 batches are left.
      XCTAssertEqual(BatchIterator.producers.value, 1)
      XCTAssertEqual(it.remaining, 30)
    }
    XCTAssertEqual(producersAfterWaiting(), 0, "the producer of a dropped iterator is still running")
  }

  func testAnErrorMidEpochEndsTheProducerThread() throws {
    XCTAssertEqual(producersAfterWaiting(), 0, "a producer of an earlier test is still running")
    struct Stop: Error {}
    let loader = try DataLoader(examples: examples(64), batchSize: 4, shuffle: true, prefetch: 2)
    func epoch() throws {
      let it = try loader.makeIterator(epoch: 1)
      var seen = 0
      while let b = try it.next() {
        XCTAssertEqual(b.size, 4)
        seen += 1
        if seen == 3 { throw Stop() }
      }
    }
    XCTAssertThrowsError(try epoch())
    XCTAssertEqual(producersAfterWaiting(), 0, "an epoch left by an error leaves its producer running")
  }

  func testIteratingToTheEndEndsTheProducerThread() throws {
    let loader = try DataLoader(examples: examples(10), batchSize: 4, shuffle: false, dropLast: false, prefetch: 1)
    let it = try loader.makeIterator(epoch: 0)
    var sizes: [Int] = []
    while let b = try it.next() { sizes.append(b.size) }
    XCTAssertEqual(sizes, [4, 4, 2])
    XCTAssertEqual(producersAfterWaiting(), 0)
    withExtendedLifetime(it) {}
  }
}
