import XCTest

@testable import Torch

/// CUDAGraphStep: the eager fallback (inputs not on a GPU, or of another shape than captured) and, on a GPU,
/// replays that give the eager step's results.
final class CUDAGraphStepTests: XCTestCase {
  /// A least-squares step by hand (SGD, lr 0.1) on `w`; returns the loss.
  func makeStep(_ w: Tensor) -> ([Tensor]) throws -> [Tensor] {
    { batch in
      w.grad = nil
      let loss = try batch[0].matmul(w).sub(batch[1]).pow(2).mean()
      try loss.backward()
      try withNoGrad { _ = try w.sub_(w.grad!, alpha: 0.1) }
      return [loss]
    }
  }

  func testCPUInputsRunEagerlyWithTheReason() throws {
    let w = try Tensor.zeros([4, 1]).requiresGrad_()
    let x = try Tensor.randn([8, 4]), y = try Tensor.randn([8, 1])
    let step = try CUDAGraphStep(example: [x, y], makeStep(w))
    XCTAssertEqual(step.mode, .eager(reason: "inputs are not all on a CUDA device"))
    XCTAssertTrue(try w.equal(try Tensor.zeros([4, 1])), "no warm-up steps without a graph")
    // The same steps by hand, on a copy.
    let v = try Tensor.zeros([4, 1]).requiresGrad_()
    let reference = makeStep(v)
    for _ in 0..<3 {
      let loss = try step([x, y])[0]
      let expected = try reference([x, y])[0]
      XCTAssertEqual(try loss.item(Double.self), try expected.item(Double.self))
    }
    XCTAssertTrue(try w.equal(v))
    XCTAssertEqual(step.eagerCalls, 3)
    XCTAssertEqual(step.replays, 0)
    XCTAssertEqual(try CUDAGraphStep(example: []) { _ in [] }.mode, .eager(reason: "no input tensors to capture"))
  }

  func testReplaysMatchEagerStepsOnAGPU() throws {
    try XCTSkipUnless(
      CUDA.isAvailable && CUDA.hasCUDAExtensions, "needs a CUDA device and the C layer's CUDA extensions")
    let dev = Device.cuda(0)
    Torch.manualSeed(3)
    let batches = try (0..<4).map { _ in
      [try Tensor.randn([16, 4], device: dev), try Tensor.randn([16, 1], device: dev)]
    }
    let w = try Tensor.zeros([4, 1], device: dev).requiresGrad_()
    let v = try Tensor.zeros([4, 1], device: dev).requiresGrad_()
    let reference = makeStep(v)
    let step = try CUDAGraphStep(example: batches[0], warmup: 2, makeStep(w))
    XCTAssertEqual(step.mode, .graph)
    for _ in 0..<2 { _ = try reference(batches[0]) }  // the warm-up steps
    for b in batches {
      let loss = try step(b)[0].item(Double.self)
      XCTAssertEqual(loss, try reference(b)[0].item(Double.self), accuracy: 1e-6)
    }
    XCTAssertEqual(step.replays, 4)
    XCTAssertLessThanOrEqual(try (w - v).abs().max().item(Double.self), 1e-6)
    _ = try step([try Tensor.randn([5, 4], device: dev), try Tensor.randn([5, 1], device: dev)])
    XCTAssertEqual(step.eagerCalls, 1, "another batch size runs eagerly")
  }
}
