import Torch

/// `torch.nn.Dropout`: in training mode zeroes elements with probability `p` and scales the rest by
/// 1/(1-p); in evaluation mode returns the input.
public final class Dropout: Module, UnaryModule {
  public let p: Double

  public init(p: Double = 0.5) throws {
    guard p >= 0, p <= 1 else { throw TorchError("dropout probability has to be between 0 and 1, but got \(p)") }
    self.p = p
    super.init()
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    try F.dropout(input, p: p, training: training)
  }

  public override var extraDescription: String { "p=\(pythonFloat(p)), inplace=False" }
}
