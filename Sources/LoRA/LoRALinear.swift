import Models
import NN
import Torch

/// What a LoRA layer adds to the layer it wraps: `B(A(dropout(x))) · scaling`, with `A` `[r, in]`
/// (Kaiming-uniform at start) and `B` `[out, r]` (zero at start), as PEFT's `lora.Linear`.
public protocol LoRALayer: Module {
  var loraA: Linear { get }
  var loraB: Linear { get }
  var scaling: Double { get }
  /// Whether the update is currently added into the base weight (`merge()`).
  var merged: Bool { get }
  /// The weight update `B·A·scaling` in the base layer's weight layout.
  func deltaWeight() throws -> Tensor
  func merge() throws
  func unmerge() throws
}

/// The LoRA update of an input, shared by the Linear and Conv1D adapters.
func loraUpdate(_ x: Tensor, a: Linear, b: Linear, dropout: Dropout, scaling: Double) throws -> Tensor {
  let low = try a(dropout(x.to(dtype: a.weight.dtype)))  // [*, r]
  return try b(low).mul(.double(scaling))  // [*, out]
}

/// `B·A·scaling` `[out, in]`.
func loraDelta(a: Linear, b: Linear, scaling: Double) throws -> Tensor {
  try b.weight.matmul(a.weight).mul(.double(scaling))
}

/// A `Linear` with a low-rank adapter. The base weight and bias are the wrapped layer's own tensors (frozen by
/// `LoRA.apply`), so checkpoint keys stay `…q_proj.weight`; the adapter adds `…q_proj.lora_A.weight` and
/// `…q_proj.lora_B.weight`.
public final class LoRALinear: Linear, LoRALayer {
  @ModuleInfo(key: "lora_A") public var loraA: Linear
  @ModuleInfo(key: "lora_B") public var loraB: Linear
  @ModuleInfo(key: "lora_dropout") public var loraDropout: Dropout
  public let r: Int
  public let scaling: Double
  public private(set) var merged = false

  public init(wrapping base: Linear, r: Int, scaling: Double, dropout: Double) throws {
    self.r = r
    self.scaling = scaling
    try super.init(weight: base.weight, bias: base.bias)
    let device = base.weight.device
    loraA = try Linear(inFeatures: base.inFeatures, outFeatures: r, bias: false).to(device: device)
    loraB = try Linear(inFeatures: r, outFeatures: base.outFeatures, bias: false).to(device: device)
    try Init.zeros_(loraB.weight)
    loraDropout = try Dropout(p: dropout)
    train(base.training)
  }

  public override func forward(_ input: Tensor) throws -> Tensor {
    let result = try super.forward(input)  // [*, out]
    if merged { return result }
    let update = try loraUpdate(input, a: loraA, b: loraB, dropout: loraDropout, scaling: scaling)
    return try result.add(update.to(dtype: result.dtype))  // [*, out]
  }

  public func deltaWeight() throws -> Tensor { try loraDelta(a: loraA, b: loraB, scaling: scaling) }

  public func merge() throws {
    guard !merged else { return }
    try withNoGrad { _ = try weight.add_(deltaWeight().to(dtype: weight.dtype)) }
    merged = true
  }

  public func unmerge() throws {
    guard merged else { return }
    try withNoGrad { _ = try weight.sub_(deltaWeight().to(dtype: weight.dtype)) }
    merged = false
  }

  public override var extraDescription: String { super.extraDescription + ", r=\(r), scaling=\(scaling)" }
}

/// GPT-2's `Conv1D` with a low-rank adapter (PEFT's `fan_in_fan_out`: the update is transposed into the
/// `[in, out]` weight when merged).
public final class LoRAConv1D: Conv1D, LoRALayer {
  @ModuleInfo(key: "lora_A") public var loraA: Linear
  @ModuleInfo(key: "lora_B") public var loraB: Linear
  @ModuleInfo(key: "lora_dropout") public var loraDropout: Dropout
  public let r: Int
  public let scaling: Double
  public private(set) var merged = false

  public init(wrapping base: Conv1D, r: Int, scaling: Double, dropout: Double) throws {
    self.r = r
    self.scaling = scaling
    try super.init(weight: base.weight, bias: base.bias)
    let device = base.weight.device
    loraA = try Linear(inFeatures: base.inFeatures, outFeatures: r, bias: false).to(device: device)
    loraB = try Linear(inFeatures: r, outFeatures: base.outFeatures, bias: false).to(device: device)
    try Init.zeros_(loraB.weight)
    loraDropout = try Dropout(p: dropout)
    train(base.training)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let result = try super.forward(x)  // [*, out]
    if merged { return result }
    let update = try loraUpdate(x, a: loraA, b: loraB, dropout: loraDropout, scaling: scaling)
    return try result.add(update.to(dtype: result.dtype))
  }

  /// `[in, out]`, the Conv1D layout.
  public func deltaWeight() throws -> Tensor { try loraDelta(a: loraA, b: loraB, scaling: scaling).t() }

  public func merge() throws {
    guard !merged else { return }
    try withNoGrad { _ = try weight.add_(deltaWeight().to(dtype: weight.dtype)) }
    merged = true
  }

  public func unmerge() throws {
    guard merged else { return }
    try withNoGrad { _ = try weight.sub_(deltaWeight().to(dtype: weight.dtype)) }
    merged = false
  }
}
