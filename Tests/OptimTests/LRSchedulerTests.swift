import Foundation
import ReferenceTesting
import XCTest

import Optim
import Torch

/// `getScheduler` by name and `warmupSteps(ratio:)` against transformers' `get_scheduler` and
/// `TrainingArguments.get_warmup_steps`, computed by transformers in the test.
final class LRSchedulerTests: XCTestCase {
  func testGetSchedulerMatchesTransformersForEveryScheduleAndWarmupRatio() throws {
    // (schedule, training steps, warmup ratio): the fine-tuning demo's 125 steps, a ratio whose product is not exact
    // (100 × 0.07 = 7.000000000000001 → 8 warmup steps), no warmup, all warmup, a single step.
    var cases: [(SchedulerType, Int, Double)] = []
    for name in SchedulerType.allCases {
      for (steps, ratio) in [(125, 0.1), (100, 0.07), (20, 0.0), (10, 1.0), (1, 0.5)] {
        cases.append((name, steps, ratio))
      }
    }
    let spec = cases.map { "[\"\($0.0.rawValue)\", \($0.1), \($0.2)]" }.joined(separator: ", ")
    let out = try ReferenceTools.runPython([
      "-c",
      """
      import json, sys
      from types import SimpleNamespace
      import torch
      from transformers import get_scheduler
      from transformers.training_args import TrainingArguments
      result = []
      for name, steps, ratio in json.loads(sys.argv[1]):
          # TrainingArguments' own rule (its constructor needs accelerate, the method only these two fields).
          warmup = TrainingArguments.get_warmup_steps(SimpleNamespace(warmup_steps=0, warmup_ratio=ratio), steps)
          opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
          sched = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=steps)
          lrs = [sched.get_last_lr()[0]]
          for _ in range(steps + 2):
              opt.step()
              sched.step()
              lrs.append(sched.get_last_lr()[0])
          result.append({'warmup': warmup, 'lrs': lrs})
      print(json.dumps(result))
      """, "[\(spec)]"
    ])
    let reference = try JSONSerialization.jsonObject(with: out) as! [[String: Any]]
    XCTAssertEqual(reference.count, cases.count)
    for ((name, steps, ratio), ref) in zip(cases, reference) {
      let what = "\(name.rawValue), \(steps) steps, warmup ratio \(ratio)"
      let warmup = try warmupSteps(ratio: ratio, numTrainingSteps: steps)
      XCTAssertEqual(warmup, ref["warmup"] as? Int, what)
      let opt = try SGD([try Tensor.zeros([1]).requiresGrad_()], lr: 0.1)
      let sched = try getScheduler(name, optimizer: opt, numWarmupSteps: warmup, numTrainingSteps: steps)
      var lrs = [sched.lastLR[0]]
      for _ in 0..<(steps + 2) {
        try opt.step()
        try sched.step()
        lrs.append(sched.lastLR[0])
      }
      let expected = ref["lrs"] as! [Double]
      XCTAssertEqual(lrs.count, expected.count, what)
      for (i, (a, e)) in zip(lrs, expected).enumerated() {
        XCTAssertEqual(a, e, accuracy: 1e-15, "\(what): lr at step \(i)")
      }
      XCTAssertEqual(opt.learningRates, [lrs.last!], "\(what): the optimizer runs at the scheduled lr")
    }
    XCTAssertThrowsError(try warmupSteps(ratio: 1.5, numTrainingSteps: 10)) {
      XCTAssertTrue("\($0)".contains("[0, 1]"), "\($0)")
    }
    XCTAssertEqual(SchedulerType(rawValue: "constant_with_warmup"), .constantWithWarmup)
    XCTAssertFalse(SchedulerType.constant.usesWarmup)
  }

  /// `getTotalNorm` (the gradient norm logged when clipping is off) is the total norm `clip_grad_norm_` returns,
  /// and leaves the gradients alone.
  func testTotalNormIsClipGradNormsTotalWithoutClipping() throws {
    Torch.manualSeed(3)
    let grads = try [Tensor.randn([4, 5]), Tensor.randn([7]), Tensor.randn([2, 2, 3])].map { try $0.mul(.double(3)) }
    let copies = try grads.map { try $0.clone() }
    let params = try copies.map { g -> Tensor in
      let p = try g.zerosLike().requiresGrad_()
      p.grad = try g.clone()
      return p
    }
    let total = try getTotalNorm(grads).item(Double.self)
    let clipped = try clipGradNorm(params, maxNorm: 1).item(Double.self)
    XCTAssertEqual(total, clipped, accuracy: 1e-6 * clipped)
    let direct = try Tensor.cat(grads.map { try $0.flatten() }).norm(2).item(Double.self)
    XCTAssertEqual(total, direct, accuracy: 1e-5 * direct)
    for (g, c) in zip(grads, copies) { XCTAssertTrue(try g.equal(c), "getTotalNorm changed a tensor") }
    XCTAssertEqual(try getTotalNorm([]).item(Double.self), 0)
  }
}
