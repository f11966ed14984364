/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by TFRecord framing.
///
/// The implementation is table driven with slicing-by-8: eight 256-entry tables let the
/// inner loop consume eight bytes per iteration.
public enum CRC32C {
  /// The reflected Castagnoli polynomial.
  public static let polynomial: UInt32 = 0x82F6_3B78

  /// The constant added after rotation when masking a CRC (TFRecord / LevelDB convention).
  public static let maskDelta: UInt32 = 0xA282_EAD8

  /// `tables[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
  private static let tables: [[UInt32]] = {
    var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for b in 0..<256 {
      var crc = UInt32(b)
      for _ in 0..<8 {
        crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
      }
      t[0][b] = crc
    }
    for b in 0..<256 {
      for k in 1..<8 {
        let prev = t[k - 1][b]
        t[k][b] = (prev >> 8) ^ t[0][Int(prev & 0xFF)]
      }
    }
    return t
  }()

  /// Continues a CRC computation: `update(crc: checksum(a), b) == checksum(a + b)`.
  public static func update<Bytes: Sequence>(crc: UInt32, _ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    if let result = bytes.withContiguousStorageIfAvailable({ update(crc: crc, buffer: UnsafeRawBufferPointer($0)) }) {
      return result
    }
    return Array(bytes).withUnsafeBytes { update(crc: crc, buffer: $0) }
  }

  /// Continues a CRC computation over raw memory.
  public static func update(crc: UInt32, buffer: UnsafeRawBufferPointer) -> UInt32 {
    var c = ~crc
    let count = buffer.count
    var i = 0
    tables[0].withUnsafeBufferPointer { t0 in
      tables[1].withUnsafeBufferPointer { t1 in
        tables[2].withUnsafeBufferPointer { t2 in
          tables[3].withUnsafeBufferPointer { t3 in
            tables[4].withUnsafeBufferPointer { t4 in
              tables[5].withUnsafeBufferPointer { t5 in
                tables[6].withUnsafeBufferPointer { t6 in
                  tables[7].withUnsafeBufferPointer { t7 in
                    while count - i >= 8 {
                      let lo =
                        c
                        ^ (UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8
                          | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24)
                      let hi =
                        UInt32(buffer[i + 4]) | UInt32(buffer[i + 5]) << 8
                        | UInt32(buffer[i + 6]) << 16 | UInt32(buffer[i + 7]) << 24
                      c =
                        t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)]
                        ^ t5[Int((lo >> 16) & 0xFF)] ^ t4[Int(lo >> 24)]
                        ^ t3[Int(hi & 0xFF)] ^ t2[Int((hi >> 8) & 0xFF)]
                        ^ t1[Int((hi >> 16) & 0xFF)] ^ t0[Int(hi >> 24)]
                      i += 8
                    }
                    while i < count {
                      c = (c >> 8) ^ t0[Int((c ^ UInt32(buffer[i])) & 0xFF)]
                      i += 1
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return ~c
  }

  /// The CRC-32C of `bytes`.
  public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    update(crc: 0, bytes)
  }

  /// The masked form stored in TFRecord files: `((crc >> 15) | (crc << 17)) &+ 0xa282ead8`.
  public static func mask(_ crc: UInt32) -> UInt32 {
    ((crc >> 15) | (crc << 17)) &+ maskDelta
  }

  /// Inverse of `mask(_:)`.
  public static func unmask(_ masked: UInt32) -> UInt32 {
    let rotated = masked &- maskDelta
    return (rotated >> 17) | (rotated << 15)
  }

  /// The masked CRC-32C of `bytes`.
  public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    mask(checksum(bytes))
  }
}
