import CTorch
import Foundation
import SafeTensors

extension DType {
  /// The safetensors dtype tag of this dtype.
  public var safetensorsDType: SafeTensorsDType {
    switch self {
    case .uint8: return .U8
    case .int8: return .I8
    case .int16: return .I16
    case .int32: return .I32
    case .int64: return .I64
    case .float16: return .F16
    case .float32: return .F32
    case .float64: return .F64
    case .bool: return .BOOL
    case .bfloat16: return .BF16
    }
  }

  /// The dtype of a safetensors tag, or nil for types libtorch cannot hold (F8, U16-U64, F4/F6).
  public init?(safetensors t: SafeTensorsDType) {
    switch t {
    case .U8: self = .uint8
    case .I8: self = .int8
    case .I16: self = .int16
    case .I32: self = .int32
    case .I64: self = .int64
    case .F16: self = .float16
    case .F32: self = .float32
    case .F64: self = .float64
    case .BOOL: self = .bool
    case .BF16: self = .bfloat16
    default: return nil
    }
  }
}

extension SafeTensorsFile {
  /// The named tensor, copied once from the memory-mapped file straight into `device`'s memory.
  public func tensor(_ name: String, device: Device = .cpu) throws -> Tensor {
    let info = try self.info(name)
    guard let dtype = DType(safetensors: info.dtype) else {
      throw TorchError("\(path): tensor '\(name)' has dtype \(info.dtype.rawValue), which libtorch cannot hold")
    }
    let dims = info.shape.map { Int64($0) }
    var out: ts_tensor? = nil
    try withUnsafeBytes(of: name) { raw in
      try check(
        ts_tensor_from_data(
          &out, raw.baseAddress, Int64(raw.count), dims, Int64(dims.count), dtype.rawValue,
          device.typeCode, device.indexCode))
    }
    return Tensor(taking: out!)
  }

  /// Copies the named tensor into `destination` (same shape; any dtype and device: converted as `copy_`), then
  /// releases the file's pages of it. A contiguous CPU destination of the file's dtype is filled straight from
  /// the mapping, with no intermediate tensor, so loading a checkpoint this way holds one copy of the weights.
  public func copy(_ name: String, into destination: Tensor) throws {
    let info = try self.info(name)
    guard let dtype = DType(safetensors: info.dtype) else {
      throw TorchError("\(path): tensor '\(name)' has dtype \(info.dtype.rawValue), which libtorch cannot hold")
    }
    guard info.shape == destination.shape else {
      throw TorchError("\(path): tensor '\(name)' has shape \(info.shape), expected \(destination.shape)")
    }
    defer { releasePages(of: name) }
    if dtype == destination.dtype, destination.device == .cpu, destination.isContiguous {
      var ptr: UnsafeMutableRawPointer? = nil
      try check(ts_tensor_data_ptr(destination.handle, &ptr))
      try withUnsafeBytes(of: name) { raw in
        guard raw.count == destination.numel * dtype.byteSize else {
          throw TorchError("\(path): tensor '\(name)' holds \(raw.count) bytes for shape \(info.shape)")
        }
        if let base = raw.baseAddress, let ptr, raw.count > 0 { ptr.copyMemory(from: base, byteCount: raw.count) }
      }
      return
    }
    let staged = try tensor(name)
    _ = try withNoGrad { try destination.copy_(staged) }
  }

  /// Every tensor in the file, by name.
  public func tensors(device: Device = .cpu) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for name in names { result[name] = try tensor(name, device: device) }
    return result
  }
}

extension Torch {
  /// Loads every tensor of a `.safetensors` file (memory-mapped; one copy per tensor into `device`).
  public static func loadSafetensors(_ path: String, device: Device = .cpu) throws -> [String: Tensor] {
    try SafeTensorsFile(path: path).tensors(device: device)
  }

  /// Writes tensors as a `.safetensors` file (atomically), readable by Python's `safetensors`.
  public static func saveSafetensors(_ tensors: [String: Tensor], to path: String, metadata: [String: String]? = nil)
    throws
  {
    var entries: [SafeTensorsWriter.Entry] = []
    for (name, t) in tensors {
      let c = try t.detach().contiguous()
      let cpu = try c.cpu()
      let count = cpu.numel * cpu.dtype.byteSize
      entries.append(
        SafeTensorsWriter.Entry(name: name, dtype: cpu.dtype.safetensorsDType, shape: cpu.shape) { buf in
          guard buf.count == count else { throw TorchError("\(path): tensor '\(name)': size changed while writing") }
          try check(ts_tensor_copy_to(cpu.handle, buf.baseAddress, Int64(count)))
        })
    }
    try SafeTensors.write(entries, metadata: metadata, to: URL(fileURLWithPath: path))
  }
}
