import Foundation
import Torch

/// The output projection of `MultiheadAttention` (PyTorch names its class this way; it is a `Linear`).
public final class NonDynamicallyQuantizableLinear: Linear {}

/// `torch.nn.MultiheadAttention` with equal query, key and value sizes (packed `in_proj_weight`).
///
/// State dict keys: `in_proj_weight` `[3E, E]`, `in_proj_bias` `[3E]`, `out_proj.weight` `[E, E]`,
/// `out_proj.bias` `[E]`. Initialisation as PyTorch: xavier_uniform in-projection, zero biases.
///
/// Inputs are `[L, B, E]` (sequence first) or `[B, L, E]` with `batchFirst`, or unbatched `[L, E]`.
/// Masks follow PyTorch's conventions, which differ from `scaledDotProductAttention`'s: in a boolean
/// `keyPaddingMask` `[B, S]` or `attnMask` `[L, S]` / `[B·H, L, S]`, **true means "do not attend"**;
/// a floating mask is added to the attention scores (use -inf to mask).
public final class MultiheadAttention: Module {
  public let embedDim: Int
  public let numHeads: Int
  public let headDim: Int
  /// Dropout on the attention weights (training mode only).
  public let dropout: Double
  public let batchFirst: Bool
  /// `[3·embedDim, embedDim]`: the query, key and value projections stacked.
  public let inProjWeight: Tensor
  /// `[3·embedDim]`, or nil with `bias: false`.
  public let inProjBias: Tensor?
  @ModuleInfo(key: "out_proj") public var outProj: NonDynamicallyQuantizableLinear

  /// An attention layer with PyTorch's default initialisation (`initialize: false` skips it).
  public init(
    embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true, batchFirst: Bool = false,
    initialize: Bool = true
  ) throws {
    guard embedDim > 0, numHeads > 0 else {
      throw TorchError(
        "MultiheadAttention: embed_dim and num_heads must be greater than 0, got embed_dim=\(embedDim) and num_heads=\(numHeads)"
      )
    }
    guard embedDim % numHeads == 0 else {
      throw TorchError(
        "MultiheadAttention: embed_dim must be divisible by num_heads (embed_dim=\(embedDim), num_heads=\(numHeads))")
    }
    guard dropout >= 0, dropout <= 1 else {
      throw TorchError("MultiheadAttention: dropout probability has to be between 0 and 1, but got \(dropout)")
    }
    self.embedDim = embedDim
    self.numHeads = numHeads
    self.headDim = embedDim / numHeads
    self.dropout = dropout
    self.batchFirst = batchFirst
    inProjWeight = try Tensor.empty([3 * embedDim, embedDim])
    inProjBias = bias ? try Tensor.empty([3 * embedDim]) : nil
    super.init()
    try registerParameter("in_proj_weight", inProjWeight)
    try registerParameter("in_proj_bias", inProjBias)
    outProj = try NonDynamicallyQuantizableLinear(
      inFeatures: embedDim, outFeatures: embedDim, bias: bias, initialize: initialize)
    if initialize { try resetParameters() }
  }

  /// PyTorch's `_reset_parameters`: xavier_uniform in-projection, zero in-projection and output biases.
  /// (The output projection's weight keeps `Linear`'s initialisation.)
  public func resetParameters() throws {
    try Init.xavierUniform_(inProjWeight)
    if let inProjBias { try Init.zeros_(inProjBias) }
    if let b = outProj.bias { try Init.zeros_(b) }
  }

  /// Attention of `query` over `key`/`value`; returns the output (shaped like `query`) and, with
  /// `needWeights`, the attention weights `[B, L, S]` averaged over heads (or `[B, H, L, S]` with
  /// `averageAttnWeights: false`). Without `needWeights` the fused `scaled_dot_product_attention` runs.
  /// `isCausal` is a hint that `attnMask` is the causal mask (it must be given, as in PyTorch).
  public func callAsFunction(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
    needWeights: Bool = true, attnMask: Tensor? = nil, averageAttnWeights: Bool = true,
    isCausal: Bool = false
  ) throws -> (output: Tensor, weights: Tensor?) {
    try forward(
      query, key, value, keyPaddingMask: keyPaddingMask, needWeights: needWeights, attnMask: attnMask,
      averageAttnWeights: averageAttnWeights, isCausal: isCausal)
  }

