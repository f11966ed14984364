import CTorch

// Views and shape manipulation. Views share storage with `self`, as in PyTorch.
extension Tensor {
  public func view(_ shape: [Int]) throws -> Tensor { try ATen.view(self, size: shape) }
  public func view(_ shape: Int...) throws -> Tensor { try view(shape) }
  public func reshape(_ shape: [Int]) throws -> Tensor { try ATen.reshape(self, shape: shape) }
  public func reshape(_ shape: Int...) throws -> Tensor { try reshape(shape) }
  public func permute(_ dims: [Int]) throws -> Tensor { try ATen.permute(self, dims: dims) }
  public func permute(_ dims: Int...) throws -> Tensor { try permute(dims) }
  public func transpose(_ dim0: Int, _ dim1: Int) throws -> Tensor {
    try ATen.transpose_int(self, dim0: dim0, dim1: dim1)
  }
  /// Transpose of a matrix (`tensor.t()`).
  public func t() throws -> Tensor { try ATen.t(self) }
  /// Reverses all dimensions (`tensor.mT` for the last two: use `transpose(-2, -1)`).
  public func contiguous() throws -> Tensor {
    isContiguous ? self : try ATen.contiguous(self, memory_format: .contiguous)
  }
  public func squeeze() throws -> Tensor { try ATen.squeeze(self) }
  public func squeeze(_ dim: Int) throws -> Tensor { try ATen.squeeze_dim(self, dim: dim) }
  public func unsqueeze(_ dim: Int) throws -> Tensor { try ATen.unsqueeze(self, dim: dim) }
  public func expand(_ shape: [Int]) throws -> Tensor { try ATen.expand(self, size: shape) }
  public func expand(as other: Tensor) throws -> Tensor { try ATen.expand_as(self, other: other) }
  public func flatten(startDim: Int = 0, endDim: Int = -1) throws -> Tensor {
    try ATen.flatten_using_ints(self, start_dim: startDim, end_dim: endDim)
  }
  public func unflatten(dim: Int, sizes: [Int]) throws -> Tensor {
    try ATen.unflatten_int(self, dim: dim, sizes: sizes)
  }
  public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
    try ATen.narrow(self, dim: dim, start: start, length: length)
  }
  public func select(dim: Int, index: Int) throws -> Tensor { try ATen.select_int(self, dim: dim, index: index) }
  public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) throws -> Tensor {
    try ATen.slice_Tensor(self, dim: dim, start: start, end: end, step: step)
  }
  public func `repeat`(_ repeats: [Int]) throws -> Tensor { try ATen.`repeat`(self, repeats: repeats) }
  public func repeatInterleave(_ repeats: Int, dim: Int? = nil) throws -> Tensor {
    try ATen.repeat_interleave_self_int(self, repeats: repeats, dim: dim)
  }
  /// Splits into pieces of `size` along `dim` (the last may be smaller).
  public func split(_ size: Int, dim: Int = 0) throws -> [Tensor] {
    try ATen.split_Tensor(self, split_size: size, dim: dim)
  }
  /// Splits into pieces of the given sizes.
  public func split(sizes: [Int], dim: Int = 0) throws -> [Tensor] {
    try ATen.split_with_sizes(self, split_sizes: sizes, dim: dim)
  }
  public func chunk(_ chunks: Int, dim: Int = 0) throws -> [Tensor] { try ATen.chunk(self, chunks: chunks, dim: dim) }
  public func unbind(dim: Int = 0) throws -> [Tensor] { try ATen.unbind_int(self, dim: dim) }
  public func viewAs(_ other: Tensor) throws -> Tensor { try ATen.view_as(self, other: other) }
  public func reshapeAs(_ other: Tensor) throws -> Tensor { try ATen.reshape_as(self, other: other) }

  /// Joins tensors along an existing dimension (`torch.cat`).
  public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try ATen.cat(tensors, dim: dim) }
  /// Joins tensors along a new dimension (`torch.stack`).
  public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor { try ATen.stack(tensors, dim: dim) }
}
