import CTorch

// Arithmetic with broadcasting. Named methods throw libtorch's error; operators stop the program with
// it (see `TorchError`). Scalars on either side follow PyTorch's type promotion.
extension Tensor {
  public func add(_ other: Tensor, alpha: Scalar = 1) throws -> Tensor {
    try ATen.add_Tensor(self, other: other, alpha: alpha)
  }
  public func add(_ other: Scalar, alpha: Scalar = 1) throws -> Tensor {
    try ATen.add_Scalar(self, other: other, alpha: alpha)
  }
  public func sub(_ other: Tensor, alpha: Scalar = 1) throws -> Tensor {
    try ATen.sub_Tensor(self, other: other, alpha: alpha)
  }
  public func sub(_ other: Scalar, alpha: Scalar = 1) throws -> Tensor {
    try ATen.sub_Scalar(self, other: other, alpha: alpha)
  }
  public func mul(_ other: Tensor) throws -> Tensor { try ATen.mul_Tensor(self, other: other) }
  public func mul(_ other: Scalar) throws -> Tensor { try ATen.mul_Scalar(self, other: other) }
  /// True division; `roundingMode` "trunc" or "floor" as `torch.div`.
  public func div(_ other: Tensor, roundingMode: String? = nil) throws -> Tensor {
    roundingMode == nil
      ? try ATen.div_Tensor(self, other: other)
      : try ATen.div_Tensor_mode(self, other: other, rounding_mode: roundingMode)
  }
  public func div(_ other: Scalar, roundingMode: String? = nil) throws -> Tensor {
    roundingMode == nil
      ? try ATen.div_Scalar(self, other: other)
      : try ATen.div_Scalar_mode(self, other: other, rounding_mode: roundingMode)
  }
  public func remainder(_ other: Tensor) throws -> Tensor { try ATen.remainder_Tensor(self, other: other) }
  public func remainder(_ other: Scalar) throws -> Tensor { try ATen.remainder_Scalar(self, other: other) }
  public func floorDivide(_ other: Tensor) throws -> Tensor { try ATen.floor_divide(self, other: other) }
  public func pow(_ exponent: Tensor) throws -> Tensor { try ATen.pow_Tensor_Tensor(self, exponent: exponent) }
  public func pow(_ exponent: Scalar) throws -> Tensor { try ATen.pow_Tensor_Scalar(self, exponent: exponent) }
  public func neg() throws -> Tensor { try ATen.neg(self) }
  public func matmul(_ other: Tensor) throws -> Tensor { try ATen.matmul(self, other: other) }
  public func mm(_ other: Tensor) throws -> Tensor { try ATen.mm(self, mat2: other) }
  public func bmm(_ other: Tensor) throws -> Tensor { try ATen.bmm(self, mat2: other) }
  public func dot(_ other: Tensor) throws -> Tensor { try ATen.dot(self, tensor: other) }
  public func outer(_ other: Tensor) throws -> Tensor { try ATen.outer(self, vec2: other) }
  public func addmm(_ mat1: Tensor, _ mat2: Tensor, beta: Scalar = 1, alpha: Scalar = 1) throws -> Tensor {
    try ATen.addmm(self, mat1: mat1, mat2: mat2, beta: beta, alpha: alpha)
  }
  public func addcmul(_ t1: Tensor, _ t2: Tensor, value: Scalar = 1) throws -> Tensor {
    try ATen.addcmul(self, tensor1: t1, tensor2: t2, value: value)
  }
  public func addcdiv(_ t1: Tensor, _ t2: Tensor, value: Scalar = 1) throws -> Tensor {
    try ATen.addcdiv(self, tensor1: t1, tensor2: t2, value: value)
  }
  public func lerp(_ end: Tensor, weight: Scalar) throws -> Tensor {
    try ATen.lerp_Scalar(self, end: end, weight: weight)
  }
  public func maximum(_ other: Tensor) throws -> Tensor { try ATen.maximum(self, other: other) }
  public func minimum(_ other: Tensor) throws -> Tensor { try ATen.minimum(self, other: other) }

  // MARK: in place (return self)

