import CTorch

/// Creation functions, with PyTorch's names and defaults (float32 on the CPU unless told otherwise).
extension Tensor {
  public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try ATen.empty_memory_format(shape, dtype: dtype, device: device)
  }

  public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try ATen.zeros(shape, dtype: dtype, device: device)
  }

  public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try ATen.ones(shape, dtype: dtype, device: device)
  }

  /// A tensor filled with `value` (dtype inferred from the value like PyTorch when nil).
  public static func full(_ shape: [Int], _ value: Scalar, dtype: DType? = nil, device: Device = .cpu) throws -> Tensor
  {
    try ATen.full(shape, fill_value: value, dtype: dtype ?? value.defaultDType, device: device)
  }

  /// `torch.arange(end)`: integers 0..<end as int64.
  public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
    try ATen.arange(.int(end), dtype: dtype, device: device)
  }

  /// `torch.arange(start, end, step)`: int64 when all are integers, otherwise float32.
  public static func arange(
    _ start: Scalar, _ end: Scalar, step: Scalar = 1, dtype: DType? = nil, device: Device = .cpu
  )
    throws -> Tensor
  {
    let allInts = [start, end, step].allSatisfy { if case .int = $0 { return true } else { return false } }
    return try ATen.arange_start_step(
      start, end: end, step: step, dtype: dtype ?? (allInts ? .int64 : .float32), device: device)
  }

  public static func linspace(
    _ start: Double, _ end: Double, steps: Int, dtype: DType = .float32, device: Device = .cpu
  )
    throws -> Tensor
  {
    try ATen.linspace(.double(start), end: .double(end), steps: steps, dtype: dtype, device: device)
  }

  /// Uniform samples in [0, 1).
  public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try ATen.rand(shape, dtype: dtype, device: device)
  }

  /// Standard normal samples.
  public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try ATen.randn(shape, dtype: dtype, device: device)
  }

  /// Integers uniformly drawn from [low, high).
  public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu)
    throws -> Tensor
  {
    try ATen.randint_low(low, high: high, size: shape, dtype: dtype, device: device)
  }

  /// A random permutation of 0..<n.
  public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
    try ATen.randperm(n, dtype: dtype, device: device)
  }

  /// The identity matrix (n × m, m defaults to n).
  public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    if let m { return try ATen.eye_m(n, m: m, dtype: dtype, device: device) }
    return try ATen.eye(n, dtype: dtype, device: device)
  }

  // MARK: -like

  public func zerosLike(dtype: DType? = nil) throws -> Tensor { try ATen.zeros_like(self, dtype: dtype) }
  public func onesLike(dtype: DType? = nil) throws -> Tensor { try ATen.ones_like(self, dtype: dtype) }
  public func emptyLike(dtype: DType? = nil) throws -> Tensor { try ATen.empty_like(self, dtype: dtype) }
  public func fullLike(_ value: Scalar, dtype: DType? = nil) throws -> Tensor {
    try ATen.full_like(self, fill_value: value, dtype: dtype)
  }
  public func randLike() throws -> Tensor { try ATen.rand_like(self) }
  public func randnLike() throws -> Tensor { try ATen.randn_like(self) }

  public static func zerosLike(_ t: Tensor) throws -> Tensor { try t.zerosLike() }
  public static func onesLike(_ t: Tensor) throws -> Tensor { try t.onesLike() }
}

extension Scalar {
  /// The dtype PyTorch infers for a Python number: float32 (default float), int64, bool.
  public var defaultDType: DType {
    switch self {
    case .double: return .float32
    case .int: return .int64
    case .bool: return .bool
    }
  }
}
