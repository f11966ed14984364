import Foundation
import XCTest

@testable import Torch

/// The fused kernels (LayerNorm(residual + dropout(x)), dropout(activation(x))): every variant compiles with
/// NVRTC (no GPU needed), the eager path the CPU takes matches PyTorch's ops with the same seeds, bad input is refused
/// with a message, and on a GPU the kernels match the eager ops with their own masks.
final class FusedKernelTests: XCTestCase {
  func testEveryKernelVariantCompilesWithNVRTC() throws {
    for arch in [90] {  // H100; the source has no architecture-specific code
      let log: String?
      do {
        log = try FusedKernels.compileCheck(arch: arch)
      } catch {
        try XCTSkipIf("\(error)".contains("libnvrtc was not found"), "NVRTC is not installed beside torch: \(error)")
        throw error
      }
      XCTAssertNil(log, "sm_\(arch): \(log ?? "")")
    }
  }

  /// The path the CPU takes, against PyTorch itself: the same inputs and seeds in Python, where
  /// `layer_norm(r + dropout(x))` and `dropout(gelu(x))` draw their masks from the same generator stream.
  func testCPUPathMatchesPyTorch() throws {
    let x = try Tensor.randn([3, 5, 16]), r = try Tensor.randn([3, 5, 16])
    let w = try Tensor.randn([16]), b = try Tensor.randn([16])
    Torch.manualSeed(3)
    let fused = try F.dropoutAddLayerNorm(x, residual: r, weight: w, bias: b, eps: 1e-6, p: 0.25, training: true)
    let eval = try F.dropoutAddLayerNorm(x, residual: r, weight: nil, bias: nil, p: 0.25, training: false)
    Torch.manualSeed(4)
    let act = try F.activationDropout(x, activation: .gelu, p: 0.5, training: true)
    let relu = try F.activationDropout(x, activation: .relu, p: 0.5, training: false)

    let dir = NSTemporaryDirectory() + "torchswift-fused-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Torch.save(["x": x, "r": r, "w": w, "b": b], to: dir + "/in.pt")
    _ = try pythonOutput(
      """
      import torch, torch.nn.functional as F
      d = torch.load('\(dir)/in.pt', weights_only=False)
      x, r, w, b = d['x'], d['r'], d['w'], d['b']
      torch.manual_seed(3)
      fused = F.layer_norm(r + F.dropout(x, 0.25, True), [16], w, b, 1e-6)
      ev = F.layer_norm(r + x, [16])
      torch.manual_seed(4)
      act = F.dropout(F.gelu(x), 0.5, True)
      torch.save({'fused': fused, 'eval': ev, 'act': act, 'relu': F.relu(x)}, '\(dir)/out.pt')
      """)
    let ref = try Torch.load(dir + "/out.pt")
    for (name, ours) in [("fused", fused), ("eval", eval), ("act", act), ("relu", relu)] {
      let theirs = try XCTUnwrap(ref[name], name)
      XCTAssertEqual(ours.shape, theirs.shape, name)
      let d = try difference(ours, theirs)
      XCTAssertLessThanOrEqual(d.maxAbs, 1e-5, "\(name): \(d)")
    }
    // The masks are real: some elements dropped, the rest scaled by 1/(1-p).
    let dropped = try act.eq(.double(0)).sum().item(Int.self)
    XCTAssertGreaterThan(dropped, 0)
    XCTAssertLessThan(dropped, act.numel)

    XCTAssertThrowsError(try F.dropoutAddLayerNorm(x, residual: r, weight: nil, bias: nil, p: 1.5, training: true)) {
      XCTAssertTrue("\($0)".contains("between 0 and 1"), "\($0)")
    }
  }

  func testLinearTakesAKernelsLowPrecisionCopyOnlyWhileItIsAutocastsCast() throws {
    let t = try Tensor.randn([4, 8]), w = try Tensor.randn([3, 8])
    // A copy that differs from the cast, so that the test sees which one F.linear used.
    let marked = try t.to(dtype: .bfloat16).add(.double(100))
    t.autocastCopy = (marked, t.version)
    XCTAssertTrue(t.autocastInput() === t, "outside autocast the tensor itself")
    try withAutocast(.bfloat16, device: .cpu) {
      XCTAssertTrue(t.autocastInput() === marked, "under bfloat16 autocast the kernel's copy")
      let y = try F.linear(t, weight: w)
      XCTAssertTrue(try y.equal(try ATen.linear(marked, weight: w.to(dtype: .bfloat16), bias: nil)))
    }
    try withAutocast(.float16, device: .cpu) {
      XCTAssertTrue(t.autocastInput() === t, "a copy in another dtype is not autocast's cast")
    }
    let v0 = t.version
    _ = try t.add_(.double(1))
    XCTAssertGreaterThan(t.version, v0, "in-place ops bump the version")
    try withAutocast(.bfloat16, device: .cpu) {
      XCTAssertTrue(t.autocastInput() === t, "a changed tensor no longer matches its copy")
    }
  }

