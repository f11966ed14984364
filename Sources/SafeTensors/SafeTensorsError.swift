/// Error thrown by every safetensors reading and writing operation.
///
/// `description` always starts with the file path (or `<memory>` for
/// in-memory buffers), then states the specific problem, and ends with the
/// name of the matching reference-crate error in brackets where one exists,
/// e.g. `safetensors: /m/model.safetensors: invalid offset for tensor `w`:
/// it begins at byte 16 but the previous tensor ends at byte 8 (hole of 8
/// bytes) [InvalidOffset]`.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The specific failure. Each case's text is produced by `message`.
  public enum Kind: Sendable, Equatable {
    /// The file or buffer is shorter than the 8-byte length prefix.
    case fileTooSmall(size: Int)
    /// The declared header length exceeds 100,000,000 bytes.
    case headerTooLarge(length: UInt64)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(length: UInt64, fileSize: Int)
    /// The header is not valid UTF-8 at the given byte (relative to the header start).
    case headerNotUTF8(offset: Int)
    /// The header is not valid JSON (`offset` is relative to the header start).
    case invalidJSON(offset: Int, reason: String)
    /// The header's top-level JSON value is not an object.
    case headerNotObject(found: String)
    /// A key occurs twice in one JSON object (`context` says which object).
    case duplicateKey(key: String, context: String)
    /// `__metadata__` is not an object of string values.
    case invalidMetadata(reason: String)
    /// A tensor entry is malformed: missing field, wrong JSON type, etc.
    case invalidTensorEntry(name: String, reason: String)
    /// The `dtype` string is not one the format defines.
    case unknownDType(name: String, dtype: String)
    /// A shape dimension is negative, fractional, or otherwise not a non-negative integer.
    case invalidShape(name: String, reason: String)
    /// The element count or byte size computed from the shape overflows.
    case shapeOverflow(name: String, shape: [Int], dtype: SafeTensorsDType)
    /// The element count of a sub-byte dtype does not fill whole bytes.
    case misalignedSubByteTensor(name: String, shape: [Int], dtype: SafeTensorsDType)
    /// `data_offsets` is not an array of two non-negative integers with begin <= end.
    case invalidOffsets(name: String, reason: String)
    /// A tensor's span ends beyond the data buffer.
    case offsetsOutOfRange(name: String, begin: Int, end: Int, bufferSize: Int)
    /// Two tensors' spans overlap.
    case overlappingTensors(name: String, begin: Int, other: String, otherEnd: Int)
    /// A gap of unused bytes lies between two tensors (or before the first).
    case holeBeforeTensor(name: String, begin: Int, previousEnd: Int)
    /// The tensors do not cover the data buffer up to its end.
    case trailingBytes(coveredUpTo: Int, bufferSize: Int)
    /// `shape` x dtype size differs from the byte span given by `data_offsets`.
    case sizeMismatch(name: String, dtype: SafeTensorsDType, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// No tensor of that name exists in the file.
    case tensorNotFound(name: String)
    /// The tensor exists but its dtype is not supported by the caller.
    case unsupportedDType(name: String, dtype: SafeTensorsDType)
    /// The writer was given invalid input.
    case invalidWriterInput(reason: String)
    /// A system call failed.
    case io(operation: String, errno: Int32)
    /// The path exists but is not a regular file.
    case notARegularFile
  }

  /// File path the error concerns, or `<memory>` for in-memory buffers.
  public let path: String
  /// The specific failure.
  public let kind: Kind

  public init(path: String, kind: Kind) {
    self.path = path
    self.kind = kind
  }

  /// Name of the reference Rust crate's error variant this corresponds to, if any.
  public var referenceName: String? {
    switch kind {
    case .fileTooSmall: return "HeaderTooSmall"
    case .headerTooLarge: return "HeaderTooLarge"
    case .headerPastEnd: return "InvalidHeaderLength"
    case .headerNotUTF8: return "InvalidHeader"
    case .invalidJSON, .headerNotObject, .duplicateKey, .invalidMetadata,
      .invalidTensorEntry, .unknownDType, .invalidShape, .invalidOffsets:
      return "InvalidHeaderDeserialization"
    case .shapeOverflow: return "ValidationOverflow"
    case .misalignedSubByteTensor: return "MisalignedSlice"
    case .offsetsOutOfRange, .trailingBytes: return "MetadataIncompleteBuffer"
    case .overlappingTensors, .holeBeforeTensor: return "InvalidOffset"
    case .sizeMismatch: return "TensorInvalidInfo"
    case .tensorNotFound: return "TensorNotFound"
    case .io, .notARegularFile: return "IoError"
    case .unsupportedDType, .invalidWriterInput: return nil
    }
  }

  /// Human-readable statement of the problem, without the path.
  public var message: String {
    switch kind {
    case let .fileTooSmall(size):
      return "file is \(size) bytes, shorter than the 8-byte header length prefix"
    case let .headerTooLarge(length):
      return "header length \(length) exceeds the 100000000-byte limit"
    case let .headerPastEnd(length, fileSize):
      return
        "header length \(length) runs past the end of the file (\(fileSize) bytes, at most \(max(0, fileSize - 8)) available for the header)"
    case let .headerNotUTF8(offset):
      return "header is not valid UTF-8 (bad byte at header offset \(offset))"
    case let .invalidJSON(offset, reason):
      return "header is not valid JSON at header offset \(offset): \(reason)"
    case let .headerNotObject(found):
      return "header JSON must be an object, found \(found)"
    case let .duplicateKey(key, context):
      return "duplicate key \(quoted(key)) in \(context)"
    case let .invalidMetadata(reason):
      return "invalid __metadata__: \(reason)"
    case let .invalidTensorEntry(name, reason):
      return "invalid entry for tensor \(quoted(name)): \(reason)"
    case let .unknownDType(name, dtype):
      return "unknown dtype \(quoted(dtype)) for tensor \(quoted(name))"
    case let .invalidShape(name, reason):
      return "invalid shape for tensor \(quoted(name)): \(reason)"
    case let .shapeOverflow(name, shape, dtype):
      return "shape \(shape) with dtype \(dtype) of tensor \(quoted(name)) overflows when computing its size"
    case let .misalignedSubByteTensor(name, shape, dtype):
      return "tensor \(quoted(name)) of dtype \(dtype) and shape \(shape) does not end on a byte boundary"
    case let .invalidOffsets(name, reason):
      return "invalid data_offsets for tensor \(quoted(name)): \(reason)"
    case let .offsetsOutOfRange(name, begin, end, bufferSize):
      return
        "data_offsets [\(begin), \(end)] of tensor \(quoted(name)) are out of range of the \(bufferSize)-byte data buffer"
    case let .overlappingTensors(name, begin, other, otherEnd):
      return
        "invalid offset for tensor \(quoted(name)): it begins at byte \(begin), overlapping tensor \(quoted(other)) which ends at byte \(otherEnd)"
    case let .holeBeforeTensor(name, begin, previousEnd):
      return
        "invalid offset for tensor \(quoted(name)): it begins at byte \(begin) but the previous tensor ends at byte \(previousEnd) (hole of \(begin - previousEnd) bytes; tensors must tile the data buffer)"
    case let .trailingBytes(coveredUpTo, bufferSize):
      return
        "tensors cover \(coveredUpTo) of the \(bufferSize) data bytes; \(bufferSize - coveredUpTo) unused trailing bytes (file not fully covered)"
    case let .sizeMismatch(name, dtype, shape, expectedBytes, actualBytes):
      return
        "tensor \(quoted(name)) of dtype \(dtype) and shape \(shape) needs \(expectedBytes) bytes but data_offsets span \(actualBytes) bytes"
    case let .tensorNotFound(name):
      return "no tensor named \(quoted(name))"
    case let .unsupportedDType(name, dtype):
      return "tensor \(quoted(name)) has unsupported dtype \(dtype)"
    case let .invalidWriterInput(reason):
      return "cannot write: \(reason)"
    case let .io(operation, code):
      return "\(operation) failed: \(SafeTensorsError.errnoText(code)) (errno \(code))"
    case .notARegularFile:
      return "not a regular file"
    }
  }

  public var description: String {
    var text = "safetensors: \(path): \(message)"
    if let reference = referenceName { text += " [\(reference)]" }
    return text
  }

  private func quoted(_ text: String) -> String {
    // Keep messages one line and bounded even for hostile names.
    var shown = ""
    for (count, scalar) in text.unicodeScalars.enumerated() {
      if count == 200 { shown += "…"; break }
      shown +=
        scalar.value < 0x20 || scalar.value == 0x7F
        ? scalar.escaped(asASCII: true) : String(scalar)
    }
    return "`\(shown)`"
  }

  static func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
