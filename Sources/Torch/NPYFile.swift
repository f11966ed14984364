import CTorch
import FileIO

extension DType {
  /// NumPy's `descr` of this dtype (little-endian), or nil for bfloat16 (NumPy has none).
  public var npyDescr: String? {
    switch self {
    case .uint8: return "|u1"
    case .int8: return "|i1"
    case .bool: return "|b1"
    case .int16: return "<i2"
    case .int32: return "<i4"
    case .int64: return "<i8"
    case .float16: return "<f2"
    case .float32: return "<f4"
    case .float64: return "<f8"
    case .bfloat16: return nil
    }
  }
}

extension Tensor {
  /// Writes the tensor as a NumPy `.npy` file (format 1.0, C order), as `numpy.save(path, t.numpy())`; the file
  /// is replaced atomically. bfloat16 has no NumPy dtype: convert it first (e.g. `.float()`).
  public func saveNPY(to path: String) throws {
    guard let descr = dtype.npyDescr else {
      throw TorchError("\(path): NumPy has no \(dtype) dtype; convert the tensor (e.g. .float()) before saving .npy")
    }
    let cpu = try detach().contiguous().cpu()
    let dims = cpu.shape
    let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Magic (6) + version (2) + header length (2) + header + "\n", padded with spaces to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    let length = UInt16(header.utf8.count)
    let byteCount = cpu.numel * cpu.dtype.byteSize
    try AtomicFile.write(to: path) { sink in
      try sink.append([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)])
      try sink.append(Array(header.utf8))
      try sink.append(byteCount: byteCount) { buf in
        try check(ts_tensor_copy_to(cpu.handle, buf.baseAddress, Int64(byteCount)))
      }
    }
  }
}
