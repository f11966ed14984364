import Foundation
import Torch

/// `torch.nn.Linear`: y = x Wᵀ + b over the last dimension.
///
/// Weight `[outFeatures, inFeatures]` ~ kaiming_uniform(a = √5), i.e. U(-1/√in, 1/√in); bias `[outFeatures]`
/// ~ U(-1/√in, 1/√in) — PyTorch's `reset_parameters`, drawn in the same order.
open class Linear: Module, UnaryModule {
  public let inFeatures: Int
  public let outFeatures: Int
  /// `[outFeatures, inFeatures]`
  public let weight: Tensor
  /// `[outFeatures]`, or nil with `bias: false`.
  public let bias: Tensor?

  /// A layer with PyTorch's default initialisation; `initialize: false` leaves the weights uninitialised
  /// (as `torch.nn.utils.skip_init`), for a layer about to load a checkpoint.
  public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, initialize: Bool = true) throws {
    guard inFeatures >= 0, outFeatures >= 0 else {
      throw TorchError(
        "Linear: in_features and out_features must be non-negative, got \(inFeatures) and \(outFeatures)")
    }
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    let w = try Tensor.empty([outFeatures, inFeatures])
    let b = bias ? try Tensor.empty([outFeatures]) : nil
    self.weight = w
    self.bias = b
    super.init()
    try registerParameter("weight", w)
    try registerParameter("bias", b)
    if initialize { try resetParameters() }
  }

  /// A layer over existing tensors (`weight [out, in]`, `bias [out]`), shared, not copied: how adapters wrap a
  /// layer while keeping its parameters and checkpoint keys.
  public init(weight: Tensor, bias: Tensor?) throws {
    guard weight.dim == 2, bias.map({ $0.shape == [weight.shape[0]] }) ?? true else {
      throw TorchError(
        "Linear: weight must be [out, in] and bias [out], got \(weight.shape) and \(bias.map { "\($0.shape)" } ?? "none")"
      )
    }
    outFeatures = weight.shape[0]
    inFeatures = weight.shape[1]
    self.weight = weight
    self.bias = bias
    super.init()
    try registerParameter("weight", weight)
    try registerParameter("bias", bias)
  }

  /// For subclasses that keep the weight in another form (`QuantizedLinear`): `weight` (of any dtype) and `bias` are
  /// registered as buffers, so they are saved and loaded but not trained.
  public init(inFeatures: Int, outFeatures: Int, bufferWeight: Tensor, bias: Tensor?) throws {
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    self.weight = bufferWeight
    self.bias = bias
    super.init()
    try registerBuffer("weight", bufferWeight)
    if let bias { try registerBuffer("bias", bias) }
  }

  /// Re-draws the weights with PyTorch's default initialisation.
  public func resetParameters() throws {
    try Init.kaimingUniform_(weight, a: 5.0.squareRoot())
    if let bias {
      let fanIn = try Init.fanInAndFanOut(weight).fanIn
      let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
      try Init.uniform_(bias, a: -bound, b: bound)
    }
  }

  /// `[*, inFeatures]` → `[*, outFeatures]`.
  open func forward(_ input: Tensor) throws -> Tensor {
    guard input.dim >= 1, input.shape.last == inFeatures else {
      throw TorchError("\(typeName): expected input with last dimension \(inFeatures), got shape \(input.shape)")
    }
    return try F.linear(input, weight: weight, bias: bias)  // [*, outFeatures]
  }

  open override var extraDescription: String {
    "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(pythonBool(bias != nil))"
  }
}