  /// See `callAsFunction`.
  public func forward(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
    needWeights: Bool = true, attnMask: Tensor? = nil, averageAttnWeights: Bool = true,
    isCausal: Bool = false
  ) throws -> (output: Tensor, weights: Tensor?) {
    let batched = query.dim == 3
    guard query.dim == 3 || query.dim == 2 else {
      throw TorchError(
        "MultiheadAttention: query should be unbatched 2D or batched 3D tensor but received \(query.dim)-D query tensor"
      )
    }
    guard key.dim == query.dim, value.dim == query.dim else {
      throw TorchError(
        "MultiheadAttention: query, key and value must have the same number of dimensions, got \(query.shape), \(key.shape), \(value.shape)"
      )
    }
    // Work sequence-first, batched, keeping which of q, k, v are the same tensor (self-attention).
    let sameKV = key === value
    let sameQK = query === key
    func toSequenceFirst(_ t: Tensor) throws -> Tensor {
      if !batched { return try t.unsqueeze(1) }  // [L, 1, E]
      return batchFirst ? try t.transpose(0, 1) : t  // [L, B, E]
    }
    let q = try toSequenceFirst(query)  // [L, B, E]
    let k = sameQK ? q : try toSequenceFirst(key)  // [S, B, E]
    let v = sameKV ? k : try toSequenceFirst(value)  // [S, B, E]
    var kpm = keyPaddingMask
    if !batched, let m = kpm {
      guard m.dim == 1 else {
        throw TorchError(
          "MultiheadAttention: for unbatched (2-D) query, expected key_padding_mask to be 1-D, got shape \(m.shape)")
      }
      kpm = try m.unsqueeze(0)  // [1, S]
    }
    let tgtLen = q.shape[0]
    let bsz = q.shape[1]
    let srcLen = k.shape[0]
    guard q.shape[2] == embedDim else {
      throw TorchError("MultiheadAttention: was expecting embedding dimension of \(embedDim), but got \(q.shape[2])")
    }
    guard k.shape == v.shape, k.shape[1] == bsz, k.shape[2] == embedDim else {
      throw TorchError(
        "MultiheadAttention: key and value must both have shape [S, B, \(embedDim)] matching the query's batch \(bsz) (sequence first), got key \(key.shape) and value \(value.shape)"
      )
    }
    return try attend(
      q, k, v, sameQK: sameQK, sameKV: sameKV, tgtLen: tgtLen, bsz: bsz, srcLen: srcLen,
      keyPaddingMask: kpm, needWeights: needWeights, attnMask: attnMask,
      averageAttnWeights: averageAttnWeights, isCausal: isCausal, batched: batched)
  }

