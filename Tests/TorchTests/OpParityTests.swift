import XCTest

@testable import Torch

/// Forward values and gradients of TorchSwift ops against PyTorch (fixtures: Fixtures/make_op_fixtures.py),
/// and gradients against central finite differences in float64.
final class OpParityTests: XCTestCase {
  typealias Op = ([Tensor]) throws -> Tensor

  static let ops: [String: Op] = [
    "add": { try $0[0].add($0[1]) },
    "add_alpha": { try $0[0].add($0[1], alpha: 2.5) },
    "add_scalar": { $0[0] + 1.5 },
    "sub": { $0[0] - $0[1] },
    "rsub_scalar": { 2 - $0[0] },
    "mul": { $0[0] * $0[1] },
    "mul_scalar": { $0[0] * -3.0 },
    "div": { $0[0] / $0[1] },
    "div_scalar": { $0[0] / 4.0 },
    "rdiv_scalar": { 2.0 / $0[0] },
    "div_floor": { try $0[0].div($0[1], roundingMode: "floor") },
    "div_trunc": { try $0[0].div($0[1], roundingMode: "trunc") },
    "remainder": { try $0[0].remainder($0[1]) },
    "pow_scalar": { try $0[0].pow(3) },
    "pow_tensor": { try $0[0].pow($0[1]) },
    "neg": { -$0[0] },
    "matmul_2d": { try $0[0].matmul($0[1]) },
    "matmul_batched": { try $0[0].matmul($0[1]) },
    "matmul_vec": { try $0[0].matmul($0[1]) },
    "mm": { try $0[0].mm($0[1]) },
    "bmm": { try $0[0].bmm($0[1]) },
    "dot": { try $0[0].dot($0[1]) },
    "outer": { try $0[0].outer($0[1]) },
    "addmm": { try $0[0].addmm($0[1], $0[2], beta: 0.5, alpha: 2.0) },
    "addcmul": { try $0[0].addcmul($0[1], $0[2], value: 0.5) },
    "addcdiv": { try $0[0].addcdiv($0[1], $0[2], value: 0.5) },
    "lerp": { try $0[0].lerp($0[1], weight: 0.3) },
    "maximum": { try $0[0].maximum($0[1]) },
    "minimum": { try $0[0].minimum($0[1]) },
    "abs": { try $0[0].abs() },
    "exp": { try $0[0].exp() },
    "expm1": { try $0[0].expm1() },
    "log": { try $0[0].log() },
    "log1p": { try $0[0].log1p() },
    "log2": { try $0[0].log2() },
    "log10": { try $0[0].log10() },
    "sqrt": { try $0[0].sqrt() },
    "rsqrt": { try $0[0].rsqrt() },
    "square": { try $0[0].square() },
    "reciprocal": { try $0[0].reciprocal() },
    "sin": { try $0[0].sin() },
    "cos": { try $0[0].cos() },
    "tan": { try $0[0].tan() },
    "asin": { try $0[0].asin() },
    "acos": { try $0[0].acos() },
    "atan": { try $0[0].atan() },
    "atan2": { try $0[0].atan2($0[1]) },
    "sinh": { try $0[0].sinh() },
    "cosh": { try $0[0].cosh() },
    "tanh": { try $0[0].tanh() },
    "sigmoid": { try $0[0].sigmoid() },
    "erf": { try $0[0].erf() },
    "erfc": { try $0[0].erfc() },
    "erfinv": { try $0[0].erfinv() },
    "sign": { try $0[0].sign() },
    "floor": { try $0[0].floor() },
    "ceil": { try $0[0].ceil() },
    "round": { try $0[0].round() },
    "round_decimals": { try $0[0].round(decimals: 2) },
    "trunc": { try $0[0].trunc() },
    "frac": { try $0[0].frac() },
    "clamp": { try $0[0].clamp(min: -0.5, max: 0.5) },
    "clamp_min": { try $0[0].clamp(min: 0.1) },
    "nan_to_num": { try ($0[0] / ($0[0] .> 0.0).float()).nanToNum(nan: 0, posinf: 9, neginf: -9) },
    "relu": { try $0[0].relu() },
    "gelu": { try $0[0].gelu() },
    "gelu_tanh": { try $0[0].gelu(approximate: "tanh") },
    "silu": { try $0[0].silu() },
    "mish": { try $0[0].mish() },
    "elu": { try $0[0].elu() },
    "leaky_relu": { try $0[0].leakyRelu(negativeSlope: 0.2) },
    "softplus": { try $0[0].softplus() },
    "hardtanh": { try $0[0].hardtanh() },
    "logsigmoid": { try $0[0].logSigmoid() },
    "glu": { try $0[0].glu() },
    "softmax": { try $0[0].softmax(dim: -1) },
    "softmax_dim0": { try $0[0].softmax(dim: 0) },
    "log_softmax": { try $0[0].logSoftmax(dim: 1) },
    "layer_norm": { try F.layerNorm($0[0], normalizedShape: [6], weight: $0[1], bias: $0[2], eps: 1e-5) },
    "layer_norm_noaffine": { try F.layerNorm($0[0], normalizedShape: [3, 4], eps: 1e-6) },
    "linear": { try F.linear($0[0], weight: $0[1], bias: $0[2]) },
    "embedding": { try F.embedding($0[1], weight: $0[0]) },
    "embedding_padding": { try F.embedding($0[1], weight: $0[0], paddingIdx: 0) },
    "sdpa": { try F.scaledDotProductAttention($0[0], $0[1], $0[2]) },
    "sdpa_causal": { try F.scaledDotProductAttention($0[0], $0[1], $0[2], isCausal: true) },
    "sdpa_boolmask": { try F.scaledDotProductAttention($0[0], $0[1], $0[2], attnMask: $0[3]) },
    "sdpa_floatmask": { try F.scaledDotProductAttention($0[0], $0[1], $0[2], attnMask: $0[3]) },
    "normalize": { try F.normalize($0[0], dim: 1) },
    "pad": { try F.pad($0[0], [1, 2]) },
    "sum": { try $0[0].sum() },
    "sum_dim": { try $0[0].sum(dim: 1) },
    "sum_dims_keepdim": { try $0[0].sum(dims: [0, 2], keepdim: true) },
    "mean": { try $0[0].mean() },
    "mean_dim": { try $0[0].mean(dim: -1, keepdim: true) },
    "prod": { try $0[0].prod() },
    "prod_dim": { try $0[0].prod(dim: 1) },
    "var": { try $0[0].variance() },
    "var_dim_unbiased0": { try $0[0].variance(dims: [1], correction: 0) },
    "std": { try $0[0].std() },
    "std_dim": { try $0[0].std(dims: [0], keepdim: true) },
    "max_all": { try $0[0].max() },
    "min_all": { try $0[0].min() },
    "max_dim": { try $0[0].max(dim: 1).values },
    "max_dim_indices": { try $0[0].max(dim: 1).indices },
    "min_dim": { try $0[0].min(dim: 0, keepdim: true).values },
    "amax": { try $0[0].amax(dims: [0, 1]) },
    "amin": { try $0[0].amin(dims: [-1]) },
    "argmax": { try $0[0].argmax(dim: 1) },
    "argmin": { try $0[0].argmin() },
    "logsumexp": { try $0[0].logsumexp(dims: [1]) },
    "norm": { try $0[0].norm() },
    "norm_l1_dim": { try $0[0].norm(1, dims: [1]) },
    "cumsum": { try $0[0].cumsum(dim: 1) },
    "cumprod": { try $0[0].cumprod(dim: 0) },
    "all": { try $0[0].all(dim: 1) },
    "any": { try $0[0].any() },
    "eq": { $0[0] .== $0[1] },
    "ne_scalar": { $0[0] .!= 1 },
    "lt": { $0[0] .< $0[1] },
    "le_scalar": { $0[0] .<= 0.0 },
    "gt": { $0[0] .> $0[1] },
    "ge_scalar": { $0[0] .>= 0.5 },
    "where": { try Tensor.where($0[0], $0[1], $0[2]) },
    "where_scalar": { try Tensor.where($0[0], $0[1], 0.0) },
    "masked_fill": { try $0[0].maskedFill($0[1], -1e9) },
    "masked_select": { try $0[0].maskedSelect($0[1]) },
    "gather": { try $0[0].gather(dim: 1, index: $0[1]) },
    "index_select": { try $0[0].indexSelect(dim: 0, index: $0[1]) },
    "scatter": { try $0[0].scatter(dim: 1, index: $0[1], src: $0[2]) },
    "tril": { try $0[0].tril() },
    "triu_offset": { try $0[0].triu(1) },
    "sort_values": { try $0[0].sort(dim: 1).values },
    "sort_desc_indices": { try $0[0].sort(dim: 1, descending: true).indices },
    "topk": { try $0[0].topk(2, dim: 1).values },
    "flip": { try $0[0].flip([0, 1]) },
    "roll": { try $0[0].roll([1], dims: [1]) },
    "one_hot": { try $0[0].oneHot(numClasses: 5) },
    "clone": { try $0[0].clone() },
    "einsum": { try Tensor.einsum("bij,bjk->bik", [$0[0], $0[1]]) },
    "view": { try $0[0].view(4, 3) },
    "reshape": { try $0[0].reshape(-1, 2) },
    "permute": { try $0[0].permute(2, 0, 1) },
    "transpose": { try $0[0].transpose(0, 2) },
    "t": { try $0[0].t() },
    "contiguous_of_transpose": { try $0[0].t().contiguous() },
    "squeeze": { try $0[0].squeeze() },
    "squeeze_dim": { try $0[0].squeeze(2) },
    "unsqueeze": { try $0[0].unsqueeze(1) },
    "expand": { try $0[0].expand([3, 4]) },
    "flatten": { try $0[0].flatten(startDim: 1) },
    "unflatten": { try $0[0].unflatten(dim: 1, sizes: [2, 2]) },
    "narrow": { try $0[0].narrow(dim: 1, start: 1, length: 2) },
    "repeat": { try $0[0].repeat([2, 3]) },
    "repeat_interleave": { try $0[0].repeatInterleave(2, dim: 0) },
    "cat": { try Tensor.cat([$0[0], $0[1]], dim: 1) },
    "stack": { try Tensor.stack([$0[0], $0[1]], dim: 1) },
    "split_second": { try $0[0].split(2, dim: 1)[1] },
    "split_sizes_last": { try $0[0].split(sizes: [1, 4], dim: 1)[1] },
    "chunk_last": { try $0[0].chunk(3, dim: 0)[2] },
    "unbind_first": { try $0[0].unbind(dim: 1)[0] },
    "index_int": { $0[0][1] },
    "index_neg_slice": { $0[0][TensorIndex.all, (-3)...] },
    "index_step": { try $0[0].index([.slice(start: nil, end: nil, step: 2), .slice(start: 1, end: 4, step: 2)]) },
    "index_tensor": { $0[0][$0[1]] },
    "index_tensor_dim1": { $0[0][TensorIndex.all, $0[1]] },
    "index_mask": { $0[0][$0[1]] },
    "index_row_mask": { $0[0][$0[1]] },
    "index_newaxis_ellipsis": { $0[0][TensorIndex.newAxis, TensorIndex.ellipsis, 1] },
    "index_two_tensors": { $0[0][$0[1], $0[2]] },
    "cross_entropy": { try F.crossEntropy($0[0], $0[1]) },
    "cross_entropy_smooth_ignore": { try F.crossEntropy($0[0], $0[1], ignoreIndex: 1, labelSmoothing: 0.1) },
    "nll_loss": { try F.nllLoss($0[0].logSoftmax(dim: 1), $0[1]) },
    "mse_loss": { try F.mseLoss($0[0], $0[1]) },
    "bce_with_logits": { try F.binaryCrossEntropyWithLogits($0[0], $0[1]) },
    "kl_div_batchmean": { try F.klDiv($0[0].logSoftmax(dim: 1), $0[1].softmax(dim: 1), reduction: .batchmean) },
    "to_float64": { try $0[0].double() },
    "to_int": { try ($0[0] * 10).long() }
  ]

