import CTorch

// Reductions over all elements or over `dims` (keepdim as in PyTorch).
extension Tensor {
  public func sum(dtype: DType? = nil) throws -> Tensor { try ATen.sum(self, dtype: dtype) }
  public func sum(dims: [Int], keepdim: Bool = false, dtype: DType? = nil) throws -> Tensor {
    try ATen.sum_dim_IntList(self, dim: dims, keepdim: keepdim, dtype: dtype)
  }
  public func sum(dim: Int, keepdim: Bool = false, dtype: DType? = nil) throws -> Tensor {
    try sum(dims: [dim], keepdim: keepdim, dtype: dtype)
  }
  public func mean(dtype: DType? = nil) throws -> Tensor { try ATen.mean(self, dtype: dtype) }
  public func mean(dims: [Int], keepdim: Bool = false, dtype: DType? = nil) throws -> Tensor {
    try ATen.mean_dim(self, dim: dims, keepdim: keepdim, dtype: dtype)
  }
  public func mean(dim: Int, keepdim: Bool = false, dtype: DType? = nil) throws -> Tensor {
    try mean(dims: [dim], keepdim: keepdim, dtype: dtype)
  }
  public func prod(dtype: DType? = nil) throws -> Tensor { try ATen.prod(self, dtype: dtype) }
  public func prod(dim: Int, keepdim: Bool = false, dtype: DType? = nil) throws -> Tensor {
    try ATen.prod_dim_int(self, dim: dim, keepdim: keepdim, dtype: dtype)
  }
  /// Variance with Bessel's correction by default (`correction: 1`), as `torch.var`.
  public func variance(dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) throws -> Tensor {
    try ATen.var_correction(self, dim: dims, correction: .double(correction), keepdim: keepdim)
  }
  public func std(dims: [Int]? = nil, correction: Double = 1, keepdim: Bool = false) throws -> Tensor {
    try ATen.std_correction(self, dim: dims, correction: .double(correction), keepdim: keepdim)
  }
  public func max() throws -> Tensor { try ATen.max(self) }
  public func min() throws -> Tensor { try ATen.min(self) }
  public func max(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    let (v, i) = try ATen.max_dim(self, dim: dim, keepdim: keepdim)
    return (v, i)
  }
  public func min(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    let (v, i) = try ATen.min_dim(self, dim: dim, keepdim: keepdim)
    return (v, i)
  }
  public func amax(dims: [Int] = [], keepdim: Bool = false) throws -> Tensor {
    try ATen.amax(self, dim: dims, keepdim: keepdim)
  }
  public func amin(dims: [Int] = [], keepdim: Bool = false) throws -> Tensor {
    try ATen.amin(self, dim: dims, keepdim: keepdim)
  }
  public func argmax(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
    try ATen.argmax(self, dim: dim, keepdim: keepdim)
  }
  public func argmin(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
    try ATen.argmin(self, dim: dim, keepdim: keepdim)
  }
  public func logsumexp(dims: [Int], keepdim: Bool = false) throws -> Tensor {
    try ATen.logsumexp(self, dim: dims, keepdim: keepdim)
  }
  public func all() throws -> Tensor { try ATen.all(self) }
  public func any() throws -> Tensor { try ATen.any(self) }
  public func all(dim: Int, keepdim: Bool = false) throws -> Tensor {
    try ATen.all_dim(self, dim: dim, keepdim: keepdim)
  }
  public func any(dim: Int, keepdim: Bool = false) throws -> Tensor {
    try ATen.any_dim(self, dim: dim, keepdim: keepdim)
  }
  /// The p-norm over all elements or `dims`.
  public func norm(_ p: Double = 2, dims: [Int]? = nil, keepdim: Bool = false) throws -> Tensor {
    try ATen.linalg_vector_norm(self, ord: .double(p), dim: dims, keepdim: keepdim)
  }
}
