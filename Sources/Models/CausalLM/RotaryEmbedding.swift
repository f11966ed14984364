import Foundation
import NN
import Torch

/// Rotary position embeddings in Hugging Face's half-split layout (`rotate_half`: the first half of each head
/// pairs with the second half, not neighbouring elements), with transformers' `rope_scaling` variants:
/// `default`, `linear`, `dynamic` (NTK, recomputed as the sequence grows past the trained context), `llama3`
/// and `yarn`. Frequencies are computed in float32 with the same torch operations as
/// `transformers.modeling_rope_utils`, so cos/sin agree with transformers' bit for bit on the same device.
public final class RotaryEmbedding {
  public let dim: Int
  public let base: Double
  public let scaling: RopeScaling?
  public let maxPositionEmbeddings: Int
  /// cos/sin are multiplied by this (yarn's attention factor; 1 otherwise).
  public private(set) var attentionScaling: Double = 1
  /// `[dim / 2]`, float32.
  public private(set) var invFreq: Tensor
  let originalInvFreq: Tensor
  /// dynamic: the longest sequence the current frequencies were computed for.
  private var maxSeqLenCached: Int

  public var ropeType: String { scaling?.ropeType ?? "default" }

  public init(dim: Int, base: Double, maxPositionEmbeddings: Int, scaling: RopeScaling?, device: Device = .cpu) throws {
    self.dim = dim
    self.base = base
    self.scaling = scaling
    self.maxPositionEmbeddings = maxPositionEmbeddings
    maxSeqLenCached = maxPositionEmbeddings
    let (inv, attention) = try Self.parameters(
      dim: dim, base: base, scaling: scaling, maxPositionEmbeddings: maxPositionEmbeddings, seqLen: nil, device: device)
    invFreq = inv
    originalInvFreq = inv
    attentionScaling = attention
  }

  /// Moves the frequencies (after `Module.to(device:)` of the model that owns this).
  public func to(device: Device) throws {
    invFreq = try invFreq.to(device: device)
  }

  /// `base ** (arange(0, dim, 2) / dim)` in float32, as transformers writes it.
  static func powers(_ base: Tensor, dim: Int, device: Device) throws -> Tensor {
    let exponents = try Tensor.arange(.int(0), .int(dim), step: .int(2), device: device).to(dtype: .float32).div(
      .double(Double(dim)))  // [dim/2]
    return try base.pow(exponents)  // [dim/2]
  }

  static func scalar(_ v: Double, device: Device) throws -> Tensor {
    try Tensor.full([], .double(v), dtype: .float32, device: device)
  }

