/// Minimal protocol-buffers wire-format encoding and decoding, enough for TensorBoard events.
///
/// Only the wire types used by `event.proto` / `summary.proto` are supported:
/// varint (0), 64-bit (1), length-delimited (2) and 32-bit (5).
enum ProtoWireType: UInt8 {
  case varint = 0
  case fixed64 = 1
  case lengthDelimited = 2
  case fixed32 = 5
}

/// Appends protobuf fields to a byte buffer.
struct ProtoWriter {
  private(set) var bytes: [UInt8] = []

  mutating func writeVarint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  mutating func writeKey(_ field: Int, _ type: ProtoWireType) {
    writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
  }

  /// An `int64` field (negative values take ten bytes, as protobuf specifies).
  mutating func writeInt64(_ field: Int, _ value: Int64) {
    writeKey(field, .varint)
    writeVarint(UInt64(bitPattern: value))
  }

  mutating func writeFixed64(_ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
  }

  mutating func writeFixed32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
  }

  mutating func writeDouble(_ field: Int, _ value: Double) {
    writeKey(field, .fixed64)
    writeFixed64(value.bitPattern)
  }

  mutating func writeFloat(_ field: Int, _ value: Float) {
    writeKey(field, .fixed32)
    writeFixed32(value.bitPattern)
  }

  mutating func writeBytes<C: Collection>(_ field: Int, _ value: C) where C.Element == UInt8 {
    writeKey(field, .lengthDelimited)
    writeVarint(UInt64(value.count))
    bytes.append(contentsOf: value)
  }

  mutating func writeString(_ field: Int, _ value: String) {
    writeBytes(field, Array(value.utf8))
  }

  /// A nested message, encoded by `body` into a fresh writer.
  mutating func writeMessage(_ field: Int, _ body: (inout ProtoWriter) -> Void) {
    var nested = ProtoWriter()
    body(&nested)
    writeBytes(field, nested.bytes)
  }
}

/// A protobuf decoding failure.
public struct ProtoDecodingError: Error, CustomStringConvertible {
  public let description: String
}

/// One decoded field: its number and payload.
enum ProtoField {
  case varint(Int, UInt64)
  case fixed64(Int, UInt64)
  case bytes(Int, ArraySlice<UInt8>)
  case fixed32(Int, UInt32)

  var number: Int {
    switch self {
    case .varint(let n, _), .fixed64(let n, _), .bytes(let n, _), .fixed32(let n, _): return n
    }
  }
}

/// Iterates the fields of a protobuf message.
struct ProtoReader {
  private let data: ArraySlice<UInt8>
  private var index: Int

  init(_ data: ArraySlice<UInt8>) {
    self.data = data
    self.index = data.startIndex
  }

  private mutating func readVarint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard index < data.endIndex else { throw ProtoDecodingError(description: "truncated varint") }
      guard shift < 64 else { throw ProtoDecodingError(description: "varint too long") }
      let byte = data[index]
      index += 1
      result |= UInt64(byte & 0x7F) << shift
      if byte < 0x80 { return result }
      shift += 7
    }
  }

  private mutating func readFixed(_ size: Int) throws -> UInt64 {
    guard data.endIndex - index >= size else {
      throw ProtoDecodingError(description: "truncated fixed\(size * 8) field")
    }
    var v: UInt64 = 0
    for k in 0..<size { v |= UInt64(data[index + k]) << UInt64(8 * k) }
    index += size
    return v
  }

  /// The next field, or nil at the end of the message.
  mutating func next() throws -> ProtoField? {
    guard index < data.endIndex else { return nil }
    let key = try readVarint()
    let field = Int(truncatingIfNeeded: key >> 3)
    guard field > 0 else { throw ProtoDecodingError(description: "invalid field number 0") }
    switch key & 7 {
    case 0: return .varint(field, try readVarint())
    case 1: return .fixed64(field, try readFixed(8))
    case 2:
      let length = try readVarint()
      guard length <= UInt64(data.endIndex - index) else {
        throw ProtoDecodingError(description: "length-delimited field \(field) overruns message")
      }
      let start = index
      index += Int(length)
      return .bytes(field, data[start..<index])
    case 5: return .fixed32(field, UInt32(truncatingIfNeeded: try readFixed(4)))
    default:
      throw ProtoDecodingError(description: "unsupported wire type \(key & 7) for field \(field)")
    }
  }
}
