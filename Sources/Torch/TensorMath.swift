import CTorch

// Element-wise math, comparisons and selection.
extension Tensor {
  public func abs() throws -> Tensor { try ATen.abs(self) }
  public func exp() throws -> Tensor { try ATen.exp(self) }
  public func expm1() throws -> Tensor { try ATen.expm1(self) }
  public func log() throws -> Tensor { try ATen.log(self) }
  public func log1p() throws -> Tensor { try ATen.log1p(self) }
  public func log2() throws -> Tensor { try ATen.log2(self) }
  public func log10() throws -> Tensor { try ATen.log10(self) }
  public func sqrt() throws -> Tensor { try ATen.sqrt(self) }
  public func rsqrt() throws -> Tensor { try ATen.rsqrt(self) }
  public func square() throws -> Tensor { try ATen.square(self) }
  public func reciprocal() throws -> Tensor { try ATen.reciprocal(self) }
  public func sin() throws -> Tensor { try ATen.sin(self) }
  public func cos() throws -> Tensor { try ATen.cos(self) }
  public func tan() throws -> Tensor { try ATen.tan(self) }
  public func asin() throws -> Tensor { try ATen.asin(self) }
  public func acos() throws -> Tensor { try ATen.acos(self) }
  public func atan() throws -> Tensor { try ATen.atan(self) }
  public func atan2(_ other: Tensor) throws -> Tensor { try ATen.atan2(self, other: other) }
  public func sinh() throws -> Tensor { try ATen.sinh(self) }
  public func cosh() throws -> Tensor { try ATen.cosh(self) }
  public func tanh() throws -> Tensor { try ATen.tanh(self) }
  public func sigmoid() throws -> Tensor { try ATen.sigmoid(self) }
  public func erf() throws -> Tensor { try ATen.erf(self) }
  public func erfc() throws -> Tensor { try ATen.erfc(self) }
  public func erfinv() throws -> Tensor { try ATen.erfinv(self) }
  public func sign() throws -> Tensor { try ATen.sign(self) }
  public func floor() throws -> Tensor { try ATen.floor(self) }
  public func ceil() throws -> Tensor { try ATen.ceil(self) }
  public func round(decimals: Int = 0) throws -> Tensor {
    decimals == 0 ? try ATen.round(self) : try ATen.round_decimals(self, decimals: decimals)
  }
  public func trunc() throws -> Tensor { try ATen.trunc(self) }
  public func frac() throws -> Tensor { try ATen.frac(self) }
  public func clamp(min: Scalar? = nil, max: Scalar? = nil) throws -> Tensor {
    try ATen.clamp(self, min: min, max: max)
  }
  public func clamp(min: Tensor?, max: Tensor?) throws -> Tensor { try ATen.clamp_Tensor(self, min: min, max: max) }
  public func nanToNum(nan: Double? = nil, posinf: Double? = nil, neginf: Double? = nil) throws -> Tensor {
    try ATen.nan_to_num(self, nan: nan, posinf: posinf, neginf: neginf)
  }
  public func isnan() throws -> Tensor { try ATen.isnan(self) }
  public func isinf() throws -> Tensor { try ATen.isinf(self) }
  public func isfinite() throws -> Tensor { try ATen.isfinite(self) }
  public func logicalNot() throws -> Tensor { try ATen.logical_not(self) }
  public func logicalAnd(_ other: Tensor) throws -> Tensor { try ATen.logical_and(self, other: other) }
  public func logicalOr(_ other: Tensor) throws -> Tensor { try ATen.logical_or(self, other: other) }
  public func logicalXor(_ other: Tensor) throws -> Tensor { try ATen.logical_xor(self, other: other) }