  struct Case {
    let name: String
    var inputs: [Tensor] = []
    var out: Tensor? = nil
    var w: Tensor? = nil
    var grads: [Int: Tensor] = [:]
  }

  static func loadCases() throws -> [Case] {
    let all = try Torch.load(fixturesDir + "/ops.pt")
    var cases: [String: Case] = [:]
    for (key, t) in all {
      let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
      var c = cases[parts[0]] ?? Case(name: parts[0])
      let field = parts[1]
      if field == "out" {
        c.out = t
      } else if field == "w" {
        c.w = t
      } else if field.hasPrefix("in"), let i = Int(field.dropFirst(2)) {
        while c.inputs.count <= i { c.inputs.append(t) }
        c.inputs[i] = t
      } else if field.hasPrefix("grad"), let i = Int(field.dropFirst(4)) {
        c.grads[i] = t
      }
      cases[parts[0]] = c
    }
    return cases.values.sorted { $0.name < $1.name }
  }

  func testEveryFixtureHasAnOpAndViceVersa() throws {
    let names = Set(try Self.loadCases().map(\.name))
    XCTAssertGreaterThanOrEqual(names.count, 100)
    XCTAssertEqual(names.subtracting(Self.ops.keys), [], "fixtures without a Swift op")
    XCTAssertEqual(Set(Self.ops.keys).subtracting(names), [], "Swift ops without a fixture")
  }

