import Foundation

/// TFRecord framing: each record is
/// `u64 length (LE) | u32 masked CRC32C(length bytes) | data | u32 masked CRC32C(data)`.
public enum TFRecord {
  /// Appends one framed record to `buffer`.
  public static func frame<C: Collection>(_ data: C, into buffer: inout [UInt8]) where C.Element == UInt8 {
    var header: [UInt8] = []
    header.reserveCapacity(8)
    let length = UInt64(data.count)
    for shift in stride(from: 0, to: 64, by: 8) { header.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
    buffer.append(contentsOf: header)
    appendLittleEndian(CRC32C.maskedChecksum(header), to: &buffer)
    buffer.append(contentsOf: data)
    appendLittleEndian(CRC32C.maskedChecksum(data), to: &buffer)
  }

  private static func appendLittleEndian(_ v: UInt32, to buffer: inout [UInt8]) {
    for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
  }

  /// A framing or checksum problem found while reading records.
  public enum ReadError: Error, Equatable, CustomStringConvertible {
    /// The file ends inside a record (a writer may still be appending to it).
    case truncated(offset: Int)
    case lengthChecksumMismatch(offset: Int)
    case dataChecksumMismatch(offset: Int)

    public var description: String {
      switch self {
      case .truncated(let o): return "TFRecord truncated at byte offset \(o)"
      case .lengthChecksumMismatch(let o): return "TFRecord length CRC mismatch at byte offset \(o)"
      case .dataChecksumMismatch(let o): return "TFRecord data CRC mismatch at byte offset \(o)"
      }
    }
  }

  /// Splits `bytes` into record payloads, verifying both CRCs of every record.
  public static func records(in bytes: [UInt8]) throws -> [ArraySlice<UInt8>] {
    var out: [ArraySlice<UInt8>] = []
    var offset = 0
    func u32(_ at: Int) -> UInt32 {
      var v: UInt32 = 0
      for k in 0..<4 { v |= UInt32(bytes[at + k]) << UInt32(8 * k) }
      return v
    }
    while offset < bytes.count {
      guard bytes.count - offset >= 12 else { throw ReadError.truncated(offset: offset) }
      let header = bytes[offset..<offset + 8]
      guard CRC32C.maskedChecksum(header) == u32(offset + 8) else {
        throw ReadError.lengthChecksumMismatch(offset: offset)
      }
      var length: UInt64 = 0
      for (k, b) in header.enumerated() { length |= UInt64(b) << UInt64(8 * k) }
      let start = offset + 12
      guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
        throw ReadError.truncated(offset: offset)
      }
      let end = start + Int(length)
      let data = bytes[start..<end]
      guard CRC32C.maskedChecksum(data) == u32(end) else { throw ReadError.dataChecksumMismatch(offset: offset) }
      out.append(data)
      offset = end + 4
    }
    return out
  }
}
