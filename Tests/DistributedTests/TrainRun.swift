import Foundation
import XCTest

/// What one rank of a `train` scenario printed (Swift worker or reference.py): the loss of each step's
/// micro-batches, the final parameters, and (Swift worker) the per-rank memory figures in elements.
struct TrainRun {
  var losses: [[Double]] = []
  /// Per step, per micro-batch: the float64 sum of the module's gradients right after that backward.
  var gradSums: [[Double]] = []
  var params: [String: [Double]] = [:]
  var paramElements = 0
  var gradElements = 0
  var optimizerElements = 0

  init(_ lines: [[String: Any]], label: String) throws {
    for line in lines {
      if let step = line["step"] as? Int, let l = Compare.doubles(line["losses"]) {
        guard step == losses.count else { throw LaunchFailure("\(label): step \(step) out of order") }
        losses.append(l)
        gradSums.append(Compare.doubles(line["grad_sums"]) ?? [])
      }
      if let p = line["params"] as? [String: Any] {
        for (k, v) in p { params[k] = Compare.doubles(v) ?? [] }
        paramElements = line["param_elements"] as? Int ?? 0
        gradElements = line["grad_elements"] as? Int ?? 0
        optimizerElements = line["optimizer_elements"] as? Int ?? 0
      }
    }
    guard !losses.isEmpty, !params.isEmpty else {
      throw LaunchFailure("\(label): no steps or no final parameters in its output")
    }
  }

  /// Per-rank parameter + gradient + optimizer-state elements.
  var memoryElements: Int { paramElements + gradElements + optimizerElements }

  /// Parses every rank of a finished job.
  static func ranks(_ job: Job) throws -> [TrainRun] {
    try zip(job.succeed(), job.ranks).map { try TrainRun($0, label: $1.label) }
  }

  /// Largest difference of losses (step by step, micro-batch by micro-batch) and of final parameters.
  static func diff(_ a: TrainRun, _ b: TrainRun, _ what: String, file: StaticString = #filePath, line: UInt = #line)
    -> (losses: Double, params: Double)
  {
    XCTAssertEqual(a.losses.count, b.losses.count, "\(what): step counts", file: file, line: line)
    XCTAssertEqual(a.params.keys.sorted(), b.params.keys.sorted(), "\(what): parameter names", file: file, line: line)
    let l =
      zip(a.losses, b.losses).map { Compare.maxDiff($0, $1, "\(what) losses", file: file, line: line) }.max()
      ?? .infinity
    let p =
      a.params.keys.map { k in Compare.maxDiff(a.params[k]!, b.params[k] ?? [], "\(what) \(k)", file: file, line: line)
      }
      .max() ?? .infinity
    return (l, p)
  }
}
