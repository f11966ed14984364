import Foundation
import Torch

/// `torch.nn.init`: in-place initialisers with PyTorch's formulas. Each runs without recording gradients,
/// draws from libtorch's default generator (so `Torch.manualSeed` makes it reproducible, with the same
/// numbers PyTorch draws for the same calls) and returns the tensor.
public enum Init {
  /// The recommended gain for a nonlinearity (`calculate_gain`): linear, conv*, sigmoid → 1, tanh → 5/3,
  /// relu → √2, leaky_relu → √(2 / (1 + slope²)) (slope `param`, default 0.01), selu → 3/4.
  public static func calculateGain(_ nonlinearity: String, param: Double? = nil) throws -> Double {
    switch nonlinearity {
    case "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid":
      return 1
    case "tanh": return 5.0 / 3
    case "relu": return 2.0.squareRoot()
    case "leaky_relu":
      let slope = param ?? 0.01
      return (2.0 / (1 + pow(slope, 2))).squareRoot()
    case "selu": return 3.0 / 4
    default: throw TorchError("Unsupported nonlinearity \(nonlinearity)")
    }
  }

  /// (fan_in, fan_out) of a weight `[out, in, *kernel]` (`_calculate_fan_in_and_fan_out`).
  public static func fanInAndFanOut(_ tensor: Tensor) throws -> (fanIn: Int, fanOut: Int) {
    let shape = tensor.shape
    guard shape.count >= 2 else {
      throw TorchError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    }
    let receptive = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * receptive, shape[0] * receptive)
  }

  private static func fan(_ tensor: Tensor, mode: String) throws -> Int {
    let (fanIn, fanOut) = try fanInAndFanOut(tensor)
    switch mode {
    case "fan_in": return fanIn
    case "fan_out": return fanOut
    default: throw TorchError("Mode \(mode) not supported, please use one of fan_in, fan_out")
    }
  }

  /// Fills with U(a, b).
  @discardableResult
  public static func uniform_(_ tensor: Tensor, a: Double = 0, b: Double = 1) throws -> Tensor {
    try withNoGrad { try tensor.uniform_(from: a, to: b) }
  }

  /// Fills with N(mean, std²).
  @discardableResult
  public static func normal_(_ tensor: Tensor, mean: Double = 0, std: Double = 1) throws -> Tensor {
    try withNoGrad { try tensor.normal_(mean: mean, std: std) }
  }

  /// Fills with `value`.
  @discardableResult
  public static func constant_(_ tensor: Tensor, _ value: Double) throws -> Tensor {
    try withNoGrad { try tensor.fill_(.double(value)) }
  }

  @discardableResult
  public static func zeros_(_ tensor: Tensor) throws -> Tensor { try withNoGrad { try tensor.zero_() } }

  @discardableResult
  public static func ones_(_ tensor: Tensor) throws -> Tensor { try withNoGrad { try tensor.fill_(1) } }

  /// Glorot uniform: U(-a, a) with a = gain · √(6 / (fan_in + fan_out)).
  @discardableResult
  public static func xavierUniform_(_ tensor: Tensor, gain: Double = 1) throws -> Tensor {
    let (fanIn, fanOut) = try fanInAndFanOut(tensor)
    let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
    let a = 3.0.squareRoot() * std
    return try uniform_(tensor, a: -a, b: a)
  }

  /// Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).
  @discardableResult
  public static func xavierNormal_(_ tensor: Tensor, gain: Double = 1) throws -> Tensor {
    let (fanIn, fanOut) = try fanInAndFanOut(tensor)
    let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
    return try normal_(tensor, mean: 0, std: std)
  }

  /// He uniform: U(-bound, bound) with bound = √3 · gain / √fan (`a` is leaky_relu's negative slope).
  @discardableResult
  public static func kaimingUniform_(
    _ tensor: Tensor, a: Double = 0, mode: String = "fan_in",
    nonlinearity: String = "leaky_relu"
  ) throws -> Tensor {
    if tensor.shape.contains(0) { return tensor }
    let gain = try calculateGain(nonlinearity, param: a)
    let std = gain / Double(try fan(tensor, mode: mode)).squareRoot()
    let bound = 3.0.squareRoot() * std
    return try uniform_(tensor, a: -bound, b: bound)
  }

  /// He normal: N(0, std²) with std = gain / √fan.
  @discardableResult
  public static func kaimingNormal_(
    _ tensor: Tensor, a: Double = 0, mode: String = "fan_in",
    nonlinearity: String = "leaky_relu"
  ) throws -> Tensor {
    if tensor.shape.contains(0) { return tensor }
    let gain = try calculateGain(nonlinearity, param: a)
    let std = gain / Double(try fan(tensor, mode: mode)).squareRoot()
    return try normal_(tensor, mean: 0, std: std)
  }
}
