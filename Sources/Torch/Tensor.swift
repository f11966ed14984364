import CTorch

/// An n-dimensional array on the CPU or a GPU, backed by an `at::Tensor`, with autograd.
///
/// `Tensor` is a final class: ARC frees the libtorch tensor (and its CPU or GPU memory, when no other
/// tensor shares it) as soon as the last Swift reference goes away. Views (`view`, `transpose`,
/// slicing) share storage with their base, exactly as in PyTorch.
public final class Tensor {
  /// The owned C handle (an `at::Tensor*`).
  public let handle: OpaquePointer

  /// A copy of this tensor in autocast's low precision, made by the kernel that produced it (the fused
  /// LayerNorm), with this tensor's version when made: `F.linear` under autocast takes it instead of casting
  /// again — the same values, one kernel and one gradient accumulation fewer. See `autocastInput`.
  var autocastCopy: (tensor: Tensor, version: Int64)?

  /// Takes ownership of a handle returned by the C layer.
  @inlinable
  public init(taking handle: OpaquePointer) {
    self.handle = handle
  }

  deinit { ts_tensor_free(handle) }

  /// The version counter (`tensor._version`): bumped by every in-place change.
  public var version: Int64 {
    var v: Int64 = 0
    query { ts_tensor_version(handle, &v) }
    return v
  }

  /// What autocast's cast of this tensor would give, when a kernel already made it and the tensor has not
  /// changed since; else the tensor itself (autocast then casts as usual).
  func autocastInput() -> Tensor {
    guard let copy = autocastCopy, copy.version == version, autocastDType(device) == copy.tensor.dtype else {
      return self
    }
    return copy.tensor
  }

  /// Wraps a list of handles returned by the C layer (a malloc'd array), freeing the array.
  @inlinable
  public static func takeList(_ list: UnsafeMutablePointer<ts_tensor?>?, count: Int64) -> [Tensor] {
    guard let list else { return [] }
    defer { ts_free(list) }
    return (0..<Int(count)).map { Tensor(taking: list[$0]!) }
  }

  /// A second Swift handle to the same tensor (same storage, same autograd identity).
  public func shared() -> Tensor {
    var out: ts_tensor? = nil
    trapping { try check(ts_tensor_share(&out, handle)) }
    return Tensor(taking: out!)
  }

  // MARK: metadata

  /// Runs a C metadata query; a failure (an undefined tensor) stops with libtorch's message, as the other
  /// non-throwing accessors do, instead of reading as 0 or uint8.
  @inline(__always)
  func query(_ body: () -> Int32, file: StaticString = #file, line: UInt = #line) {
    trapping({ try check(body()) }, file: file, line: line)
  }

  /// Number of dimensions (`tensor.dim()`).
  public var dim: Int {
    var d: Int64 = 0
    query { ts_tensor_dim(handle, &d) }
    return Int(d)
  }

  /// Sizes of each dimension (`tensor.shape`).
  public var shape: [Int] {
    let n = dim
    if n == 0 { return [] }
    var s = [Int64](repeating: 0, count: n)
    query { ts_tensor_sizes(handle, &s, Int64(n)) }
    return s.map { Int($0) }
  }

  /// Size of dimension `d` (negative counts from the end).
  public func size(_ d: Int) throws -> Int {
    let s = shape
    let i = d < 0 ? d + s.count : d
    guard i >= 0, i < s.count else {
      throw TorchError(
        "Dimension out of range (expected to be in range of [\(-s.count), \(s.count - 1)], but got \(d))")
    }
    return s[i]
  }

  /// Element strides (`tensor.stride()`).
  public var strides: [Int] {
    let n = dim
    if n == 0 { return [] }
    var s = [Int64](repeating: 0, count: n)
    query { ts_tensor_strides(handle, &s, Int64(n)) }
    return s.map { Int($0) }
  }

  /// Number of elements.
  public var numel: Int {
    var n: Int64 = 0
    query { ts_tensor_numel(handle, &n) }
    return Int(n)
  }

  public var dtype: DType {
    var c: Int32 = 0
    query { ts_tensor_dtype(handle, &c) }
    return trapping { try DType(code: c) }
  }

  public var device: Device {
    var t: Int32 = 0
    var i: Int32 = 0
    query { ts_tensor_device(handle, &t, &i) }
    return trapping { try Device(typeCode: t, index: i) }
  }

  public var isContiguous: Bool {
    var b: UInt8 = 0
    query { ts_tensor_is_contiguous(handle, &b) }
    return b != 0
  }

  public var storageOffset: Int {
    var o: Int64 = 0
    query { ts_tensor_storage_offset(handle, &o) }
    return Int(o)
  }

  /// Bytes per element.
  public var elementSize: Int { dtype.byteSize }

  // MARK: moving and converting

  /// Moves and/or converts the tensor (`tensor.to(device, dtype)`); returns `self` when nothing changes
  /// and `copy` is false. Differentiable, like PyTorch's.
  public func to(device: Device? = nil, dtype: DType? = nil, nonBlocking: Bool = false, copy: Bool = false) throws
    -> Tensor
  {
    let moves = device != nil && device != self.device
    let converts = dtype != nil && dtype != self.dtype
    if !moves && !converts && !copy { return self }
    return try ATen._to_copy(self, dtype: dtype, device: device, non_blocking: nonBlocking)
  }

  /// Same as `to(device:)`.
  public func to(_ device: Device) throws -> Tensor { try to(device: device) }
  /// Same as `to(dtype:)`.
  public func to(_ dtype: DType) throws -> Tensor { try to(dtype: dtype) }

  public func cpu() throws -> Tensor { try to(device: .cpu) }
  public func cuda(_ index: Int = 0) throws -> Tensor { try to(device: .cuda(index)) }
  public func float() throws -> Tensor { try to(dtype: .float32) }
  public func double() throws -> Tensor { try to(dtype: .float64) }
  public func half() throws -> Tensor { try to(dtype: .float16) }
  public func bfloat16() throws -> Tensor { try to(dtype: .bfloat16) }
  public func long() throws -> Tensor { try to(dtype: .int64) }
  public func int() throws -> Tensor { try to(dtype: .int32) }
  public func bool() throws -> Tensor { try to(dtype: .bool) }
}
