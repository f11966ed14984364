import Torch

/// Root-mean-square normalisation as Llama-family models define it (`LlamaRMSNorm`, `Qwen3RMSNorm`):
/// `weight · (x / sqrt(mean(x², -1) + eps))`, with the statistics in float32 and the normalised value cast back
/// to the input's dtype before the weight is applied.
public final class RMSNorm: Module, UnaryModule {
  public let eps: Double
  /// `[hiddenSize]`
  public let weight: Tensor

  /// A norm with unit weights (`initialize: false` leaves them uninitialised, for a layer about to load).
  public init(_ hiddenSize: Int, eps: Double = 1e-6, initialize: Bool = true) throws {
    self.eps = eps
    weight = initialize ? try Tensor.ones([hiddenSize]) : try Tensor.empty([hiddenSize])
    super.init()
    try registerParameter("weight", weight)
  }

  /// `[*, hiddenSize]` → `[*, hiddenSize]`.
  /// libtorch's `rms_norm` computes exactly this (float32 statistics, cast back, then the weight) in one call.
  public func forward(_ input: Tensor) throws -> Tensor {
    try ATen.rms_norm(input, normalized_shape: [weight.shape[0]], weight: weight, eps: eps)  // [*, H]
  }

  public override var extraDescription: String { "(\(weight.shape.first ?? 0),), eps=\(eps)" }
}
