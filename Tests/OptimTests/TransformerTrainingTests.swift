import XCTest

import NN
import Optim
import Torch

/// Ten training steps of the small TransformerEncoder, as PyTorch ran them in make_nn_fixtures.py: AdamW
/// with decay / no-decay parameter groups, a linear warmup schedule and clip_grad_norm_(1.0).
final class TransformerTrainingTests: XCTestCase {
  private var savedThreads = 0
  /// One intra-op thread, as the fixture script used, so reductions run in the same order; restored after.
  override func setUp() { savedThreads = Torch.numThreads; Torch.numThreads = 1 }
  override func tearDown() { Torch.numThreads = savedThreads }

  func testTenAdamWStepsMatchPyTorchLosses() throws {
    let fx = FixtureFile.nn
    let layer = try TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64, dropout: 0)
    let model = try TransformerEncoder(encoderLayer: layer, numLayers: 2, norm: LayerNorm(32))
    try model.load(stateDict: try fx.dict("train.sd."), strict: true)
    let x = try fx.get("train.input")
    let target = try fx.get("train.target")
    let (decay, noDecay) = splitByDimension(model)
    let opt = try AdamW([
      ParamGroup(params: decay, options: AdamOptions(lr: 3e-3, weightDecay: 0.1)),
      ParamGroup(params: noDecay, options: AdamOptions(lr: 3e-3, weightDecay: 0))
    ])
    let sched = try getLinearScheduleWithWarmup(optimizer: opt, numWarmupSteps: 3, numTrainingSteps: 10)
    var losses: [Double] = []
    var norms: [Double] = []
    for _ in 0..<10 {
      try opt.zeroGrad()
      let loss = try F.mseLoss(try model(x), target)
      try loss.backward()
      norms.append(try clipGradNorm(model.parameters(), maxNorm: 1).item(Double.self))
      try opt.step()
      try sched.step()
      losses.append(try loss.item(Double.self))
    }
    let expected = try fx.get("train.losses").toArray(Double.self)
    for (i, (a, e)) in zip(losses, expected).enumerated() {
      print(String(format: "  step %d: loss %.8f (PyTorch %.8f, rel %.2e)", i, a, e, abs(a - e) / abs(e)))
      XCTAssertLessThanOrEqual(abs(a - e) / abs(e), 1e-4, "step \(i) loss")
    }
    try assertRelative(try Tensor(norms), try fx.get("train.norms"), 1e-4, "grad norms")
    // Final weights too. The key slice of in_proj_bias is left out: softmax is invariant to it, so its
    // gradient is zero up to float rounding noise, which Adam's normalisation turns into ±lr steps.
    for (key, t) in try model.orderedStateDict() {
      let expected = try fx.get("train.final.\(key)")
      if key.hasSuffix("in_proj_bias") {
        for (start, part) in [(0, "query"), (64, "value")] {
          try assertRelative(
            try t.narrow(dim: 0, start: start, length: 32), try expected.narrow(dim: 0, start: start, length: 32),
            1e-4, "final \(key) (\(part) part)")
        }
      } else {
        try assertRelative(t, expected, 1e-4, "final \(key)")
      }
    }
  }
}
