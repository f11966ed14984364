import CTorch

// Activations and normalisation as tensor methods.
extension Tensor {
  public func relu() throws -> Tensor { try ATen.relu(self) }
  @discardableResult public func relu_() throws -> Tensor { _ = try ATen.relu_(self); return self }
  /// GELU; `approximate: "tanh"` for the tanh approximation (HF's gelu_new), "none" for the exact erf form.
  public func gelu(approximate: String = "none") throws -> Tensor { try ATen.gelu(self, approximate: approximate) }
  public func silu() throws -> Tensor { try ATen.silu(self) }
  public func mish() throws -> Tensor { try ATen.mish(self) }
  public func elu(alpha: Scalar = 1) throws -> Tensor { try ATen.elu(self, alpha: alpha) }
  public func leakyRelu(negativeSlope: Scalar = 0.01) throws -> Tensor {
    try ATen.leaky_relu(self, negative_slope: negativeSlope)
  }
  public func softplus(beta: Scalar = 1, threshold: Scalar = 20) throws -> Tensor {
    try ATen.softplus(self, beta: beta, threshold: threshold)
  }
  public func hardtanh(min: Scalar = -1, max: Scalar = 1) throws -> Tensor {
    try ATen.hardtanh(self, min_val: min, max_val: max)
  }
  public func logSigmoid() throws -> Tensor { try ATen.log_sigmoid(self) }
  public func glu(dim: Int = -1) throws -> Tensor { try ATen.glu(self, dim: dim) }
  public func softmax(dim: Int, dtype: DType? = nil) throws -> Tensor {
    try ATen.softmax_int(self, dim: dim, dtype: dtype)
  }
  public func logSoftmax(dim: Int, dtype: DType? = nil) throws -> Tensor {
    try ATen.log_softmax_int(self, dim: dim, dtype: dtype)
  }
}

/// `torch.nn.functional`: stateless layers and losses.
public enum Functional {
  /// `y = x Wᵀ + b`. On CUDA, when the bias needs its gradient, through `FusedKernels.linear` (the same matmul; the
  /// bias gradient summed by a fused kernel).
  public static func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
    let x = input.autocastInput()
    if FusedKernels.takesLinear(x, weight: weight, bias: bias),
      let y = try FusedKernels.attempt({ try FusedKernels.linear(x, weight: weight, bias: bias) })
    {
      return y
    }
    return try ATen.linear(x, weight: weight, bias: bias)
  }

  /// Layer normalisation over the trailing `normalizedShape` dimensions.
  public static func layerNorm(
    _ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
    eps: Double = 1e-5
  ) throws -> Tensor {
    try ATen.layer_norm(input, normalized_shape: normalizedShape, weight: weight, bias: bias, eps: eps)
  }

  /// Rows of `weight` picked by `indices`; `paddingIdx` rows get no gradient.
  public static func embedding(_ indices: Tensor, weight: Tensor, paddingIdx: Int? = nil) throws -> Tensor {
    try ATen.embedding(weight, indices: indices, padding_idx: paddingIdx ?? -1)
  }

  /// Zeroes elements with probability `p` and scales the rest by 1/(1-p) when `training`.
  public static func dropout(_ input: Tensor, p: Double = 0.5, training: Bool = true) throws -> Tensor {
    guard p >= 0, p <= 1 else { throw TorchError("dropout probability has to be between 0 and 1, but got \(p)") }
    if !training || p == 0 { return input }
    return try ATen.dropout(input, p: p, train: training)
  }

  /// softmax(Q Kᵀ · scale + mask) V, dispatched to libtorch's fused kernels where available.
  /// A boolean `attnMask` marks positions that may be attended (true = keep); a float mask is added.
  public static func scaledDotProductAttention(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, attnMask: Tensor? = nil,
    dropoutP: Double = 0, isCausal: Bool = false, scale: Double? = nil
  ) throws -> Tensor {
    try ATen.scaled_dot_product_attention(
      query, key: key, value: value, attn_mask: attnMask, dropout_p: dropoutP,
      is_causal: isCausal, scale: scale)
  }

  public static func softmax(_ input: Tensor, dim: Int) throws -> Tensor { try input.softmax(dim: dim) }
  public static func logSoftmax(_ input: Tensor, dim: Int) throws -> Tensor { try input.logSoftmax(dim: dim) }

  /// Pads the trailing dimensions (`pad` lists (left, right) pairs from the last dimension backwards).
  public static func pad(_ input: Tensor, _ pad: [Int], mode: String = "constant", value: Double? = nil) throws
    -> Tensor
  {
    try ATen.pad(input, pad: pad, mode: mode, value: value)
  }

  /// Lp-normalises along `dim` (`F.normalize`): x / max(‖x‖p, eps).
  public static func normalize(_ input: Tensor, p: Double = 2, dim: Int = 1, eps: Double = 1e-12) throws -> Tensor {
    let norm = try input.norm(p, dims: [dim], keepdim: true).clamp(min: .double(eps))
    return try input.div(norm.expand(as: input))
  }
}

public typealias F = Functional
