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
  public func forward(_ input: Tensor) throws -> Tensor {
    let dtype = input.dtype
    let x = try input.to(dtype: .float32)  // [*, H]
    let variance = try x.pow(.int(2)).mean(dim: -1, keepdim: true)  // [*, 1]
    let normalized = try x.mul(variance.add(.double(eps)).rsqrt())  // [*, H]
    return try weight.mul(normalized.to(dtype: dtype))  // [*, H]
  }

  public override var extraDescription: String { "(\(weight.shape.first ?? 0),), eps=\(eps)" }
}
