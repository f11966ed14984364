import Torch

/// `torch.nn.Sequential`: applies its children in order; they are named "0", "1", … as in PyTorch.
public final class Sequential: Module, UnaryModule {
  /// The layers, in order.
  public private(set) var layers: [any UnaryModule] = []

  public init(_ layers: [any UnaryModule]) throws {
    super.init()
    for layer in layers { try append(layer) }
  }

  public convenience init(_ layers: any UnaryModule...) throws { try self.init(layers) }

  /// Adds a layer at the end (named by its position).
  public func append(_ layer: any UnaryModule) throws {
    try registerModule(String(layers.count), layer as Module)
    layers.append(layer)
  }

  public var count: Int { layers.count }

  /// The layer at `index` (negative counts from the end); throws when out of range.
  public func layer(at index: Int) throws -> any UnaryModule {
    let i = index < 0 ? index + layers.count : index
    guard i >= 0, i < layers.count else {
      throw TorchError("index \(index) is out of range for Sequential of length \(layers.count)")
    }
    return layers[i]
  }

  public func forward(_ input: Tensor) throws -> Tensor {
    var x = input
    for layer in layers { x = try layer.forward(x) }
    return x
  }
}
