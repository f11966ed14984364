import Torch

/// `torch.nn.LayerNorm`: normalises over the trailing `normalizedShape` dimensions, then scales and shifts.
/// Weight ones, bias zeros.
public final class LayerNorm: Module, UnaryModule {
  public let normalizedShape: [Int]
  public let eps: Double
  public let elementwiseAffine: Bool
  /// `normalizedShape`, or nil without `elementwiseAffine`.
  public let weight: Tensor?
  /// `normalizedShape`, or nil without `elementwiseAffine` or with `bias: false`.
  public let bias: Tensor?

  public init(normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) throws {
    guard !normalizedShape.isEmpty, normalizedShape.allSatisfy({ $0 > 0 }) else {
      throw TorchError("LayerNorm: normalized_shape must be non-empty positive sizes, got \(normalizedShape)")
    }
    self.normalizedShape = normalizedShape
    self.eps = eps
    self.elementwiseAffine = elementwiseAffine
    weight = elementwiseAffine ? try Tensor.ones(normalizedShape) : nil
    self.bias = elementwiseAffine && bias ? try Tensor.zeros(normalizedShape) : nil
    super.init()
    try registerParameter("weight", weight)
    try registerParameter("bias", self.bias)
  }

  /// LayerNorm over a single trailing dimension of size `size`.
  public convenience init(_ size: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) throws {
    try self.init(normalizedShape: [size], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
  }

  /// Weight back to ones, bias back to zeros.
  public func resetParameters() throws {
    if let weight { try Init.ones_(weight) }
    if let bias { try Init.zeros_(bias) }
  }

  /// `[*, normalizedShape]` → same shape.
  public func forward(_ input: Tensor) throws -> Tensor {
    guard input.dim >= normalizedShape.count, Array(input.shape.suffix(normalizedShape.count)) == normalizedShape else {
      throw TorchError("LayerNorm: expected input with trailing shape \(normalizedShape), got \(input.shape)")
    }
    return try F.layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }

  /// `self(residual + dropout(x))`, the post-norm residual tail of a Transformer layer, as one fused kernel on
  /// CUDA (`F.dropoutAddLayerNorm`) when the normalized shape is one dimension; eager ops otherwise.
  public func forward(_ x: Tensor, residual: Tensor, dropout: Dropout) throws -> Tensor {
    guard normalizedShape.count == 1 else { return try forward(residual.add(try dropout(x))) }
    guard x.shape.last == normalizedShape[0], x.shape == residual.shape else {
      throw TorchError(
        "LayerNorm: expected x and residual with trailing shape \(normalizedShape), got \(x.shape) and \(residual.shape)"
      )
    }
    return try F.dropoutAddLayerNorm(
      x, residual: residual, weight: weight, bias: bias, eps: eps, p: dropout.p,
      training: dropout.training)  // [*, D]
  }

  public override var extraDescription: String {
    let shape =
      normalizedShape.count == 1
      ? "(\(normalizedShape[0]),)" : "(" + normalizedShape.map(String.init).joined(separator: ", ") + ")"
    return "\(shape), eps=\(pythonFloat(eps)), elementwise_affine=\(pythonBool(elementwiseAffine))"
  }
}
