import Foundation
import XCTest

/// `FullyShardedDataParallel` and `ZeroRedundancyOptimizer` train the same as `DistributedDataParallel` (same
/// job: TinyNet, AdamW lr 0.01 wd 0.01, 2 ranks × 4 rows, 5 steps) while holding less per rank.
final class ShardedTrainingTests: XCTestCase {
  func testFSDPAndZeROMatchDDPWithLessMemoryPerRank() throws {
    let launcher = try RankLauncher(self)
    let ddpJob = try launcher.start(.worker, ["train", "--mode", "ddp", "--steps", "5"])
    let fsdpJob = try launcher.start(.worker, ["train", "--mode", "fsdp", "--steps", "5"])
    let zeroJob = try launcher.start(.worker, ["train", "--mode", "zero", "--steps", "5"])
    let ddp = try TrainRun.ranks(ddpJob)
    let fsdp = try TrainRun.ranks(fsdpJob)
    let zero = try TrainRun.ranks(zeroJob)

    for (name, runs) in [("FSDP", fsdp), ("ZeRO", zero)] {
      for rank in 0..<2 {
        let d = TrainRun.diff(runs[rank], ddp[rank], "\(name) rank \(rank) vs DDP")
        print("\(name) rank \(rank) vs DDP: max |Δloss| \(d.losses), max |Δweight| \(d.params)")
        XCTAssertLessThanOrEqual(d.losses, 1e-5, "\(name) rank \(rank): losses differ from DDP's")
        XCTAssertLessThanOrEqual(d.params, 1e-5, "\(name) rank \(rank): final weights differ from DDP's")
      }
      XCTAssertEqual(runs[0].params, runs[1].params, "\(name): the ranks' final weights differ")
    }

    // Per-rank parameter + gradient + optimizer-state memory (float32 elements, measured by the worker).
    let full = ddp[0].params.values.reduce(0) { $0 + $1.count }  // 212 for TinyNet
    let shardSum = ddp[0].params.values.reduce(0) { $0 + ($1.count + 1) / 2 }  // Σ ⌈numel / 2⌉
    for rank in 0..<2 {
      let d = ddp[rank], f = fsdp[rank], z = zero[rank]
      for (name, r) in [("DDP", d), ("FSDP", f), ("ZeRO", z)] {
        print(
          """
          memory rank \(rank) \(name): parameters \(r.paramElements), gradients \(r.gradElements), \
          optimizer \(r.optimizerElements) = \(r.memoryElements) elements (\(r.memoryElements * 4) bytes)
          """)
      }
      // DDP: everything full on every rank (AdamW: exp_avg and exp_avg_sq per parameter).
      XCTAssertEqual(d.paramElements, full)
      XCTAssertEqual(d.gradElements, full)
      XCTAssertEqual(d.optimizerElements, 2 * full)
      // FSDP: only the shards (the module's own parameters are empty between steps), their gradients and state.
      XCTAssertEqual(f.paramElements, shardSum, "FSDP rank \(rank) holds more than its shards")
      XCTAssertEqual(f.gradElements, shardSum)
      XCTAssertEqual(f.optimizerElements, 2 * shardSum)
      XCTAssertLessThan(f.memoryElements, d.memoryElements)
      // ZeRO-1: full parameters and gradients, the optimizer state of this rank's partition only.
      XCTAssertEqual(z.paramElements, full)
      XCTAssertEqual(z.gradElements, full)
      XCTAssertLessThan(z.optimizerElements, d.optimizerElements)
      XCTAssertLessThan(z.memoryElements, d.memoryElements)
      let saved = { (r: TrainRun) in
        String(format: "%.0f %%", 100 * (1 - Double(r.memoryElements) / Double(d.memoryElements)))
      }
      print(
        "memory rank \(rank): FSDP saves \(saved(f)), ZeRO saves \(saved(z)) of DDP's per-rank parameter+gradient+optimizer memory"
      )
    }
    // ZeRO's partitions cover every parameter exactly once.
    XCTAssertEqual(zero[0].optimizerElements + zero[1].optimizerElements, 2 * full)
  }
}