  /// transformers' `ROPE_INIT_FUNCTIONS[rope_type](config, device, seq_len)`: inverse frequencies and the
  /// attention scaling.
  static func parameters(
    dim: Int, base: Double, scaling: RopeScaling?, maxPositionEmbeddings: Int, seqLen: Int?, device: Device
  ) throws -> (Tensor, Double) {
    let kind = scaling?.ropeType ?? "default"
    func factor() throws -> Double {
      guard let f = scaling?.factor else { throw ModelConfigError("rope_scaling '\(kind)' needs a factor") }
      return f
    }
    switch kind {
    case "default":
      return (try powers(scalar(base, device: device), dim: dim, device: device).reciprocal(), 1)
    case "linear":
      let inv = try powers(scalar(base, device: device), dim: dim, device: device).reciprocal()
      return (try inv.div(.double(try factor())), 1)
    case "dynamic":
      let f = try factor()
      let seq = Double(max(seqLen ?? maxPositionEmbeddings, maxPositionEmbeddings))
      // base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2)), in float32 as transformers.
      let ratio = try scalar(seq, device: device).mul(.double(f)).div(.double(Double(maxPositionEmbeddings)))
      let stretched = try ratio.sub(.double(f - 1)).pow(.double(Double(dim) / Double(dim - 2))).mul(.double(base))
      return (try powers(stretched, dim: dim, device: device).reciprocal(), 1)
    case "llama3":
      guard let s = scaling, let low = s.lowFreqFactor, let high = s.highFreqFactor,
        let old = s.originalMaxPositionEmbeddings
      else {
        throw ModelConfigError(
          "rope_scaling 'llama3' needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
      }
      let f = try factor()
      let inv = try powers(scalar(base, device: device), dim: dim, device: device).reciprocal()  // [dim/2]
      let lowWavelen = Double(old) / low
      let highWavelen = Double(old) / high
      let wavelen = try inv.reciprocal().mul(.double(2 * Double.pi))  // 2π / inv_freq
      let divided = try inv.div(.double(f))
      let llama = try ATen.where_self(wavelen.gt(.double(lowWavelen)), self: divided, other: inv)
      let smooth = try wavelen.reciprocal().mul(.double(Double(old))).sub(.double(low)).div(.double(high - low))
      let smoothed = try smooth.neg().add(1).mul(llama).div(.double(f)).add(smooth.mul(llama))
      let medium = try wavelen.lt(.double(highWavelen)).logicalNot().logicalAnd(
        wavelen.gt(.double(lowWavelen)).logicalNot())
      return (try ATen.where_self(medium, self: smoothed, other: llama), 1)
    case "yarn":
      let s = scaling!
      let f = try factor()
      let original = Double(s.originalMaxPositionEmbeddings ?? maxPositionEmbeddings)
      func mscale(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
      let attention: Double
      if let a = s.attentionFactor {
        attention = a
      } else if let m = s.mscale, let mAll = s.mscaleAllDim, m != 0, mAll != 0 {
        attention = mscale(f, m) / mscale(f, mAll)
      } else {
        attention = mscale(f)
      }
      let betaFast = (s.betaFast.flatMap { $0 == 0 ? nil : $0 }) ?? 32
      let betaSlow = (s.betaSlow.flatMap { $0 == 0 ? nil : $0 }) ?? 1
      func correctionDim(_ rotations: Double) -> Double {
        Double(dim) * log(original / (rotations * 2 * Double.pi)) / (2 * log(base))
      }
      var low = correctionDim(betaFast)
      var high = correctionDim(betaSlow)
      if s.truncate ?? true {
        low = floor(low)
        high = ceil(high)
      }
      low = max(low, 0)
      high = min(high, Double(dim - 1))
      if low == high { high += 0.001 }
      let posFreqs = try powers(scalar(base, device: device), dim: dim, device: device)  // [dim/2]
      let extrapolation = try posFreqs.reciprocal()
      let interpolation = try posFreqs.mul(.double(f)).reciprocal()
      let ramp = try Tensor.arange(dim / 2, device: device).to(dtype: .float32).sub(.double(low)).div(
        .double(high - low)
      ).clamp(min: .double(0), max: .double(1))
      let extrapolationFactor = try ramp.neg().add(1)
      let inv = try interpolation.mul(extrapolationFactor.neg().add(1)).add(extrapolation.mul(extrapolationFactor))
      return (inv, attention)
    default:
      throw ModelConfigError(
        "rope_scaling type '\(kind)' is not supported (supported: \(RopeScaling.supportedTypes.joined(separator: ", ")))"
      )
    }
  }

  /// dynamic NTK: transformers' `dynamic_frequency_update` (grow past the cached length, reset below the original).
  func update(forSequenceLength seqLen: Int, device: Device) throws {
    if seqLen > maxSeqLenCached {
      let (inv, _) = try Self.parameters(
        dim: dim, base: base, scaling: scaling, maxPositionEmbeddings: maxPositionEmbeddings, seqLen: seqLen,
        device: device)
      invFreq = inv
      maxSeqLenCached = seqLen
    }
    if seqLen < maxPositionEmbeddings && maxSeqLenCached > maxPositionEmbeddings {
      invFreq = try originalInvFreq.to(device: device)
      maxSeqLenCached = maxPositionEmbeddings
    }
  }

  /// `positions [B, T]` (int) → `(cos, sin)`, each `[B, T, dim]` in `dtype`.
  public func callAsFunction(positions: Tensor, dtype: DType) throws -> (cos: Tensor, sin: Tensor) {
    if ropeType == "dynamic" {
      let longest = try positions.max().item(Int.self) + 1
      try update(forSequenceLength: longest, device: positions.device)
    }
    if invFreq.device != positions.device { invFreq = try invFreq.to(device: positions.device) }
    let freq = invFreq
    let angles = try positions.to(dtype: .float32).unsqueeze(-1).mul(freq)  // [B, T, dim/2]
    let emb = try Tensor.cat([angles, angles], dim: -1)  // [B, T, dim]
    var cos = try emb.cos()
    var sin = try emb.sin()
    if attentionScaling != 1 {
      cos = try cos.mul(.double(attentionScaling))
      sin = try sin.mul(.double(attentionScaling))
    }
    return (try cos.to(dtype: dtype), try sin.to(dtype: dtype))
  }
}

/// `sin` with its first half negated, `[B, 1, T, d]`: `rotate_half(x)·sin` = `swap_halves(x)·signedSin`, which
/// `applyRotary` computes with one `flip` instead of two slices, a negation and a concatenation (the same products,
/// bit for bit: (-a)·b = a·(-b)).
func signedSin(_ sin: Tensor) throws -> Tensor {
  let half = try sin.size(-1) / 2
  let first = try sin.narrow(dim: -1, start: 0, length: half).neg()
  let second = try sin.narrow(dim: -1, start: half, length: half)
  return try Tensor.cat([first, second], dim: -1).unsqueeze(1)  // [B, 1, T, d]
}

/// `apply_rotary_pos_emb`: `x [B, h, T, d]`, `cos [B, 1, T, d]`, `signedSin` (see above) → `x·cos + rotate_half(x)·sin`.
func applyRotary(_ x: Tensor, cos: Tensor, signedSin: Tensor) throws -> Tensor {
  let shape = x.shape
  let d = shape[3]
  let swapped = try x.reshape(shape[0], shape[1], shape[2], 2, d / 2).flip([3]).view(shape)  // [x2, x1]
  return try x.mul(cos).add(swapped.mul(signedSin))  // [B, h, T, d]
}
