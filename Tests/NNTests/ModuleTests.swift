import Foundation
import XCTest

import NN
import Torch

/// Module tree, state dicts (both ways with PyTorch), strict-load errors, modes, devices, initialisation, reprs.
final class ModuleTests: XCTestCase {
  private var savedThreads = 0
  /// One intra-op thread, as the fixture script used, so reductions run in the same order; restored after.
  override func setUp() { savedThreads = Torch.numThreads; Torch.numThreads = 1 }
  override func tearDown() { Torch.numThreads = savedThreads }

  func testNamesMatchPyTorchStateDictKeys() throws {
    let model = try TransformerEncoder(
      encoderLayer: TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64),
      numLayers: 2, norm: LayerNorm(32))
    let expected = try NNFixtures.dict("base.sd.").keys.sorted()
    XCTAssertEqual(try model.stateDict().keys.sorted(), expected)
    XCTAssertEqual(try model.orderedStateDict().first?.0, "layers.0.self_attn.in_proj_weight")
    XCTAssertEqual(model.namedParameters().map(\.0), try model.orderedStateDict().map(\.0))
  }

  func testStrictLoadNamesEveryKeyAndBothShapes() throws {
    let lin = try Linear(inFeatures: 4, outFeatures: 5)
    let before = try lin.weight.clone()
    let bad: [String: Tensor] = ["weight": try Tensor.zeros([3, 4]), "extra.weight": try Tensor.zeros([1])]
    XCTAssertThrowsError(try lin.load(stateDict: bad, strict: true)) { error in
      let text = "\(error)"
      print(text)
      XCTAssertTrue(error is StateDictError)
      XCTAssertTrue(text.contains("Missing key(s) in state_dict: \"bias\""), text)
      XCTAssertTrue(text.contains("Unexpected key(s) in state_dict: \"extra.weight\""), text)
      XCTAssertTrue(
        text.contains(
          "size mismatch for weight: copying a param with shape [3, 4] from checkpoint, the shape in current model is [5, 4]"
        ), text)
    }
    XCTAssertTrue(try lin.weight.equal(before), "nothing is copied when loading fails")
    // Non-strict: missing / unexpected keys are reported, shape mismatches still throw.
    let (missing, unexpected) = try lin.load(
      stateDict: ["weight": try Tensor.ones([5, 4]), "foo": try Tensor.zeros([1])], strict: false)
    XCTAssertEqual(missing, ["bias"])
    XCTAssertEqual(unexpected, ["foo"])
    XCTAssertTrue(try lin.weight.equal(try Tensor.ones([5, 4])))
    XCTAssertThrowsError(try lin.load(stateDict: ["weight": try Tensor.ones([2, 2])], strict: false)) {
      XCTAssertTrue("\($0)".contains("size mismatch for weight"), "\($0)")
    }
  }

  func testLoadKeepsIdentityAndDoesNotTrackGradients() throws {
    let lin = try Linear(inFeatures: 3, outFeatures: 2)
    let w = lin.weight
    let source = try Tensor.randn([2, 3]).requiresGrad_()
    try lin.load(stateDict: ["weight": source, "bias": try Tensor.zeros([2], dtype: .float64)])
    XCTAssertTrue(lin.weight === w)
    XCTAssertTrue(w.isLeaf)
    XCTAssertTrue(try w.equal(try source.detach()))
    XCTAssertEqual(lin.bias?.dtype, .float32)
  }

  func testPyTorchStateDictLoadsAndSwiftStateDictLoadsInPyTorch() throws {
    // PyTorch -> Swift: the fixture's state dicts came from model.state_dict() via torch.save.
    let layer = try TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64, dropout: 0)
    let model = try TransformerEncoder(encoderLayer: layer, numLayers: 2, norm: LayerNorm(32))
    try model.load(stateDict: try NNFixtures.dict("base.sd."), strict: true)
    // Swift -> PyTorch: perturb, save with Torch.save, load strictly into torch and compare outputs.
    try withNoGrad { for p in model.parameters() { try p.add_(try p.randnLike().mul(0.01)) } }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("torchswift-nn-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let sdPath = dir.appendingPathComponent("model.pt").path
    let ioPath = dir.appendingPathComponent("io.pt").path
    try Torch.save(try model.stateDict(), to: sdPath)
    let x = try NNFixtures.get("base.input")
    try Torch.save(["x": x, "y": try model(x)], to: ioPath)
    let script = """
      import sys, torch, torch.nn as nn
      layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0)
      model = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(32), enable_nested_tensor=False)
      model.load_state_dict(torch.load(sys.argv[1], weights_only=False), strict=True)
      io = torch.load(sys.argv[2], weights_only=False)
      err = (model(io["x"]) - io["y"]).abs().max().item() / io["y"].abs().max().item()
      print(err)
      """
    let out = try runPython(script, arguments: [sdPath, ioPath])
    let err = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
    print("  PyTorch output from the Swift state dict: rel \(err)")
    XCTAssertLessThanOrEqual(err, 1e-5)
  }

  func testTrainEvalRecursive() throws {
    let layer = try TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16)
    let enc = try TransformerEncoder(encoderLayer: layer, numLayers: 2)
    XCTAssertTrue(enc.modules().allSatisfy(\.training))
    enc.eval()
    XCTAssertTrue(enc.modules().allSatisfy { !$0.training })
    XCTAssertFalse(enc.layers[1].dropout.training)
    let x = try Tensor.randn([4, 2, 8])
    XCTAssertTrue(try enc(x).equal(try enc(x)), "eval is deterministic (dropout off)")
    enc.train()
    XCTAssertTrue(enc.layers[1].selfAttn.outProj.training)
  }

  func testToDTypeKeepsParameterIdentity() throws {
    let model = try Sequential(Linear(inFeatures: 3, outFeatures: 4), ReLU(), Linear(inFeatures: 4, outFeatures: 2))
    let params = model.parameters()
    try model(try Tensor.randn([5, 3])).sum().backward()
    try model.to(dtype: .float64)
    XCTAssertTrue(zip(params, model.parameters()).allSatisfy { $0 === $1 })
    XCTAssertTrue(
      model.parameters().allSatisfy {
        $0.dtype == .float64 && $0.grad?.dtype == .float64 && $0.isLeaf && $0.requiresGrad
      })
    let y = try model(try Tensor.randn([2, 3], dtype: .float64))
    XCTAssertEqual(y.dtype, .float64)
    XCTAssertThrowsError(try model.to(dtype: .int64))
  }

  func testFreezeZeroGradAndCounts() throws {
    let lin = try Linear(inFeatures: 4, outFeatures: 3)
    XCTAssertEqual(lin.parameterCount, 15)
    try lin(try Tensor.randn([2, 4])).sum().backward()
    XCTAssertNotNil(lin.weight.grad)
    try lin.zeroGrad(setToNone: false)
    XCTAssertEqual(try lin.weight.grad?.abs().sum().item(Double.self), 0)
    try lin.zeroGrad()
    XCTAssertNil(lin.weight.grad)
    try lin.requiresGrad(false)
    XCTAssertFalse(try lin(try Tensor.randn([2, 4])).requiresGrad)
    try lin.requiresGrad(true)
    XCTAssertTrue(lin.weight.requiresGrad)
    let ce = try CrossEntropyLoss(weight: try Tensor.ones([3]))
    XCTAssertEqual(ce.namedBuffers().map(\.0), ["weight"])
    XCTAssertEqual(try ce.stateDict().keys.sorted(), ["weight"])
    XCTAssertThrowsError(try lin.registerParameter("a.b", try Tensor.zeros([1])))
    XCTAssertThrowsError(try lin.registerBuffer("weight", try Tensor.zeros([1])))
    XCTAssertThrowsError(try lin.registerParameter("ints", try Tensor.zeros([1], dtype: .int64)))
  }

  func testDescriptionsMatchPyTorch() throws {
    XCTAssertEqual(
      try Embedding(numEmbeddings: 10, embeddingDim: 3, paddingIdx: 0).description,
      try NNFixtures.text("repr.embedding"))
    let seq = try Sequential(
      Linear(inFeatures: 4, outFeatures: 5), ReLU(), Dropout(p: 0.1), GELU(approximate: "tanh"),
      LayerNorm(5, eps: 1e-6), Tanh(), SiLU(), Linear(inFeatures: 5, outFeatures: 2, bias: false))
    XCTAssertEqual(seq.description, try NNFixtures.text("repr.sequential"))
    XCTAssertEqual(try MultiheadAttention(embedDim: 8, numHeads: 2).description, try NNFixtures.text("repr.mha"))
  }

  /// With the same seed, libtorch's generator draws PyTorch's numbers, and the layers draw in PyTorch's order.
  func testSeededConstructionEqualsPyTorch() throws {
    Torch.manualSeed(1234)
    let enc = try TransformerEncoder(
      encoderLayer: TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64), numLayers: 2)
    for (k, v) in try enc.orderedStateDict() {
      XCTAssertTrue(try v.equal(try NNFixtures.get("seeded.encoder.\(k)")), "seeded encoder \(k)")
    }
    Torch.manualSeed(99)
    let lin = try Linear(inFeatures: 20, outFeatures: 30)
    XCTAssertTrue(try lin.weight.equal(try NNFixtures.get("seeded.linear.weight")))
    XCTAssertTrue(try lin.bias!.equal(try NNFixtures.get("seeded.linear.bias")))
    let emb = try Embedding(numEmbeddings: 10, embeddingDim: 4, paddingIdx: 1)
    XCTAssertTrue(try emb.weight.equal(try NNFixtures.get("seeded.embedding.weight")))
  }

  /// Distributions on large layers: bounds and standard deviations of PyTorch's default initialisation.
  func testDefaultInitialisationDistributions() throws {
    Torch.manualSeed(2024)
    func stats(_ t: Tensor) throws -> (min: Double, max: Double, mean: Double, std: Double) {
      (
        try t.min().item(Double.self), try t.max().item(Double.self), try t.mean().item(Double.self),
        try t.std().item(Double.self)
      )
    }
    // Linear(1024 -> 2048): weight and bias ~ U(-1/√1024, 1/√1024), std = bound/√3.
    let lin = try Linear(inFeatures: 1024, outFeatures: 2048)
    let bound = 1 / 1024.0.squareRoot()
    let w = try stats(lin.weight)
    XCTAssertGreaterThanOrEqual(w.min, -bound)
    XCTAssertLessThanOrEqual(w.max, bound)
    XCTAssertLessThan(bound - w.max, bound * 1e-3)
    XCTAssertEqual(w.std, bound / 3.0.squareRoot(), accuracy: bound / 3.0.squareRoot() * 0.01)
    XCTAssertEqual(w.mean, 0, accuracy: bound * 0.01)
    let b = try stats(lin.bias!)
    XCTAssertGreaterThanOrEqual(b.min, -bound)
    XCTAssertLessThanOrEqual(b.max, bound)
    XCTAssertEqual(b.std, bound / 3.0.squareRoot(), accuracy: bound / 3.0.squareRoot() * 0.05)
    // Embedding: N(0, 1), padding row zero.
    let emb = try Embedding(numEmbeddings: 4096, embeddingDim: 256, paddingIdx: 7)
    let e = try stats(emb.weight)
    XCTAssertEqual(e.std, 1, accuracy: 0.01)
    XCTAssertEqual(e.mean, 0, accuracy: 0.01)
    XCTAssertEqual(try emb.weight.select(dim: 0, index: 7).abs().sum().item(Double.self), 0)
    // LayerNorm: ones and zeros.
    let ln = try LayerNorm(64)
    XCTAssertTrue(try ln.weight!.equal(try Tensor.ones([64])))
    XCTAssertTrue(try ln.bias!.equal(try Tensor.zeros([64])))
    // MultiheadAttention(1024, 8): xavier_uniform in_proj (a = √(6 / (1024 + 3072))), zero biases.
    let mha = try MultiheadAttention(embedDim: 1024, numHeads: 8)
    let a = (6.0 / Double(1024 + 3072)).squareRoot()
    let ip = try stats(mha.inProjWeight)
    XCTAssertGreaterThanOrEqual(ip.min, -a)
    XCTAssertLessThanOrEqual(ip.max, a)
    XCTAssertEqual(ip.std, a / 3.0.squareRoot(), accuracy: a / 3.0.squareRoot() * 0.01)
    XCTAssertEqual(try mha.inProjBias!.abs().sum().item(Double.self), 0)
    XCTAssertEqual(try mha.outProj.bias!.abs().sum().item(Double.self), 0)
    let op = try stats(mha.outProj.weight)
    XCTAssertLessThanOrEqual(op.max, bound)
    XCTAssertEqual(op.std, bound / 3.0.squareRoot(), accuracy: bound / 3.0.squareRoot() * 0.02)
  }

  func testLayersForwardAndErrors() throws {
    let emb = try Embedding(numEmbeddings: 5, embeddingDim: 3, paddingIdx: -1)
    XCTAssertEqual(emb.paddingIdx, 4)
    let idx = try Tensor([0, 4, 2, 4] as [Int64], shape: [2, 2])
    let y = try emb(idx)
    XCTAssertEqual(y.shape, [2, 2, 3])
    try y.sum().backward()
    XCTAssertEqual(try emb.weight.grad!.select(dim: 0, index: 4).abs().sum().item(Double.self), 0)
    XCTAssertThrowsError(try emb(try Tensor.zeros([2]))) { print("  error:", $0) }
    XCTAssertThrowsError(try Embedding(numEmbeddings: 5, embeddingDim: 3, paddingIdx: 5))
    XCTAssertThrowsError(try Linear(inFeatures: 3, outFeatures: 2)(try Tensor.zeros([2, 4]))) { print("  error:", $0) }
    XCTAssertThrowsError(try LayerNorm(8)(try Tensor.zeros([2, 4]))) { print("  error:", $0) }
    XCTAssertThrowsError(try Dropout(p: 1.5))
    XCTAssertThrowsError(try GELU(approximate: "fast"))
    let drop = try Dropout(p: 0.5)
    let ones = try Tensor.ones([1000])
    let d = try drop(ones)
    let kept = try d.ne(0).sum().item(Int.self)
    XCTAssertTrue((400...600).contains(kept))
    XCTAssertEqual(try d.max().item(Double.self), 2)
    drop.eval()
    XCTAssertTrue(try drop(ones).equal(ones))
    let list = try ModuleList([try Linear(inFeatures: 2, outFeatures: 2), try Linear(inFeatures: 2, outFeatures: 3)])
    XCTAssertEqual(list.count, 2)
    XCTAssertEqual(try list.module(at: -1).outFeatures, 3)
    XCTAssertThrowsError(try list.module(at: 2))
    XCTAssertEqual(try list.stateDict().keys.sorted(), ["0.bias", "0.weight", "1.bias", "1.weight"])
    XCTAssertTrue(
      list.description.hasPrefix("ModuleList(\n  (0): Linear(in_features=2, out_features=2, bias=True)\n  (1): Linear"),
      list.description)
  }
}