  @discardableResult public func add_(_ other: Tensor, alpha: Scalar = 1) throws -> Tensor {
    _ = try ATen.add__Tensor(self, other: other, alpha: alpha); return self
  }
  @discardableResult public func add_(_ other: Scalar, alpha: Scalar = 1) throws -> Tensor {
    _ = try ATen.add__Scalar(self, other: other, alpha: alpha); return self
  }
  @discardableResult public func sub_(_ other: Tensor, alpha: Scalar = 1) throws -> Tensor {
    _ = try ATen.sub__Tensor(self, other: other, alpha: alpha); return self
  }
  @discardableResult public func sub_(_ other: Scalar, alpha: Scalar = 1) throws -> Tensor {
    _ = try ATen.sub__Scalar(self, other: other, alpha: alpha); return self
  }
  @discardableResult public func mul_(_ other: Tensor) throws -> Tensor {
    _ = try ATen.mul__Tensor(self, other: other); return self
  }
  @discardableResult public func mul_(_ other: Scalar) throws -> Tensor {
    _ = try ATen.mul__Scalar(self, other: other); return self
  }
  @discardableResult public func div_(_ other: Tensor) throws -> Tensor {
    _ = try ATen.div__Tensor(self, other: other); return self
  }
  @discardableResult public func div_(_ other: Scalar) throws -> Tensor {
    _ = try ATen.div__Scalar(self, other: other); return self
  }
  @discardableResult public func pow_(_ exponent: Scalar) throws -> Tensor {
    _ = try ATen.pow__Scalar(self, exponent: exponent); return self
  }
  @discardableResult public func addcmul_(_ t1: Tensor, _ t2: Tensor, value: Scalar = 1) throws -> Tensor {
    _ = try ATen.addcmul_(self, tensor1: t1, tensor2: t2, value: value); return self
  }
  @discardableResult public func addcdiv_(_ t1: Tensor, _ t2: Tensor, value: Scalar = 1) throws -> Tensor {
    _ = try ATen.addcdiv_(self, tensor1: t1, tensor2: t2, value: value); return self
  }
  @discardableResult public func lerp_(_ end: Tensor, weight: Scalar) throws -> Tensor {
    _ = try ATen.lerp__Scalar(self, end: end, weight: weight); return self
  }
  @discardableResult public func clamp_(min: Scalar? = nil, max: Scalar? = nil) throws -> Tensor {
    _ = try ATen.clamp_(self, min: min, max: max); return self
  }
  @discardableResult public func fill_(_ value: Scalar) throws -> Tensor {
    _ = try ATen.fill__Scalar(self, value: value); return self
  }
  @discardableResult public func zero_() throws -> Tensor { _ = try ATen.zero_(self); return self }
  /// Copies `src` (broadcast, converted, moved) into this tensor.
  @discardableResult public func copy_(_ src: Tensor, nonBlocking: Bool = false) throws -> Tensor {
    _ = try ATen.copy_(self, src: src, non_blocking: nonBlocking); return self
  }
  @discardableResult public func uniform_(from: Double = 0, to: Double = 1) throws -> Tensor {
    _ = try ATen.uniform_(self, from: from, to: to); return self
  }
  @discardableResult public func normal_(mean: Double = 0, std: Double = 1) throws -> Tensor {
    _ = try ATen.normal_(self, mean: mean, std: std); return self
  }
  @discardableResult public func maskedFill_(_ mask: Tensor, _ value: Scalar) throws -> Tensor {
    _ = try ATen.masked_fill__Scalar(self, mask: mask, value: value); return self
  }
}

// MARK: operators

public func + (a: Tensor, b: Tensor) -> Tensor { trapping { try a.add(b) } }
public func - (a: Tensor, b: Tensor) -> Tensor { trapping { try a.sub(b) } }
public func * (a: Tensor, b: Tensor) -> Tensor { trapping { try a.mul(b) } }
public func / (a: Tensor, b: Tensor) -> Tensor { trapping { try a.div(b) } }
public func % (a: Tensor, b: Tensor) -> Tensor { trapping { try a.remainder(b) } }
public prefix func - (a: Tensor) -> Tensor { trapping { try a.neg() } }

public func + (a: Tensor, b: Scalar) -> Tensor { trapping { try a.add(b) } }
public func - (a: Tensor, b: Scalar) -> Tensor { trapping { try a.sub(b) } }
public func * (a: Tensor, b: Scalar) -> Tensor { trapping { try a.mul(b) } }
public func / (a: Tensor, b: Scalar) -> Tensor { trapping { try a.div(b) } }
public func % (a: Tensor, b: Scalar) -> Tensor { trapping { try a.remainder(b) } }
public func + (a: Scalar, b: Tensor) -> Tensor { trapping { try b.add(a) } }
public func - (a: Scalar, b: Tensor) -> Tensor { trapping { try ATen.rsub_Scalar(b, other: a) } }
public func * (a: Scalar, b: Tensor) -> Tensor { trapping { try b.mul(a) } }
public func / (a: Scalar, b: Tensor) -> Tensor { trapping { try b.reciprocal().mul(a) } }

public func += (a: Tensor, b: Tensor) { trapping { try a.add_(b) } }
public func -= (a: Tensor, b: Tensor) { trapping { try a.sub_(b) } }
public func *= (a: Tensor, b: Tensor) { trapping { try a.mul_(b) } }
public func /= (a: Tensor, b: Tensor) { trapping { try a.div_(b) } }
public func += (a: Tensor, b: Scalar) { trapping { try a.add_(b) } }
public func -= (a: Tensor, b: Scalar) { trapping { try a.sub_(b) } }
public func *= (a: Tensor, b: Scalar) { trapping { try a.mul_(b) } }
public func /= (a: Tensor, b: Scalar) { trapping { try a.div_(b) } }

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

/// Element-wise comparisons returning bool tensors (Swift's `==` stays identity-free equality of values).
public func .== (a: Tensor, b: Tensor) -> Tensor { trapping { try a.eq(b) } }
public func .!= (a: Tensor, b: Tensor) -> Tensor { trapping { try a.ne(b) } }
public func .< (a: Tensor, b: Tensor) -> Tensor { trapping { try a.lt(b) } }
public func .<= (a: Tensor, b: Tensor) -> Tensor { trapping { try a.le(b) } }
public func .> (a: Tensor, b: Tensor) -> Tensor { trapping { try a.gt(b) } }
public func .>= (a: Tensor, b: Tensor) -> Tensor { trapping { try a.ge(b) } }
public func .== (a: Tensor, b: Scalar) -> Tensor { trapping { try a.eq(b) } }
public func .!= (a: Tensor, b: Scalar) -> Tensor { trapping { try a.ne(b) } }
public func .< (a: Tensor, b: Scalar) -> Tensor { trapping { try a.lt(b) } }
public func .<= (a: Tensor, b: Scalar) -> Tensor { trapping { try a.le(b) } }
public func .> (a: Tensor, b: Scalar) -> Tensor { trapping { try a.gt(b) } }
public func .>= (a: Tensor, b: Scalar) -> Tensor { trapping { try a.ge(b) } }
