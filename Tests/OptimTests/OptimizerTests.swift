import Foundation
import XCTest

import NN
import Optim
import Torch

/// SGD / Adam / AdamW trajectories (fused kernels and the single-tensor path) against PyTorch's default
/// implementation, state save / load, parameter groups, schedules and clipGradNorm.
final class OptimizerTests: XCTestCase {
  private var savedThreads = 0
  /// One intra-op thread, as the fixture script used, so reductions run in the same order; restored after.
  override func setUp() { savedThreads = Torch.numThreads; Torch.numThreads = 1 }
  override func tearDown() { Torch.numThreads = savedThreads }

  static func fx(_ k: String) throws -> Tensor { try FixtureFile.optim.get(k) }

  static let configs: [String: ([Tensor], Bool) throws -> Optimizer] = [
    "sgd_plain": { try SGD($0, lr: 0.1, fused: $1) },
    "sgd_momentum": { try SGD($0, lr: 0.05, momentum: 0.9, fused: $1) },
    "sgd_dampening": { try SGD($0, lr: 0.05, momentum: 0.9, dampening: 0.5, fused: $1) },
    "sgd_nesterov": { try SGD($0, lr: 0.05, momentum: 0.9, nesterov: true, fused: $1) },
    "sgd_weight_decay": { try SGD($0, lr: 0.05, momentum: 0.5, weightDecay: 0.1, fused: $1) },
    "sgd_maximize": { try SGD($0, lr: 0.01, momentum: 0.9, maximize: true, fused: $1) },
    "adam": { try Adam($0, lr: 0.01, fused: $1) },
    "adam_weight_decay": { try Adam($0, lr: 0.01, weightDecay: 0.1, fused: $1) },
    "adam_amsgrad": { try Adam($0, lr: 0.01, betas: (0.8, 0.99), amsgrad: true, fused: $1) },
    "adamw": { try AdamW($0, lr: 0.01, fused: $1) },
    "adamw_amsgrad": { try AdamW($0, lr: 0.02, eps: 1e-6, weightDecay: 0.1, amsgrad: true, fused: $1) }
  ]

  /// The fixture's least-squares loss.
  static func loss(_ w: Tensor, _ b: Tensor) throws -> Tensor {
    try try fx("x").matmul(w).add(b).sub(try fx("y")).pow(2).mean()
  }

  func testTrajectoriesMatchPyTorch() throws {
    for (name, make) in Self.configs.sorted(by: { $0.key < $1.key }) {
      for fused in [true, false] {
        let w = try Self.fx("w0").clone().requiresGrad_()
        let b = try Self.fx("b0").clone().requiresGrad_()
        let opt = try make([w, b], fused)
        var losses: [Double] = []
        for _ in 0..<6 {
          try opt.zeroGrad()
          let loss = try Self.loss(w, b)
          try loss.backward()
          try opt.step()
          losses.append(try loss.item(Double.self))
        }
        let tag = "\(name) \(fused ? "fused" : "single-tensor")"
        try assertRelative(try Tensor(losses), try Self.fx("\(name).losses"), 1e-5, "\(tag) losses")
        try assertRelative(w, try Self.fx("\(name).w"), 1e-5, "\(tag) weight")
        try assertRelative(b, try Self.fx("\(name).b"), 1e-5, "\(tag) bias")
      }
    }
  }

  /// `scaler.step(optimizer)` with a fused AdamW passes the scale and the overflow flag into the kernel (no
  /// host read): parameters, moments, step counts (skipped steps not counted), clip norms after `unscale`
  /// and the scale sequence equal torch.amp.GradScaler("cpu") + AdamW(fused=True) through forced inf/NaN steps.
  func testGradScalerWithFusedAdamWMatchesPyTorch() throws {
    let w = try Self.fx("scaled.w0").clone().requiresGrad_()
    let b = try Self.fx("scaled.b0").clone().requiresGrad_()
    let dirs = try Self.fx("scaled.dirs")
    let opt = try AdamW([w, b], lr: 0.01, weightDecay: 0.1, fused: true)
    XCTAssertTrue(opt.takesDeviceGradScale)
    let scaler = GradScaler(initScale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2)
    let bad: [Int: (Tensor, Double)] = [2: (w, .infinity), 3: (b, .nan), 8: (w, .infinity)]
    let clipAt: Set<Int> = [1, 3, 5, 8, 9]
    var scales: [Double] = [], norms: [Double] = [], skipped: [Int] = []
    for k in 0..<dirs.shape[0] {
      try opt.zeroGrad()
      var loss = try Self.fx("x").matmul(w).add(b).sub(try Self.fx("y")).mul(dirs[k]).pow(2).mean()
      if let (p, value) = bad[k] { loss = try loss.add(try p.sum().mul(.double(value))) }
      try scaler.scale(loss).backward()
      if clipAt.contains(k) {
        try scaler.unscale([w, b])
        norms.append(try clipGradNorm([w, b], maxNorm: 0.5).item(Double.self))
      }
      try scaler.step(opt)
      if scaler.lastStepSkipped { skipped.append(k) }
      try scaler.update()
      scales.append(scaler.scale)
    }
    XCTAssertEqual(scales, try Self.fx("scaled.scales").toArray(Double.self), "scale after each update")
    XCTAssertEqual(skipped, [2, 3, 8], "steps with inf/NaN gradients are skipped")
    let expectedNorms = try Self.fx("scaled.norms").toArray(Double.self)
    XCTAssertEqual(norms.count, expectedNorms.count)
    for (n, e) in zip(norms, expectedNorms) {
      if e.isFinite { XCTAssertEqual(n, e, accuracy: 1e-5 * e, "clip norm") } else { XCTAssertEqual(n.isNaN, e.isNaN) }
    }
    for (name, p) in [("w", w), ("b", b)] {
      try assertRelative(p, try Self.fx("scaled.\(name)"), 1e-5, "\(name) after 12 scaled steps")
      let st = try XCTUnwrap(opt.state[ObjectIdentifier(p)])
      XCTAssertEqual(
        try st["step"]!.item(Double.self), try Self.fx("scaled.\(name).step").item(Double.self), "\(name) step count")
      try assertRelative(st["exp_avg"]!, try Self.fx("scaled.\(name).exp_avg"), 1e-5, "\(name) exp_avg")
      try assertRelative(st["exp_avg_sq"]!, try Self.fx("scaled.\(name).exp_avg_sq"), 1e-5, "\(name) exp_avg_sq")
    }
    XCTAssertThrowsError(try scaler.update(), "update() without a step is an error, as in PyTorch")
  }