  func testAKernelThatCannotBeBuiltFallsBackToEagerOpsOtherErrorsAreThrown() throws {
    defer { FusedKernels.buildFailure = nil }
    let failure =
      FusedKernels.buildFailurePrefix
      + "NVRTC could not compile TorchSwift's fused kernels for sm_120: NVRTC_ERROR_INVALID_OPTION"
    let result: Int? = try FusedKernels.attempt { throw TorchError(failure) }
    XCTAssertNil(result, "a build failure means: run the eager ops")
    XCTAssertEqual(FusedKernels.buildFailure, failure)
    XCTAssertFalse(FusedKernels.isAvailable)
    XCTAssertThrowsError(
      try FusedKernels.attempt { () throws -> Int in throw TorchError("launching dropout_add_ln_fwd failed") })
    XCTAssertEqual(try FusedKernels.attempt { 7 }, 7)
    // The messages it recognises are the ones the C layer raises.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let jit = try String(contentsOf: root.appendingPathComponent("csrc/core/jit.h"), encoding: .utf8)
    XCTAssertTrue(
      jit.contains("kBuildFailure = \"\(FusedKernels.buildFailurePrefix)\""),
      "csrc/core/jit.h's kBuildFailure is not \"\(FusedKernels.buildFailurePrefix)\"")
  }

  func testMaskUnpacking() throws {
    // Row 0: columns 0 and 33 kept; row 1: column 31 (the sign bit of word 0) and 34.
    let words = try Tensor([Int32(1), 2, Int32(bitPattern: 0x8000_0000), 4])
    let mask = try FusedKernels.unpackMask(words, rows: 2, columns: 35)
    XCTAssertEqual(mask.shape, [2, 35])
    let kept = try mask.nonzero().to(dtype: .int64)
    XCTAssertEqual(try kept.flatten().toArray(Int64.self), [0, 0, 0, 33, 1, 31, 1, 34])
    XCTAssertThrowsError(try FusedKernels.unpackMask(words, rows: 3, columns: 35))
  }

  func testWithoutCUDATheFusedEntryPointsRefuse() throws {
    try XCTSkipIf(CUDA.isAvailable, "this machine has CUDA")
    XCTAssertFalse(FusedKernels.status.available)
    XCTAssertEqual(FusedKernels.summary, "off: \(FusedKernels.status.detail)")
    FusedKernels.isEnabled = false
    XCTAssertTrue(FusedKernels.summary.hasPrefix("off: disabled"), FusedKernels.summary)
    FusedKernels.isEnabled = true
    XCTAssertThrowsError(
      try FusedKernels.dropoutAddLayerNorm(
        try Tensor.randn([2, 4]), residual: try Tensor.randn([2, 4]),
        weight: nil, bias: nil, eps: 1e-5, p: 0.1, training: true)
    ) {
      XCTAssertTrue("\($0)".contains("CUDA"), "\($0)")
    }
  }

  func testOnGPUTheKernelsMatchEagerWithTheirMasks() throws {
    try XCTSkipUnless(CUDA.isAvailable && FusedKernels.status.available, "needs a CUDA device and NVRTC")
    let dev = Device.cuda(0)
    let x = try Tensor.randn([64, 768], device: dev).requiresGrad_(), r = try Tensor.randn([64, 768], device: dev)
    let (y, words, _) = try FusedKernels.dropoutAddLayerNorm(
      x, residual: r, weight: nil, bias: nil, eps: 1e-5, p: 0.1,
      training: true)
    let keep = try FusedKernels.unpackMask(words, rows: 64, columns: 768)
    let x2 = try x.detach().requiresGrad_()
    let reference = try F.layerNorm(
      FusedKernels.eagerResidualSum(x2, residual: r, p: 0.1, keep: keep), normalizedShape: [768])
    try assertClose(y, reference, rtol: 1e-5, atol: 1e-5)
    try y.sum().backward()
    try reference.sum().backward()
    try assertClose(x.grad!, x2.grad!, rtol: 1e-4, atol: 1e-5)
  }
}