  /// PyTorch's `F.multi_head_attention_forward` on sequence-first, batched inputs.
  private func attend(
    _ q0: Tensor, _ k0: Tensor, _ v0: Tensor, sameQK: Bool, sameKV: Bool, tgtLen: Int, bsz: Int,
    srcLen: Int, keyPaddingMask: Tensor?, needWeights: Bool, attnMask: Tensor?,
    averageAttnWeights: Bool, isCausal: Bool, batched: Bool
  ) throws -> (output: Tensor, weights: Tensor?) {
    let e = embedDim
    let h = numHeads
    let kpm = try canonicalMask(keyPaddingMask, name: "key_padding_mask", dtype: q0.dtype)  // [B, S]
    if isCausal && attnMask == nil {
      throw TorchError(
        "MultiheadAttention: need attn_mask if specifying the is_causal hint; pass the causal mask as attnMask")
    }
    var useCausalKernel = false
    var mask: Tensor? = nil
    if isCausal && kpm == nil && !needWeights {
      useCausalKernel = true  // the mask is the causal one: let the kernel apply it
    } else {
      mask = try canonicalMask(attnMask, name: "attn_mask", dtype: q0.dtype)
    }

    // Input projections.
    let q: Tensor, k: Tensor, v: Tensor
    if sameQK && sameKV && !needWeights {
      // Self-attention into the fused kernel: q, k and v stay views of the packed projection (no copy); the
      // backward stacks their gradients straight into its layout.
      let proj = try F.linear(q0, weight: inProjWeight, bias: inProjBias)  // [L, B, 3E]
      let parts = try proj.reshape(tgtLen, bsz, 3, h, headDim)  // [L, B, 3, H, hd]
        .unbind(dim: 2)  // 3 × [L, B, H, hd]
      (q, k, v) = (parts[0], parts[1], parts[2])
    } else if sameQK && sameKV {
      let proj = try F.linear(q0, weight: inProjWeight, bias: inProjBias)  // [L, B, 3E]
      let split = try proj.unflatten(dim: -1, sizes: [3, e])  // [L, B, 3, E]
        .unsqueeze(0)  // [1, L, B, 3, E]
        .transpose(0, -2)  // [3, L, B, 1, E]
        .squeeze(-2)  // [3, L, B, E]
        .contiguous()  // [3, L, B, E]
      // unbind, not three selects: its backward writes one [3, L, B, E] gradient instead of three zero-filled
      // ones added together (same values).
      let parts = try split.unbind(dim: 0)  // 3 × [L, B, E]
      (q, k, v) = (parts[0], parts[1], parts[2])
    } else if sameKV {
      let w = try inProjWeight.split(sizes: [e, 2 * e], dim: 0)  // [E, E], [2E, E]
      let b = try inProjBias?.split(sizes: [e, 2 * e], dim: 0)  // [E], [2E]
      q = try F.linear(q0, weight: w[0], bias: b?[0])  // [L, B, E]
      let kv = try F.linear(k0, weight: w[1], bias: b?[1])  // [S, B, 2E]
        .unflatten(dim: -1, sizes: [2, e])  // [S, B, 2, E]
        .unsqueeze(0)  // [1, S, B, 2, E]
        .transpose(0, -2)  // [2, S, B, 1, E]
        .squeeze(-2)  // [2, S, B, E]
        .contiguous()  // [2, S, B, E]
      let parts = try kv.unbind(dim: 0)  // 2 × [S, B, E]
      (k, v) = (parts[0], parts[1])
    } else {
      let w = try inProjWeight.chunk(3, dim: 0)  // 3 × [E, E]
      let b = try inProjBias?.chunk(3, dim: 0)  // 3 × [E]
      q = try F.linear(q0, weight: w[0], bias: b?[0])  // [L, B, E]
      k = try F.linear(k0, weight: w[1], bias: b?[1])  // [S, B, E]
      v = try F.linear(v0, weight: w[2], bias: b?[2])  // [S, B, E]
    }

    // Attention mask to [1 or B·H, L, S].
    if let m = mask {
      if m.dim == 2 {
        guard m.shape == [tgtLen, srcLen] else {
          throw TorchError(
            "MultiheadAttention: the shape of the 2D attn_mask is \(m.shape), but should be \([tgtLen, srcLen])")
        }
        mask = try m.unsqueeze(0)  // [1, L, S]
      } else if m.dim == 3 {
        guard m.shape == [bsz * h, tgtLen, srcLen] else {
          throw TorchError(
            "MultiheadAttention: the shape of the 3D attn_mask is \(m.shape), but should be \([bsz * h, tgtLen, srcLen])"
          )
        }
      } else {
        throw TorchError(
          "MultiheadAttention: attn_mask's dimension \(m.dim) is not supported (use 2-D [L, S] or 3-D [B*H, L, S])")
      }
    }

    /// [len, B, E] (or the packed path's [len, B, H, hd] views) → [B, H, len, hd].
    func heads(_ t: Tensor, _ len: Int) throws -> Tensor {
      if t.dim == 4 { return try t.permute(1, 2, 0, 3) }  // [B, H, len, hd]
      return try t.view(len, bsz * h, headDim)  // [len, B·H, hd]
        .transpose(0, 1)  // [B·H, len, hd]
        .view(bsz, h, len, headDim)  // [B, H, len, hd]
    }

    if let kpm {
      guard kpm.shape == [bsz, srcLen] else {
        throw TorchError(
          "MultiheadAttention: expecting key_padding_mask shape of \([bsz, srcLen]), but got \(kpm.shape)")
      }
      let expanded = try kpm.view(bsz, 1, 1, srcLen)  // [B, 1, 1, S]
        .expand([-1, h, -1, -1])  // [B, H, 1, S]
        .reshape(bsz * h, 1, srcLen)  // [B·H, 1, S]
      mask = try mask.map { try $0.add(expanded) } ?? expanded  // [B·H, L or 1, S]
    }
    let dropoutP = training ? dropout : 0

    var output: Tensor
    var weights: Tensor? = nil
    if needWeights {
      let qh = try q.view(tgtLen, bsz * h, headDim).transpose(0, 1)  // [B·H, L, hd]
      let kh = try k.view(srcLen, bsz * h, headDim).transpose(0, 1)  // [B·H, S, hd]
      let vh = try v.view(srcLen, bsz * h, headDim).transpose(0, 1)  // [B·H, S, hd]
      let scaled = try qh.mul(.double((1.0 / Double(headDim)).squareRoot()))  // [B·H, L, hd]
      let kt = try kh.transpose(-2, -1)  // [B·H, hd, S]
      var w: Tensor
      if let m = mask {
        w = try ATen.baddbmm(m, batch1: scaled, batch2: kt)  // [B·H, L, S]
      } else {
        w = try scaled.bmm(kt)  // [B·H, L, S]
      }
      w = try w.softmax(dim: -1)  // [B·H, L, S]
      if dropoutP > 0 { w = try F.dropout(w, p: dropoutP) }  // [B·H, L, S]
      output = try w.bmm(vh)  // [B·H, L, hd]
      output = try output.transpose(0, 1)  // [L, B·H, hd]
        .contiguous()  // [L, B·H, hd]
        .view(tgtLen * bsz, e)  // [L·B, E]
      output = try F.linear(output, weight: outProj.weight, bias: outProj.bias)  // [L·B, E]
      output = try output.view(tgtLen, bsz, e)  // [L, B, E]
      w = try w.view(bsz, h, tgtLen, srcLen)  // [B, H, L, S]
      if averageAttnWeights { w = try w.mean(dim: 1) }  // [B, L, S]
      weights = batched ? w : try w.squeeze(0)  // [B, L, S] or [L, S]
    } else {
      if let m = mask {
        if m.shape[0] == 1 && m.dim == 3 {
          mask = try m.unsqueeze(0)  // [1, 1, L, S]
        } else {
          mask = try m.view(bsz, h, -1, srcLen)  // [B, H, L or 1, S]
        }
      }
      let q4 = try heads(q, tgtLen)  // [B, H, L, hd]
      let k4 = try heads(k, srcLen)  // [B, H, S, hd]
      let v4 = try heads(v, srcLen)  // [B, H, S, hd]
      output = try F.scaledDotProductAttention(
        q4, k4, v4, attnMask: mask, dropoutP: dropoutP,
        isCausal: useCausalKernel)  // [B, H, L, hd]
      output = try output.permute(2, 0, 1, 3)  // [L, B, H, hd]
        .contiguous()  // [L, B, H, hd]
        .view(bsz * tgtLen, e)  // [L·B, E]
      output = try F.linear(output, weight: outProj.weight, bias: outProj.bias)  // [L·B, E]
      output = try output.view(tgtLen, bsz, e)  // [L, B, E]
    }
    if !batched {
      output = try output.squeeze(1)  // [L, E]
    } else if batchFirst {
      output = try output.transpose(0, 1)  // [B, L, E]
    }
    return (output, weights)
  }
}

/// PyTorch's `_canonical_mask`: a boolean mask (true = masked out) becomes an additive float mask of
/// `dtype` with -inf at masked positions; a floating mask is kept; other dtypes are errors.
func canonicalMask(_ mask: Tensor?, name: String, dtype: DType) throws -> Tensor? {
  guard let mask else { return nil }
  if mask.dtype == .bool {
    return try mask.zerosLike(dtype: dtype).maskedFill_(mask, .double(-.infinity))
  }
  guard mask.dtype.isFloatingPoint else {
    throw TorchError("only bool and floating types of \(name) are supported, got \(mask.dtype)")
  }
  return mask
}