  /// One GradScaler shared by two optimizers (fused AdamW: scale on the device; SGD: the host path), as in
  /// PyTorch: each skips only its own overflowing step, any overflow backs the scale off.
  func testOneGradScalerForTwoOptimizersMatchesPyTorch() throws {
    let w = try Self.fx("scaled.w0").clone().requiresGrad_()
    let b = try Self.fx("scaled.b0").clone().requiresGrad_()
    let dirs = try Self.fx("scaled.dirs")
    let optW = try AdamW([w], lr: 0.01, fused: true)
    let optB = try SGD([b], lr: 0.05, momentum: 0.9)
    let scaler = GradScaler(initScale: 256, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2)
    let bad: [Int: Tensor] = [1: b, 4: w, 5: b, 6: w]
    var scales: [Double] = []
    for k in 0..<10 {
      try optW.zeroGrad()
      try optB.zeroGrad()
      var loss = try Self.fx("x").matmul(w).add(b).sub(try Self.fx("y")).mul(dirs[k]).pow(2).mean()
      if let p = bad[k] { loss = try loss.add(try p.sum().mul(.double(.infinity))) }
      try scaler.scale(loss).backward()
      if k % 3 == 0 { try scaler.unscale(optB) }
      try scaler.step(optW)
      try scaler.step(optB)
      try scaler.update()
      scales.append(scaler.scale)
    }
    XCTAssertEqual(scales, try Self.fx("two.scales").toArray(Double.self), "scale after each update")
    try assertRelative(w, try Self.fx("two.w"), 1e-5, "w (AdamW, skipped at its own overflows only)")
    try assertRelative(b, try Self.fx("two.b"), 1e-5, "b (SGD, skipped at its own overflows only)")
    XCTAssertEqual(
      try optW.state[ObjectIdentifier(w)]!["step"]!.item(Double.self), try Self.fx("two.w.step").item(Double.self))
  }

