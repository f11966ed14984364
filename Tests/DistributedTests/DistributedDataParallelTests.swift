import Foundation
import XCTest

/// `DistributedDataParallel` (c10d's Reducer) against PyTorch's DDP, both 2 ranks over Gloo, on TinyNet
/// (8→16→4, tanh, MSE, AdamW lr 0.01) with rank 1 initialised elsewhere (so the broadcast from rank 0 matters),
/// 8 rows per step split 4 + 4.
final class DistributedDataParallelTests: XCTestCase {
  static let tolerance = 1e-6

  /// 5 steps: losses and final weights equal PyTorch DDP's; the weights also equal a single process trained on
  /// the full 8 rows (the all-reduced mean of the two halves' gradients is the full batch's gradient).
  func testDDPMatchesPyTorchDDPAndSingleProcess() throws {
    let launcher = try RankLauncher(self)
    let swift = try launcher.start(.worker, ["train", "--mode", "ddp", "--steps", "5"])
    let torch = try launcher.start(.reference, ["train", "--mode", "ddp", "--steps", "5"])
    let single = try launcher.startSingle(.worker, ["train", "--mode", "single", "--steps", "5"])
    let s = try TrainRun.ranks(swift)
    let t = try TrainRun.ranks(torch)
    let one = try TrainRun.ranks(single)[0]

    for rank in 0..<2 {
      let d = TrainRun.diff(s[rank], t[rank], "rank \(rank) vs PyTorch DDP")
      print("DDP rank \(rank) vs PyTorch DDP: max |Δloss| \(d.losses), max |Δweight| \(d.params)")
      XCTAssertLessThanOrEqual(d.losses, Self.tolerance, "rank \(rank): losses differ from PyTorch DDP")
      XCTAssertLessThanOrEqual(d.params, Self.tolerance, "rank \(rank): final weights differ from PyTorch DDP")
    }
    // Both ranks hold the same model (rank 1's own initialisation was replaced by rank 0's).
    XCTAssertEqual(s[0].params, s[1].params, "the ranks' final weights differ")
    // The ranks saw different halves, so their losses differ: the run really was split.
    XCTAssertNotEqual(s[0].losses, s[1].losses)

    // Single process, full batch: its loss is the mean of the halves' losses (equal halves, mean reduction);
    // the weights differ from DDP's only by float32 rounding (a 4+4 reduction instead of one over 8 rows).
    let halves = zip(s[0].losses, s[1].losses).map { [($0[0] + $1[0]) / 2] }
    let lossDiff = zip(halves, one.losses).map { abs($0[0] - $1[0]) }.max()!
    let weightDiff = one.params.keys.map { Compare.maxDiff(one.params[$0]!, s[0].params[$0] ?? [], $0) }.max()!
    print("DDP vs single process (full batch): max |Δloss| \(lossDiff), max |Δweight| \(weightDiff)")
    XCTAssertLessThanOrEqual(lossDiff, Self.tolerance, "DDP's mean loss differs from the full-batch loss")
    XCTAssertLessThanOrEqual(weightDiff, Self.tolerance, "DDP's weights differ from the full-batch run's")
  }

  /// Gradient accumulation: 2 micro-batches per step, the first under `noSync` (gradients kept local), the
  /// second synchronised — against PyTorch's `no_sync()` on the same job.
  func testNoSyncAccumulationMatchesPyTorch() throws {
    let launcher = try RankLauncher(self)
    let args = ["train", "--mode", "ddp", "--steps", "3", "--accumulate", "2"]
    let swift = try launcher.start(.worker, args)
    let torch = try launcher.start(.reference, args)
    let single = try launcher.startSingle(.worker, ["train", "--mode", "single", "--steps", "3", "--accumulate", "2"])
    let s = try TrainRun.ranks(swift)
    let t = try TrainRun.ranks(torch)
    let one = try TrainRun.ranks(single)[0]
    for rank in 0..<2 {
      XCTAssertEqual(s[rank].losses.map(\.count), [2, 2, 2], "two micro-batch losses per step")
      let d = TrainRun.diff(s[rank], t[rank], "accumulate 2, rank \(rank) vs PyTorch no_sync")
      print("noSync rank \(rank) vs PyTorch no_sync: max |Δloss| \(d.losses), max |Δweight| \(d.params)")
      XCTAssertLessThanOrEqual(d.losses, Self.tolerance)
      XCTAssertLessThanOrEqual(d.params, Self.tolerance)
    }
    XCTAssertEqual(s[0].params, s[1].params, "the ranks' final weights differ after accumulation")
    // noSync really kept the first micro-batch's gradients local (the ranks' differ, as PyTorch's do), and the
    // synchronised second one averaged them (equal on both ranks).
    for step in 0..<3 {
      for rank in 0..<2 {
        let d = Compare.maxDiff(
          s[rank].gradSums[step], t[rank].gradSums[step], "step \(step) rank \(rank) gradient sums")
        XCTAssertLessThanOrEqual(d, Self.tolerance, "step \(step) rank \(rank): gradients differ from PyTorch's")
      }
      XCTAssertNotEqual(
        s[0].gradSums[step][0], s[1].gradSums[step][0], "step \(step): gradients were synchronised under noSync")
      XCTAssertEqual(
        s[0].gradSums[step][1], s[1].gradSums[step][1], "step \(step): gradients not synchronised after noSync")
    }
    // The accumulated gradient over both micro-batches of both ranks is the full batches' gradient.
    let weightDiff = one.params.keys.map { Compare.maxDiff(one.params[$0]!, s[0].params[$0] ?? [], $0) }.max()!
    XCTAssertLessThanOrEqual(weightDiff, Self.tolerance, "accumulated DDP differs from single-process accumulation")
  }

  /// `findUnusedParameters`: a registered layer the forward never uses ("spare") — PyTorch's
  /// `find_unused_parameters=True` trains on and leaves it untouched; so must TorchSwift.
  func testFindUnusedParametersMatchesPyTorch() throws {
    let launcher = try RankLauncher(self)
    let args = ["train", "--mode", "ddp", "--steps", "3", "--unused"]
    let swift = try launcher.start(.worker, args)
    let torch = try launcher.start(.reference, args)
    let s = try TrainRun.ranks(swift)
    let t = try TrainRun.ranks(torch)
    for rank in 0..<2 {
      XCTAssertNotNil(s[rank].params["spare.weight"], "the unused layer is part of the model")
      let d = TrainRun.diff(s[rank], t[rank], "unused parameters, rank \(rank) vs PyTorch")
      print("findUnusedParameters rank \(rank) vs PyTorch: max |Δloss| \(d.losses), max |Δweight| \(d.params)")
      XCTAssertLessThanOrEqual(d.losses, Self.tolerance)
      XCTAssertLessThanOrEqual(d.params, Self.tolerance)
    }
    XCTAssertEqual(s[0].params, s[1].params)
  }
}
