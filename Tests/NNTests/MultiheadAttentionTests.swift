import XCTest

import NN
import Torch

/// MultiheadAttention against PyTorch with each mask kind and need_weights (Fixtures/make_nn_fixtures.py).
final class MultiheadAttentionTests: XCTestCase {
  // name: (batchFirst, self-attention, needWeights, averageAttnWeights)
  static let cases: [String: (Bool, Bool, Bool, Bool)] = [
    "kpm_bool": (false, true, false, true),
    "attn_float": (false, false, true, true),
    "attn_bool": (false, false, false, true),
    "attn_bool_weights": (true, false, true, false),
    "attn3d_float_kpm_float": (true, true, false, true),
    "plain_weights": (false, true, true, true)
  ]

  private var savedThreads = 0
  /// One intra-op thread, as the fixture script used, so reductions run in the same order; restored after.
  override func setUp() { savedThreads = Torch.numThreads; Torch.numThreads = 1 }
  override func tearDown() { Torch.numThreads = savedThreads }

  func testMasksAndWeightsMatchPyTorch() throws {
    for (name, (batchFirst, selfAttention, needWeights, average)) in Self.cases.sorted(by: { $0.key < $1.key }) {
      print("mha \(name):")
      let p = "mha.\(name)."
      let mha = try MultiheadAttention(embedDim: 16, numHeads: 4, batchFirst: batchFirst)
      try mha.load(stateDict: try NNFixtures.dict(p + "sd."), strict: true)
      let q = try NNFixtures.get(p + "q").clone().requiresGrad_()
      let k = selfAttention ? q : try NNFixtures.get(p + "k").clone().requiresGrad_()
      let v = selfAttention ? q : try NNFixtures.get(p + "v").clone().requiresGrad_()
      let (out, weights) = try mha(
        q, k, v, keyPaddingMask: try? NNFixtures.get(p + "kpm"), needWeights: needWeights,
        attnMask: try? NNFixtures.get(p + "mask"), averageAttnWeights: average)
      var loss = try out.mul(try NNFixtures.get(p + "w")).sum()
      XCTAssertEqual(weights != nil, needWeights)
      if let weights {
        try assertRelative(weights, try NNFixtures.get(p + "weights"), 1e-5, "\(name) weights")
        loss = try loss.add(try weights.mul(try NNFixtures.get(p + "w2")).sum())
      }
      try assertRelative(out, try NNFixtures.get(p + "out"), 1e-5, "\(name) output")
      try assertRelative(loss, try NNFixtures.get(p + "loss"), 1e-5, "\(name) loss")
      try loss.backward()
      try assertRelative(q.grad!, try NNFixtures.get(p + "grad_q"), 1e-5, "\(name) grad query")
      if !selfAttention {
        try assertRelative(k.grad!, try NNFixtures.get(p + "grad_k"), 1e-5, "\(name) grad key")
        try assertRelative(v.grad!, try NNFixtures.get(p + "grad_v"), 1e-5, "\(name) grad value")
      }
      for (key, t) in mha.namedParameters() {
        try assertRelative(t.grad!, try NNFixtures.get(p + "grad." + key), 1e-5, "\(name) grad \(key)")
      }
    }
  }

  func testBooleanMaskMeansMaskedOut() throws {
    // true = "do not attend" (PyTorch's nn convention), the opposite of scaledDotProductAttention's.
    let mha = try MultiheadAttention(embedDim: 8, numHeads: 2)
    let x = try Tensor.randn([3, 1, 8])
    let kpm = try Tensor([false, false, true], shape: [1, 3])
    let (_, w) = try mha(x, x, x, keyPaddingMask: kpm)
    let weights = try w!.toArray(Float.self)  // [1, 3, 3]
    for row in 0..<3 { XCTAssertEqual(weights[row * 3 + 2], 0) }
    let (outMasked, _) = try mha(x, x, x, keyPaddingMask: kpm, needWeights: false)
    let (outFloat, _) = try mha(
      x, x, x, keyPaddingMask: try Tensor([0, 0, -Float.infinity], shape: [1, 3]), needWeights: false)
    XCTAssertTrue(try outMasked.allclose(outFloat, rtol: 1e-6, atol: 1e-6))
  }

  func testUnbatchedInput() throws {
    let mha = try MultiheadAttention(embedDim: 8, numHeads: 2)
    let x = try Tensor.randn([5, 8])
    let (out, w) = try mha(x, x, x)
    XCTAssertEqual(out.shape, [5, 8])
    XCTAssertEqual(w?.shape, [5, 5])
    let (batched, _) = try mha(try x.unsqueeze(1), try x.unsqueeze(1), try x.unsqueeze(1))
    XCTAssertTrue(try batched.squeeze(1).allclose(out, rtol: 1e-5, atol: 1e-6))
  }

  func testErrorsNameTheProblem() throws {
    XCTAssertThrowsError(try MultiheadAttention(embedDim: 10, numHeads: 4)) {
      XCTAssertTrue("\($0)".contains("divisible"), "\($0)")
    }
    let mha = try MultiheadAttention(embedDim: 8, numHeads: 2)
    let x = try Tensor.randn([3, 2, 8])
    XCTAssertThrowsError(try mha(x, x, x, attnMask: try Tensor.zeros([2, 3], dtype: .bool))) {
      XCTAssertTrue("\($0)".contains("attn_mask"), "\($0)")
    }
    XCTAssertThrowsError(try mha(x, x, x, keyPaddingMask: try Tensor.zeros([3, 2], dtype: .bool))) {
      XCTAssertTrue("\($0)".contains("key_padding_mask"), "\($0)")
    }
    XCTAssertThrowsError(try mha(x, x, x, isCausal: true)) { XCTAssertTrue("\($0)".contains("is_causal"), "\($0)") }
  }
}
