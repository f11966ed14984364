import Torch

/// `torch.nn.ReLU`: max(0, x).
public final class ReLU: Module, UnaryModule {
  public override init() { super.init() }
  public func forward(_ input: Tensor) throws -> Tensor { try input.relu() }
}

/// `torch.nn.GELU`: x·Φ(x), exact (`approximate: "none"`) or with the tanh approximation (`"tanh"`).
public final class GELU: Module, UnaryModule {
  public let approximate: String

  public init(approximate: String = "none") throws {
    guard approximate == "none" || approximate == "tanh" else {
      throw TorchError("GELU: approximate must be \"none\" or \"tanh\", got \"\(approximate)\"")
    }
    self.approximate = approximate
    super.init()
  }

  public func forward(_ input: Tensor) throws -> Tensor { try input.gelu(approximate: approximate) }
  public override var extraDescription: String { "approximate='\(approximate)'" }
}

/// `torch.nn.Tanh`.
public final class Tanh: Module, UnaryModule {
  public override init() { super.init() }
  public func forward(_ input: Tensor) throws -> Tensor { try input.tanh() }
}

/// `torch.nn.SiLU` (swish): x·σ(x).
public final class SiLU: Module, UnaryModule {
  public override init() { super.init() }
  public func forward(_ input: Tensor) throws -> Tensor { try input.silu() }
}

/// `torch.nn.Sigmoid`.
public final class Sigmoid: Module, UnaryModule {
  public override init() { super.init() }
  public func forward(_ input: Tensor) throws -> Tensor { try input.sigmoid() }
}

/// `torch.nn.Identity`: returns its input.
public final class Identity: Module, UnaryModule {
  public override init() { super.init() }
  public func forward(_ input: Tensor) throws -> Tensor { input }
}