  func testStateDictRoundTripThroughTorchSave() throws {
    for fused in [true, false] {
      for make in [
        { try AdamW($0, lr: 0.01, amsgrad: true, fused: fused) as Optimizer },
        { try SGD($0, lr: 0.05, momentum: 0.9, fused: fused) as Optimizer }
      ] {
        let w = try Self.fx("w0").clone().requiresGrad_()
        let b = try Self.fx("b0").clone().requiresGrad_()
        let opt = try make([w, b])
        func run(_ o: Optimizer, _ w: Tensor, _ b: Tensor, _ n: Int) throws {
          for _ in 0..<n {
            try o.zeroGrad()
            try Self.loss(w, b).backward()
            try o.step()
          }
        }
        try run(opt, w, b, 3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("torchswift-opt-\(getpid()).pt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Torch.save(try opt.stateDict(), to: path)
        let w2 = try w.detach().clone().requiresGrad_()
        let b2 = try b.detach().clone().requiresGrad_()
        let resumed = try make([w2, b2])
        try resumed.load(stateDict: try Torch.load(path))
        try run(opt, w, b, 3)
        try run(resumed, w2, b2, 3)
        XCTAssertTrue(try w.equal(w2), "resumed optimizer continues the same trajectory (fused \(fused))")
        XCTAssertTrue(try b.equal(b2))
      }
    }
    let adam = try AdamW([try Tensor.zeros([2]).requiresGrad_()])
    XCTAssertThrowsError(
      try adam.load(
        stateDict: try AdamW([try Tensor.zeros([2]).requiresGrad_(), try Tensor.zeros([1]).requiresGrad_()]).stateDict()
      )
    ) {
      print("  error:", $0)
    }
  }

  func testParamGroupsAndValidation() throws {
    let lin = try Linear(inFeatures: 3, outFeatures: 2)
    let ln = try LayerNorm(2)
    let model = try Sequential(lin, ln)
    let (decay, noDecay) = splitByDimension(model)
    XCTAssertEqual(decay.count, 1)
    XCTAssertEqual(noDecay.count, 3)
    let opt = try AdamW([
      ParamGroup(params: decay, options: AdamOptions(lr: 0.1, weightDecay: 0.5)),
      ParamGroup(params: noDecay, options: AdamOptions(lr: 0.01, weightDecay: 0))
    ])
    XCTAssertEqual(opt.learningRates, [0.1, 0.01])
    // Zero gradients: only decoupled weight decay moves the decayed group.
    for p in model.parameters() { p.grad = try p.zerosLike() }
    let w = try lin.weight.clone()
    let bias = try lin.bias!.clone()
    try opt.step()
    try assertRelative(lin.weight, try w.mul(.double(1 - 0.1 * 0.5)), 1e-7, "decayed weight")
    XCTAssertTrue(try lin.bias!.equal(bias), "no decay, no gradient: bias unchanged")
    XCTAssertThrowsError(try AdamW([lin.weight], lr: -1)) {
      XCTAssertTrue("\($0)".contains("Invalid learning rate"), "\($0)")
    }
    XCTAssertThrowsError(try Adam([lin.weight], betas: (1.0, 0.9))) { XCTAssertTrue("\($0)".contains("beta"), "\($0)") }
    XCTAssertThrowsError(try SGD([lin.weight], nesterov: true)) { print("  error:", $0) }
    XCTAssertThrowsError(
      try SGD([
        ParamGroup(params: [lin.weight], options: SGDOptions()), ParamGroup(params: [lin.weight], options: SGDOptions())
      ]))
    XCTAssertThrowsError(try SGD([]))
    try opt.zeroGrad()
    XCTAssertNil(lin.weight.grad)
  }

  func testSchedulesMatchTransformersFormulas() throws {
    let cases: [String: (Optimizer) throws -> LambdaLR] = [
      "linear": { try getLinearScheduleWithWarmup(optimizer: $0, numWarmupSteps: 3, numTrainingSteps: 10) },
      "cosine": { try getCosineScheduleWithWarmup(optimizer: $0, numWarmupSteps: 2, numTrainingSteps: 12) },
      "cosine_cycles": {
        try getCosineScheduleWithWarmup(optimizer: $0, numWarmupSteps: 2, numTrainingSteps: 12, numCycles: 1.5)
      },
      "constant": { try getConstantScheduleWithWarmup(optimizer: $0, numWarmupSteps: 4) }
    ]
    for (name, make) in cases.sorted(by: { $0.key < $1.key }) {
      let opt = try SGD([try Tensor.zeros([1]).requiresGrad_()], lr: 0.1)
      let sched = try make(opt)
      var lrs = [sched.lastLR[0]]
      XCTAssertEqual(opt.learningRates, sched.lastLR)
      for _ in 0..<14 {
        try opt.step()
        try sched.step()
        lrs.append(sched.lastLR[0])
      }
      try assertRelative(try Tensor(lrs), try Self.fx("sched.\(name)"), 1e-12, "schedule \(name)")
      // State: a fresh scheduler resumes at the saved position.
      let resumed = try make(try SGD([try Tensor.zeros([1]).requiresGrad_()], lr: 0.1))
      try resumed.load(stateDict: try sched.stateDict())
      XCTAssertEqual(resumed.lastEpoch, 14)
      try sched.step()
      try resumed.step()
      XCTAssertEqual(resumed.lastLR, sched.lastLR)
    }
  }

  func testClipGradNormMatchesTorch() throws {
    let norms: [String: (Double, Double)] = ["l2": (1, 2), "inf": (0.5, .infinity), "l1": (2, 1), "none": (1e3, 2)]
    for (name, (maxNorm, normType)) in norms.sorted(by: { $0.key < $1.key }) {
      let params = try (0..<3).map { i -> Tensor in
        let g = try Self.fx("clip.grad\(i)")
        let p = try g.zerosLike().requiresGrad_()
        p.grad = try g.clone()
        return p
      }
      let total = try clipGradNorm(params, maxNorm: maxNorm, normType: normType)
      try assertRelative(total, try Self.fx("clip.\(name).total"), 1e-6, "clip \(name) total norm")
      for (i, p) in params.enumerated() {
        try assertRelative(p.grad!, try Self.fx("clip.\(name).grad\(i)"), 1e-6, "clip \(name) grad\(i)")
      }
    }
    XCTAssertEqual(try clipGradNorm([try Tensor.zeros([2]).requiresGrad_()], maxNorm: 1).item(Double.self), 0)
    let bad = try Tensor.zeros([2]).requiresGrad_()
    bad.grad = try Tensor([Float.nan, 1])
    XCTAssertThrowsError(try clipGradNorm([bad], maxNorm: 1, errorIfNonfinite: true))
  }
}
