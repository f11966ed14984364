import Foundation
import Torch

/// What `SemiStructuredSparsity.prune` did.
public struct SparsityReport: CustomStringConvertible, Sendable {
  public var pruned: [String] = []
  public var skipped: [(name: String, reason: String)] = []
  /// Weights set to zero, of the pruned layers' weights.
  public var zeroed = 0
  public var total = 0

  public var description: String {
    var lines = [
      "sparsity 2:4: \(pruned.count) linear layer(s) pruned by magnitude, \(zeroed) of \(total) weights zeroed"
    ]
    for s in skipped.prefix(8) { lines.append("sparsity 2:4: kept \(s.name) dense: \(s.reason)") }
    return lines.joined(separator: "\n")
  }
}

/// 2:4 semi-structured sparsity (NVIDIA Ampere+ sparse tensor cores; PyTorch's `to_sparse_semi_structured`): in
/// every 4 consecutive weights of a row, 2 are zero. `prune` zeroes the 2 smallest by magnitude and keeps the mask
/// on each layer (`weight_mask`, a non-persistent buffer); `applyMasks` re-zeroes them after an optimizer step, so
/// fine-tuning keeps the pattern. On the CPU the pruned weights run dense; on CUDA `SemiStructuredLinear` runs them
/// through cuSPARSELt (`_cslt_compress` + `_cslt_sparse_mm`).
public enum SemiStructuredSparsity {
  /// The 2:4 mask of `w [out, in]` (`in` a multiple of 4), in w's dtype: 1 for the 2 largest |w| of each group of 4.
  public static func mask(_ w: Tensor) throws -> Tensor {
    try withNoGrad {
      let groups = try w.detach().abs().reshape(-1, 4)  // [out · in/4, 4]
      let keep = try groups.topk(2, dim: 1).1  // [·, 2]
      let m = try Tensor.zeros(groups.shape, dtype: w.dtype, device: w.device)
      return try m.scatter(dim: 1, index: keep, src: Tensor.ones(keep.shape, dtype: w.dtype, device: w.device))
        .reshape(w.shape)
    }
  }

  /// Whether every group of 4 consecutive weights in each row has at most 2 non-zeros.
  public static func isTwoFour(_ w: Tensor) throws -> Bool {
    guard w.dim == 2, w.shape[1] % 4 == 0 else { return false }
    let nonzero = try w.detach().ne(0).to(dtype: .int32).reshape(-1, 4).sum(dims: [1])
    return try nonzero.max().item(Int.self) <= 2
  }

  /// Prunes every `Linear` of `model` (but those `skip` names) to 2:4 by magnitude, in place, and keeps each mask as
  /// the layer's `weight_mask` buffer (not saved). Layers whose `in_features` is not a multiple of 4 stay dense.
  @discardableResult
  public static func prune(_ model: Module, skip: [String] = defaultQuantizationSkip) throws -> SparsityReport {
    var report = SparsityReport()
    for (name, module) in model.namedModules() {
      guard let linear = module as? Linear, !(linear is QuantizedLinear) else { continue }
      if isSkipped(name, skip) {
        report.skipped.append((name, "skipped by default (output head)"))
        continue
      }
      guard linear.inFeatures % 4 == 0 else {
        report.skipped.append((name, "in_features \(linear.inFeatures) is not a multiple of 4"))
        continue
      }
      let m = try mask(linear.weight)
      try withNoGrad { _ = try linear.weight.mul_(m) }
      try linear.registerBuffer("weight_mask", m, persistent: false)
      report.pruned.append(name)
      report.total += linear.weight.numel
      report.zeroed += linear.weight.numel / 2
    }
    return report
  }

  /// Re-applies every layer's `weight_mask` (w ← w ⊙ mask), e.g. after each optimizer step.
  public static func applyMasks(_ model: Module) throws {
    try withNoGrad {
      for case let linear as Linear in model.modules() {
        guard let m = linear.namedBuffers(recurse: false).first(where: { $0.0 == "weight_mask" })?.1 else { continue }
        _ = try linear.weight.mul_(m.dtype == linear.weight.dtype ? m : m.to(dtype: linear.weight.dtype))
      }
    }
  }

  /// Replaces every 2:4-sparse `Linear` of `model` on a CUDA device by a `SemiStructuredLinear` (cuSPARSELt);
  /// returns the names replaced. Does nothing on the CPU, where the pruned weights run dense.
  @discardableResult
  public static func accelerate(_ model: Module) throws -> [String] {
    var done: [String] = []
    let all = Dictionary(model.namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    for (name, module) in model.namedModules() {
      guard let linear = module as? Linear, !(linear is QuantizedLinear), !(linear is SemiStructuredLinear),
        linear.weight.device != .cpu, try isTwoFour(linear.weight)
      else { continue }
      let s = try SemiStructuredLinear(linear)
      let (parent, key) = splitName(name)
      try all[parent]!.replaceChild(named: key, with: s)
      done.append(name)
    }
    return done
  }
}

/// A 2:4-sparse `Linear` run by cuSPARSELt on CUDA (float16/bfloat16): the weight compressed once by
/// `_cslt_compress`, `y = x Wᵀ + b` by `_cslt_sparse_mm`. Inference only. Untested on hardware in this repository's CI.
public final class SemiStructuredLinear: Linear {
  private let compressed: Tensor

  public init(_ linear: Linear) throws {
    let w = try linear.weight.detach()
    guard w.device != .cpu else { throw TorchError("SemiStructuredLinear: cuSPARSELt runs on CUDA only") }
    guard [.float16, .bfloat16].contains(w.dtype) else {
      throw TorchError("SemiStructuredLinear: weights must be float16 or bfloat16 on CUDA, got \(w.dtype)")
    }
    compressed = try ATen._cslt_compress(w.contiguous())
    try super.init(
      inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, bufferWeight: w,
      bias: try linear.bias?.detach())
  }

  public override func forward(_ input: Tensor) throws -> Tensor {
    guard input.dim >= 1, input.shape.last == inFeatures else {
      throw TorchError("\(typeName): expected input with last dimension \(inFeatures), got shape \(input.shape)")
    }
    let lead = Array(input.shape.dropLast())
    let x = try input.reshape(-1, inFeatures).to(dtype: weight.dtype)  // [M, in]
    // W [out, in] (compressed) · xᵀ [in, M] → [out, M].
    var y = try ATen._cslt_sparse_mm(compressed, dense_B: x.t()).t()  // [M, out]
    if let bias { y = try y.add(bias.to(dtype: y.dtype)) }
    return try y.reshape(lead + [outFeatures]).to(dtype: input.dtype)
  }
}
