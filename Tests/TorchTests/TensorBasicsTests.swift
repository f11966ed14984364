import XCTest

@testable import Torch

/// Creation, conversion, metadata, indexing assignment and autograd behaviour.
final class TensorBasicsTests: XCTestCase {
  func testFactoriesShapesAndDTypes() throws {
    XCTAssertEqual(try Tensor.zeros([2, 3]).shape, [2, 3])
    XCTAssertEqual(try Tensor.ones([4], dtype: .float64).dtype, .float64)
    XCTAssertEqual(try Tensor.full([2], 7).toArray(Int.self), [7, 7])
    XCTAssertEqual(try Tensor.full([2], 7).dtype, .int64)
    XCTAssertEqual(try Tensor.full([2], 0.5).dtype, .float32)
    XCTAssertEqual(try Tensor.arange(4).toArray(Int.self), [0, 1, 2, 3])
    XCTAssertEqual(try Tensor.arange(1, 2, step: 0.25).floats(), [1, 1.25, 1.5, 1.75])
    XCTAssertEqual(try Tensor.linspace(0, 1, steps: 5).floats(), [0, 0.25, 0.5, 0.75, 1])
    XCTAssertEqual(try Tensor.eye(3).sum().item(Float.self), 3)
    XCTAssertEqual(try Tensor.eye(2, 3).shape, [2, 3])
    let r = try Tensor.rand([1000])
    XCTAssertTrue(try (r .>= 0.0).all().item(Bool.self) && (r .< 1.0).all().item(Bool.self))
    let ri = try Tensor.randint(3, 7, [500])
    XCTAssertEqual(try ri.min().item(Int.self) >= 3 && ri.max().item(Int.self) < 7, true)
    XCTAssertEqual(try Tensor.randn([2, 2]).zerosLike().sum().item(Float.self), 0)
    XCTAssertEqual(try Tensor(scalar: 2.5).dim, 0)
    XCTAssertEqual(try Tensor([1, 2, 3] as [Float], dtype: .bfloat16).dtype, .bfloat16)
  }

  func testSeedMakesRandomNumbersReproducible() throws {
    Torch.manualSeed(42)
    let a = try Tensor.randn([5]).floats()
    Torch.manualSeed(42)
    let b = try Tensor.randn([5]).floats()
    XCTAssertEqual(a, b)
    let state = try Torch.rngState()
    let c = try Tensor.rand([3]).floats()
    try Torch.setRNGState(state)
    XCTAssertEqual(try Tensor.rand([3]).floats(), c)
  }

  func testConversionsAndScalars() throws {
    let t = try Tensor([1.7, -2.2] as [Double])
    XCTAssertEqual(try t.toArray(Int.self), [1, -2])
    XCTAssertEqual(try t.to(dtype: .float32).dtype, .float32)
    XCTAssertTrue(try t.to(dtype: .float64) === t, "no-op conversion returns self")
    XCTAssertEqual(try t.sum().item(), .double(1.7 + -2.2))
    let h = try Tensor([1, 2] as [Float16])
    XCTAssertEqual(h.dtype, .float16)
    XCTAssertEqual(try h.floats(), [1, 2])
    XCTAssertThrowsError(try Tensor([1, 2, 3] as [Float], shape: [2, 2]))
  }

  func testViewsShareStorageAndIndexAssignment() throws {
    let a = try Tensor.zeros([3, 4])
    let row = a[1]
    try row.fill_(5)
    XCTAssertEqual(try a.sum().item(Float.self), 20)
    a[0, 1..<3] = try Tensor([7, 8] as [Float])
    XCTAssertEqual(try a[0].floats(), [0, 7, 8, 0])
    let mask = a .> 6.0
    try a.indexPut([.tensor(mask)], .double(-1))
    XCTAssertEqual(try a[0].floats(), [0, -1, -1, 0])
    a[TensorIndex.all, 3] = try Tensor([1, 1, 1] as [Float])
    XCTAssertEqual(try a[TensorIndex.all, 3].floats(), [1, 1, 1])
    XCTAssertEqual(try a.t().isContiguous, false)
    XCTAssertEqual(try a.t().contiguous().isContiguous, true)
    XCTAssertEqual(a.strides, [4, 1])
  }

  func testBackwardWithGradientRetainAndCreateGraph() throws {
    let x = try Tensor([1, 2, 3] as [Double]).requiresGrad_()
    let y = x * x * x  // dy/dx = 3x², d²y/dx² = 6x
    try y.backward(try Tensor.ones([3], dtype: .float64), retainGraph: true)
    XCTAssertEqual(try x.grad!.toArray(Double.self), [3, 12, 27])
    try y.backward(try Tensor.ones([3], dtype: .float64))
    XCTAssertEqual(try x.grad!.toArray(Double.self), [6, 24, 54], "gradients accumulate")
    x.grad = nil
    XCTAssertNil(x.grad)
    XCTAssertThrowsError(try y.backward(try Tensor.ones([3], dtype: .float64)), "graph freed without retainGraph")
  }

  func testDoubleBackwardThroughAutogradGrad() throws {
    let x = try Tensor([1, 2, 3] as [Double]).requiresGrad_()
    let y = try (x * x * x).sum()
    let dx = try Autograd.grad(outputs: [y], inputs: [x], createGraph: true)[0]!
    XCTAssertEqual(try dx.toArray(Double.self), [3, 12, 27])
    let d2 = try Autograd.grad(outputs: [try dx.sum()], inputs: [x])[0]!
    XCTAssertEqual(try d2.toArray(Double.self), [6, 12, 18])
  }

  func testNoGradInferenceModeAndDetach() throws {
    let x = try Tensor([1, 2] as [Float]).requiresGrad_()
    let y = withNoGrad { x * 2 }
    XCTAssertFalse(y.requiresGrad)
    XCTAssertTrue(Autograd.isGradEnabled)
    let z = try withInferenceMode { x * 3 }
    XCTAssertFalse(z.requiresGrad)
    XCTAssertFalse(Autograd.isInferenceMode)
    XCTAssertFalse(try (x * 2).detach().requiresGrad)
    XCTAssertTrue(x.isLeaf)
    XCTAssertFalse((x * 2).isLeaf)
    XCTAssertThrowsError(try Tensor([1, 2] as [Int]).requiresGrad_(), "integer tensors cannot require grad")
  }

  func testThreadsAndDevices() throws {
    let n = Torch.numThreads
    Torch.numThreads = 1
    XCTAssertEqual(Torch.numThreads, 1)
    Torch.numThreads = n
    XCTAssertEqual(try Device(parsing: "cuda:1"), .cuda(1))
    XCTAssertThrowsError(try Device(parsing: "tpu"))
    XCTAssertEqual(Torch.builtVersion, "2.8.0")
    XCTAssertNil(Torch.versionProblem())
  }
}
