import XCTest

import NN
import Torch

/// A small TransformerEncoder against PyTorch (Fixtures/make_nn_fixtures.py): PyTorch's weights loaded with
/// `load(stateDict:strict: true)`, then output, MSE loss and every parameter gradient within 1e-5 relative.
final class TransformerParityTests: XCTestCase {
  static let dModel = 32, nhead = 4, ff = 64, layers = 2

  struct Variant {
    var normFirst: Bool
    var activation: TransformerEncoderLayer.Activation
    var batchFirst: Bool
    var finalNorm: Bool
  }

  static let variants: [String: Variant] = [
    "base": Variant(normFirst: false, activation: .relu, batchFirst: false, finalNorm: true),
    "norm_first": Variant(normFirst: true, activation: .relu, batchFirst: false, finalNorm: false),
    "gelu": Variant(normFirst: false, activation: .gelu, batchFirst: false, finalNorm: true),
    "batch_first": Variant(normFirst: false, activation: .relu, batchFirst: true, finalNorm: true),
    "masked_bool": Variant(normFirst: false, activation: .relu, batchFirst: false, finalNorm: true),
    "masked_float": Variant(normFirst: true, activation: .gelu, batchFirst: true, finalNorm: true)
  ]

  static func build(_ v: Variant) throws -> TransformerEncoder {
    let layer = try TransformerEncoderLayer(
      dModel: dModel, nhead: nhead, dimFeedforward: ff, dropout: 0,
      activation: v.activation, batchFirst: v.batchFirst, normFirst: v.normFirst)
    return try TransformerEncoder(encoderLayer: layer, numLayers: layers, norm: v.finalNorm ? LayerNorm(dModel) : nil)
  }

  private var savedThreads = 0
  /// One intra-op thread, as the fixture script used, so reductions run in the same order; restored after.
  override func setUp() { savedThreads = Torch.numThreads; Torch.numThreads = 1 }
  override func tearDown() { Torch.numThreads = savedThreads }

  func testVariantsMatchPyTorch() throws {
    for (name, v) in Self.variants.sorted(by: { $0.key < $1.key }) {
      print("variant \(name):")
      let model = try Self.build(v)
      try model.load(stateDict: try NNFixtures.dict("\(name).sd."), strict: true)
      let x = try NNFixtures.get("\(name).input")
      let kpm = try? NNFixtures.get("\(name).kpm")
      let mask = try? NNFixtures.get("\(name).mask")
      let out = try model(x, mask: mask, srcKeyPaddingMask: kpm)
      let loss = try F.mseLoss(out, try NNFixtures.get("\(name).target"))
      try loss.backward()
      try assertRelative(out, try NNFixtures.get("\(name).output"), 1e-5, "\(name) output")
      try assertRelative(loss, try NNFixtures.get("\(name).loss"), 1e-5, "\(name) loss")
      let params = model.namedParameters()
      XCTAssertEqual(params.count, try NNFixtures.dict("\(name).grad.").count, "\(name): parameter count")
      for (key, p) in params {
        guard let g = p.grad else { XCTFail("\(name): no gradient for \(key)"); continue }
        try assertRelative(g, try NNFixtures.get("\(name).grad.\(key)"), 1e-5, "\(name) grad \(key)")
      }
    }
  }

  /// PyTorch's eval mode runs the fused `_transformer_encoder_layer_fwd`; the Swift module runs the same
  /// math op by op, so the two agree to float32 rounding.
  func testEvalModeMatchesPyTorchFastPath() throws {
    let model = try Self.build(Self.variants["base"]!)
    try model.load(stateDict: try NNFixtures.dict("base.sd."))
    model.eval()
    let out = try withNoGrad { try model(try NNFixtures.get("base.input")) }
    try assertRelative(out, try NNFixtures.get("base.eval_output"), 1e-5, "eval output")
  }

  func testDescriptionMatchesPyTorchRepr() throws {
    let model = try Self.build(Self.variants["base"]!)
    XCTAssertEqual(model.description, try NNFixtures.text("repr.encoder"))
  }

  func testLayersAreIndependentCopies() throws {
    let layer = try TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16)
    let enc = try TransformerEncoder(encoderLayer: layer, numLayers: 3)
    XCTAssertEqual(enc.layers.count, 3)
    let w0 = enc.layers[0].linear1.weight
    let w1 = enc.layers[1].linear1.weight
    XCTAssertFalse(w0 === w1)
    XCTAssertTrue(try w0.equal(w1))
    XCTAssertTrue(try w0.equal(layer.linear1.weight))
    _ = try withNoGrad { try w0.add_(1) }
    XCTAssertFalse(try w0.equal(w1))
    XCTAssertEqual(enc.parameterCount, 3 * layer.parameterCount)
    let keys = try enc.stateDict().keys
    XCTAssertTrue(keys.contains("layers.2.self_attn.in_proj_weight"))
    XCTAssertTrue(keys.contains("layers.0.self_attn.out_proj.weight"))
    XCTAssertTrue(keys.contains("layers.1.linear1.weight"))
  }

  func testBadInputsThrow() throws {
    XCTAssertThrowsError(try TransformerEncoderLayer(dModel: 10, nhead: 3))
    XCTAssertThrowsError(try TransformerEncoderLayer(dModel: 8, nhead: 2, activation: "swish"))
    let layer = try TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0)
    XCTAssertThrowsError(try layer(try Tensor.rand([4, 2, 6]))) { print("  error:", $0) }
    XCTAssertThrowsError(
      try layer(try Tensor.rand([4, 2, 8]), srcKeyPaddingMask: try Tensor.zeros([2, 5], dtype: .bool))
    ) {
      print("  error:", $0)
    }
    XCTAssertThrowsError(try layer(try Tensor.rand([4, 2, 8]), srcMask: try Tensor.zeros([4, 4], dtype: .int64))) {
      print("  error:", $0)
    }
  }
}