  func testForwardAndGradientsMatchPyTorch() throws {
    var checked = 0
    var withGrad = 0
    for c in try Self.loadCases() {
      guard let op = Self.ops[c.name], let expected = c.out else { continue }
      let inputs = try c.inputs.enumerated().map { i, t in
        try c.grads[i] != nil ? t.clone().requiresGrad_() : t
      }
      let out = try op(inputs)
      try assertClose(out, expected, rtol: 1e-5, atol: 1e-6, "\(c.name) forward")
      checked += 1
      if let w = c.w {
        try out.mul(w).sum().backward()
        for (i, g) in c.grads {
          guard let grad = inputs[i].grad else { XCTFail("\(c.name): no gradient for input \(i)"); continue }
          try assertClose(grad, g, rtol: 1e-5, atol: 1e-5, "\(c.name) grad of input \(i)")
        }
        withGrad += 1
      }
    }
    print("op parity: \(checked) ops checked forward, \(withGrad) with gradients")
    XCTAssertGreaterThanOrEqual(checked, 100)
  }

  /// Ops whose gradient is not the mathematical derivative by definition.
  static let finiteDifferenceExempt: Set<String> = [
    "embedding_padding"  // the padding_idx row receives no gradient, as in PyTorch
  ]

  /// Analytical gradients (libtorch's autograd, float64) against central differences.
  func testGradientsMatchFiniteDifferences() throws {
    var checked = 0
    for c in try Self.loadCases() where c.w != nil && !Self.finiteDifferenceExempt.contains(c.name) {
      guard let op = Self.ops[c.name], let w = c.w else { continue }
      let w64 = try w.double()
      let inputs = try c.inputs.map { $0.dtype.isFloatingPoint ? try $0.double() : $0 }
      // sum((f(x+h) - f(x-h)) * w): subtracting before summing keeps large constant outputs from cancelling.
      func weightedDifference(_ up: [Tensor], _ down: [Tensor]) throws -> Double {
        try op(up).sub(op(down)).mul(w64).sum().item(Double.self)
      }
      for i in c.grads.keys.sorted() {
        let x = try inputs[i].clone().requiresGrad_()
        var xs = inputs
        xs[i] = x
        let y = try op(xs)
        try y.mul(w64).sum().backward()
        let analytic = try x.grad!.toArray(Double.self)
        var values = try inputs[i].toArray(Double.self)
        let shape = inputs[i].shape
        let eps = 1e-6
        for k in 0..<values.count {
          let orig = values[k]
          values[k] = orig + eps
          var up = inputs
          up[i] = try Tensor(values, shape: shape)
          values[k] = orig - eps
          var down = inputs
          down[i] = try Tensor(values, shape: shape)
          values[k] = orig
          let numeric = try weightedDifference(up, down) / (2 * eps)
          let tol = 1e-5 + 1e-4 * Swift.abs(numeric)
          if Swift.abs(numeric - analytic[k]) > tol {
            XCTFail("\(c.name): d/d input\(i)[\(k)] analytic \(analytic[k]) vs numeric \(numeric)")
            break
          }
        }
        checked += 1
      }
    }
    print("finite differences: \(checked) input gradients checked in float64")
    XCTAssertGreaterThan(checked, 100)
  }
}