  // MARK: comparisons (bool tensors)
  public func eq(_ other: Tensor) throws -> Tensor { try ATen.eq_Tensor(self, other: other) }
  public func eq(_ other: Scalar) throws -> Tensor { try ATen.eq_Scalar(self, other: other) }
  public func ne(_ other: Tensor) throws -> Tensor { try ATen.ne_Tensor(self, other: other) }
  public func ne(_ other: Scalar) throws -> Tensor { try ATen.ne_Scalar(self, other: other) }
  public func lt(_ other: Tensor) throws -> Tensor { try ATen.lt_Tensor(self, other: other) }
  public func lt(_ other: Scalar) throws -> Tensor { try ATen.lt_Scalar(self, other: other) }
  public func le(_ other: Tensor) throws -> Tensor { try ATen.le_Tensor(self, other: other) }
  public func le(_ other: Scalar) throws -> Tensor { try ATen.le_Scalar(self, other: other) }
  public func gt(_ other: Tensor) throws -> Tensor { try ATen.gt_Tensor(self, other: other) }
  public func gt(_ other: Scalar) throws -> Tensor { try ATen.gt_Scalar(self, other: other) }
  public func ge(_ other: Tensor) throws -> Tensor { try ATen.ge_Tensor(self, other: other) }
  public func ge(_ other: Scalar) throws -> Tensor { try ATen.ge_Scalar(self, other: other) }
  /// True when both have the same shape and elements (`torch.equal`).
  public func equal(_ other: Tensor) throws -> Bool { try ATen.equal(self, other: other) }
  /// `torch.allclose`.
  public func allclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) throws -> Bool
  {
    try ATen.allclose(self, other: other, rtol: rtol, atol: atol, equal_nan: equalNaN)
  }

  // MARK: selection
  /// Elements of `self` where `condition` holds, `other` elsewhere (`torch.where(cond, self, other)`).
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    try ATen.where_self(condition, self: a, other: b)
  }
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Scalar) throws -> Tensor {
    try ATen.where_ScalarOther(condition, self: a, other: b)
  }
  public static func `where`(_ condition: Tensor, _ a: Scalar, _ b: Tensor) throws -> Tensor {
    try ATen.where_ScalarSelf(condition, self: a, other: b)
  }
  public func maskedFill(_ mask: Tensor, _ value: Scalar) throws -> Tensor {
    try ATen.masked_fill_Scalar(self, mask: mask, value: value)
  }
  public func maskedFill(_ mask: Tensor, _ value: Tensor) throws -> Tensor {
    try ATen.masked_fill_Tensor(self, mask: mask, value: value)
  }
  public func maskedSelect(_ mask: Tensor) throws -> Tensor { try ATen.masked_select(self, mask: mask) }
  public func gather(dim: Int, index: Tensor) throws -> Tensor { try ATen.gather(self, dim: dim, index: index) }
  public func indexSelect(dim: Int, index: Tensor) throws -> Tensor {
    try ATen.index_select(self, dim: dim, index: index)
  }
  public func scatter(dim: Int, index: Tensor, src: Tensor) throws -> Tensor {
    try ATen.scatter_src(self, dim: dim, index: index, src: src)
  }
  public func nonzero() throws -> Tensor { try ATen.nonzero(self) }
  public func tril(_ diagonal: Int = 0) throws -> Tensor { try ATen.tril(self, diagonal: diagonal) }
  public func triu(_ diagonal: Int = 0) throws -> Tensor { try ATen.triu(self, diagonal: diagonal) }
  public func sort(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    let (v, i) = try ATen.sort(self, dim: dim, descending: descending)
    return (v, i)
  }
  public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) throws -> (
    values: Tensor, indices: Tensor
  ) {
    let (v, i) = try ATen.topk(self, k: k, dim: dim, largest: largest, sorted: sorted)
    return (v, i)
  }
  public func argsort(dim: Int = -1, descending: Bool = false) throws -> Tensor {
    try sort(dim: dim, descending: descending).indices
  }
  public func cumsum(dim: Int, dtype: DType? = nil) throws -> Tensor { try ATen.cumsum(self, dim: dim, dtype: dtype) }
  public func cumprod(dim: Int, dtype: DType? = nil) throws -> Tensor { try ATen.cumprod(self, dim: dim, dtype: dtype) }
  public func flip(_ dims: [Int]) throws -> Tensor { try ATen.flip(self, dims: dims) }
  public func roll(_ shifts: [Int], dims: [Int] = []) throws -> Tensor {
    try ATen.roll(self, shifts: shifts, dims: dims)
  }
  public func oneHot(numClasses: Int = -1) throws -> Tensor { try ATen.one_hot(self, num_classes: numClasses) }
  public func clone() throws -> Tensor { try ATen.clone(self) }
  /// Samples `n` indices per row from the probabilities in `self`.
  public func multinomial(_ n: Int, replacement: Bool = false) throws -> Tensor {
    try ATen.multinomial(self, num_samples: n, replacement: replacement)
  }
  public static func einsum(_ equation: String, _ operands: [Tensor]) throws -> Tensor {
    try ATen.einsum(equation, tensors: operands)
  }
}
