import NN
import Torch

/// `BertIntermediate`: the feed-forward expansion with the configured activation.
public final class BertIntermediate: Module {
  @ModuleInfo public var dense: Linear
  let config: BertConfig

  public init(_ config: BertConfig) throws {
    self.config = config
    super.init()
    dense = try Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, initialize: false)
  }

  public func callAsFunction(_ hidden: Tensor) throws -> Tensor {
    try config.activation(dense(hidden))  // [B, T, I]
  }
}

/// `BertOutput`: the feed-forward projection back, dropout, residual and LayerNorm.
public final class BertOutput: Module {
  @ModuleInfo public var dense: Linear
  @ModuleInfo(key: "LayerNorm") public var layerNorm: LayerNorm
  @ModuleInfo public var dropout: Dropout

  public init(_ config: BertConfig) throws {
    super.init()
    dense = try Linear(inFeatures: config.intermediateSize, outFeatures: config.hiddenSize, initialize: false)
    layerNorm = try LayerNorm(config.hiddenSize, eps: config.layerNormEps)
    dropout = try Dropout(p: config.hiddenDropoutProb)
  }

  public func callAsFunction(_ intermediate: Tensor, residual: Tensor) throws -> Tensor {
    let projected = try dense(intermediate)  // [B, T, H]
    // LayerNorm(residual + dropout(projected))
    return try layerNorm.forward(projected, residual: residual, dropout: dropout)  // [B, T, H]
  }
}

/// `BertLayer`: attention, then the feed-forward block.
public final class BertLayer: Module {
  @ModuleInfo public var attention: BertAttention
  @ModuleInfo public var intermediate: BertIntermediate
  @ModuleInfo public var output: BertOutput

  public init(_ config: BertConfig) throws {
    super.init()
    attention = try BertAttention(config)
    intermediate = try BertIntermediate(config)
    output = try BertOutput(config)
  }

  public func callAsFunction(_ hidden: Tensor, mask: Tensor?) throws -> Tensor {
    let attended = try attention(hidden, mask: mask)  // [B, T, H]
    let expanded = try intermediate(attended)  // [B, T, I]
    return try output(expanded, residual: attended)  // [B, T, H]
  }
}

/// `BertEncoder`: the stack of layers (`layer.0`, `layer.1`, …).
public final class BertEncoder: Module {
  @ModuleInfo public var layer: ModuleList<BertLayer>

  public init(_ config: BertConfig) throws {
    super.init()
    layer = try ModuleList((0..<config.numHiddenLayers).map { _ in try BertLayer(config) })
  }

  public func callAsFunction(_ hidden: Tensor, mask: Tensor?) throws -> Tensor {
    var h = hidden  // [B, T, H]
    for l in layer { h = try l(h, mask: mask) }
    return h
  }
}
