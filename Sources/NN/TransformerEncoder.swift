import Torch

/// `torch.nn.TransformerEncoder`: `numLayers` copies of an encoder layer (each an independent deep copy
/// of `encoderLayer`, so all start with its weights, as in PyTorch), then an optional final norm.
///
/// State-dict names: `layers.0.self_attn.in_proj_weight`, …, `norm.weight`.
public final class TransformerEncoder: Module {
  @ModuleInfo public var layers: ModuleList<TransformerEncoderLayer>
  @ModuleInfo public var norm: LayerNorm?
  public let numLayers: Int

  public init(encoderLayer: TransformerEncoderLayer, numLayers: Int, norm: LayerNorm? = nil) throws {
    guard numLayers >= 0 else {
      throw TorchError("TransformerEncoder: num_layers must be non-negative, got \(numLayers)")
    }
    self.numLayers = numLayers
    super.init()
    layers = try ModuleList((0..<numLayers).map { _ in try encoderLayer.copy() })
    self.norm = norm
  }

  /// `src` `[S, B, E]` (`[B, S, E]` when the layers are `batchFirst`) → same shape. `mask` `[S, S]` or
  /// `[B·H, S, S]` and `srcKeyPaddingMask` `[B, S]`: boolean (true = masked out) or additive float.
  /// `isCausal` hints that `mask` is the causal mask.
  public func callAsFunction(
    _ src: Tensor, mask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil,
    isCausal: Bool = false
  ) throws -> Tensor {
    try forward(src, mask: mask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal)
  }

  /// See `callAsFunction`.
  public func forward(
    _ src: Tensor, mask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil,
    isCausal: Bool = false
  ) throws -> Tensor {
    let kpm = try canonicalMask(srcKeyPaddingMask, name: "src_key_padding_mask", dtype: src.dtype)  // [B, S]
    let m = try canonicalMask(mask, name: "mask", dtype: src.dtype)  // [S, S]
    var x = src  // [S, B, E]
    for layer in layers {
      x = try layer(x, srcMask: m, srcKeyPaddingMask: kpm, isCausal: isCausal)  // [S, B, E]
    }
    if let norm { x = try norm(x) }  // [S, B, E]
    return x
  }
}
