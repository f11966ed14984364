import XCTest

@testable import Torch

/// Autocast on the CPU (bfloat16) and GradScaler's dynamic scaling against PyTorch (Fixtures/make_amp_fixtures.py).
final class AMPTests: XCTestCase {
  lazy var ref: [String: Tensor] = (try? Torch.load(fixturesDir + "/amp.pt")) ?? [:]

  func testCPUAutocastBFloat16MatchesPyTorch() throws {
    let a = ref["a"]!, b = ref["b"]!, w = ref["w"]!, bias = ref["bias"]!
    let (mm, lin, sm) = try withAutocast(.bfloat16, device: .cpu) {
      let mm = try a.matmul(b)
      return (mm, try F.linear(a, weight: w, bias: bias), try mm.softmax(dim: -1))
    }
    XCTAssertEqual(mm.dtype, .bfloat16)
    XCTAssertEqual(lin.dtype, .bfloat16)
    XCTAssertEqual(sm.dtype, ref["autocast.softmax"]!.dtype, "softmax follows PyTorch's CPU autocast policy")
    try assertClose(mm, ref["autocast.mm"]!, rtol: 0, atol: 0, "autocast matmul")
    try assertClose(lin, ref["autocast.linear"]!, rtol: 0, atol: 0, "autocast linear")
    try assertClose(sm, ref["autocast.softmax"]!, rtol: 1e-6, atol: 1e-7, "autocast softmax")
    XCTAssertEqual(try a.matmul(b).dtype, .float32, "autocast is off again after the region")
  }

  func testGradScalerSkipsOverflowsAndMatchesPyTorchScales() throws {
    let p = try ref["scaler.p0"]!.clone().requiresGrad_()
    let dirs = ref["scaler.dirs"]!
    let expected = try ref["scaler.scales"]!.toArray(Double.self)
    let scaler = GradScaler(initScale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 3)
    var scales: [Double] = []
    var skipped = 0
    for k in 0..<expected.count {
      p.grad = nil
      try scaler.scale(try p.mul(dirs[k]).sum()).backward()
      let stepped = try scaler.step([p]) {
        try withNoGrad { _ = try p.sub_(p.grad!, alpha: 0.1) }
      }
      if !stepped { skipped += 1 }
      try scaler.update()
      scales.append(scaler.scale)
    }
    XCTAssertEqual(scales, expected, "scale after each update")
    XCTAssertEqual(skipped, 4, "steps with inf/NaN gradients are skipped")
    try assertClose(p.detach(), ref["scaler.p_final"]!, rtol: 1e-6, atol: 1e-7, "parameters after 14 steps")
  }

  func testGradScalerStateRoundTrip() throws {
    let s = GradScaler(initScale: 256, growthInterval: 5)
    _ = try s.scale(Tensor.ones([1]))
    let state = try s.stateDict()
    XCTAssertEqual(state["scale"], 256)
    let t = GradScaler()
    try t.load(stateDict: state)
    XCTAssertEqual(t.scale, 256)
  }

  func testBackendSwitchesAndCUDAGraphCodeIsPresent() throws {
    let old = Backends.allowTF32Matmul
    Backends.allowTF32Matmul = true
    XCTAssertTrue(Backends.allowTF32Matmul)
    Backends.allowTF32Matmul = old
    Backends.cudnnBenchmark = true
    XCTAssertTrue(Backends.cudnnBenchmark)
    Backends.cudnnBenchmark = false
    try Backends.useDeterministicAlgorithms(true)
    XCTAssertTrue(Backends.deterministicAlgorithms)
    try Backends.useDeterministicAlgorithms(false)
    XCTAssertTrue(CUDA.hasCUDAExtensions, "the C layer was compiled with CUDA headers (graphs, streams, memory stats)")
    if !CUDA.isAvailable {
      print(
        "GPU tests skipped: no CUDA device on this machine (CUDAGraph, memory stats are exercised by scripts/gpu-check)"
      )
      XCTAssertThrowsError(try CUDAGraph())
      XCTAssertThrowsError(try CUDA.memoryStats())
    }
  }
}
