import CTorch

/// A Swift type whose values can fill a tensor: its memory layout equals the tensor dtype's.
public protocol TensorElement {
  static var dtype: DType { get }
  init(scalar: Scalar)
}

extension Float: TensorElement {
  public static var dtype: DType { .float32 }
  public init(scalar: Scalar) { self = Float(scalar.doubleValue) }
}
extension Double: TensorElement {
  public static var dtype: DType { .float64 }
  public init(scalar: Scalar) { self = scalar.doubleValue }
}
#if !(os(macOS) && arch(x86_64))
  extension Float16: TensorElement {
    public static var dtype: DType { .float16 }
    public init(scalar: Scalar) { self = Float16(scalar.doubleValue) }
  }
#endif
extension Int: TensorElement {
  public static var dtype: DType { .int64 }
  public init(scalar: Scalar) { self = scalar.intValue }
}
extension Int64: TensorElement {
  public static var dtype: DType { .int64 }
  public init(scalar: Scalar) { self = Int64(scalar.intValue) }
}
extension Int32: TensorElement {
  public static var dtype: DType { .int32 }
  public init(scalar: Scalar) { self = Int32(truncatingIfNeeded: scalar.intValue) }
}
extension Int16: TensorElement {
  public static var dtype: DType { .int16 }
  public init(scalar: Scalar) { self = Int16(truncatingIfNeeded: scalar.intValue) }
}
extension Int8: TensorElement {
  public static var dtype: DType { .int8 }
  public init(scalar: Scalar) { self = Int8(truncatingIfNeeded: scalar.intValue) }
}
extension UInt8: TensorElement {
  public static var dtype: DType { .uint8 }
  public init(scalar: Scalar) { self = UInt8(truncatingIfNeeded: scalar.intValue) }
}
extension Bool: TensorElement {
  public static var dtype: DType { .bool }
  public init(scalar: Scalar) { self = scalar.intValue != 0 }
}

extension Tensor {
  /// A tensor holding a copy of `data` with the given shape (default: one dimension).
  /// `Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])`.
  public convenience init<T: TensorElement>(_ data: [T], shape: [Int]? = nil, device: Device = .cpu) throws {
    let shape = shape ?? [data.count]
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TorchError("invalid shape \(shape): sizes must be non-negative") }
    let count = shape.reduce(1, *)
    guard count == data.count else {
      throw TorchError("shape \(shape) is invalid for input of size \(data.count)")
    }
    let dims = shape.map { Int64($0) }
    var out: ts_tensor? = nil
    try data.withUnsafeBytes { raw in
      try check(
        ts_tensor_from_data(
          &out, raw.baseAddress, Int64(raw.count), dims, Int64(dims.count), T.dtype.rawValue, device.typeCode,
          device.indexCode))
    }
    self.init(taking: out!)
  }

  /// A zero-dimensional tensor.
  public convenience init<T: TensorElement>(scalar: T, device: Device = .cpu) throws {
    try self.init([scalar], shape: [], device: device)
  }

  /// A tensor of `dtype` filled from Float values (converted by libtorch, e.g. to bfloat16).
  public convenience init(_ data: [Float], shape: [Int]? = nil, dtype: DType, device: Device = .cpu) throws {
    let t = try Tensor(data, shape: shape).to(device: device, dtype: dtype)
    self.init(taking: try t.handle.retainedCopy())
  }

  /// The elements in row-major order, converted to `T` (like `tensor.tolist()` flattened).
  public func toArray<T: TensorElement>(_ type: T.Type = T.self) throws -> [T] {
    let src = dtype == T.dtype ? self : try to(dtype: T.dtype)
    let n = src.numel
    return try [T](unsafeUninitializedCapacity: n) { buf, initialized in
      try check(ts_tensor_copy_to(src.handle, buf.baseAddress, Int64(n * MemoryLayout<T>.stride)))
      initialized = n
    }
  }

  /// Float32 elements in row-major order.
  public func floats() throws -> [Float] { try toArray(Float.self) }

  /// The value of a one-element tensor (`tensor.item()`).
  public func item() throws -> Scalar {
    var s = ts_scalar()
    try check(ts_tensor_item(handle, &s))
    return Scalar(s)
  }

  /// The value of a one-element tensor as `T`.
  public func item<T: TensorElement>(_ type: T.Type) throws -> T { T(scalar: try item()) }
}

extension OpaquePointer {
  /// A new owned handle to the tensor behind this one.
  @usableFromInline
  func retainedCopy() throws -> OpaquePointer {
    var out: ts_tensor? = nil
    try check(ts_tensor_share(&out, self))
    return out!
  }
}
