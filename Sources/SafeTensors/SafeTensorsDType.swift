/// Element types of the safetensors format.
///
/// The raw values are the exact strings used in the header's `"dtype"` field.
/// The set (and the declaration order, which defines `writerRank`) mirrors the
/// `Dtype` enum of the reference Rust crate (safetensors 0.6.x), including the
/// sub-byte float formats `F4`, `F6_E2M3` and `F6_E3M2` whose elements are not
/// a whole number of bytes.
public enum SafeTensorsDType: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
  case BOOL
  case F4
  case F6_E2M3
  case F6_E3M2
  case U8
  case I8
  case F8_E5M2
  case F8_E4M3
  case F8_E8M0
  case I16
  case U16
  case F16
  case BF16
  case I32
  case U32
  case F32
  case F64
  case I64
  case U64

  /// Size of one element in bits (4 and 6 for the sub-byte float formats).
  public var bitSize: Int {
    switch self {
    case .F4: return 4
    case .F6_E2M3, .F6_E3M2: return 6
    case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0: return 8
    case .I16, .U16, .F16, .BF16: return 16
    case .I32, .U32, .F32: return 32
    case .I64, .U64, .F64: return 64
    }
  }

  /// Size of one element in bytes, or `nil` for the sub-byte formats
  /// (`F4`, `F6_E2M3`, `F6_E3M2`) whose elements do not fill whole bytes.
  public var byteSize: Int? {
    bitSize % 8 == 0 ? bitSize / 8 : nil
  }

  /// Whether elements occupy a whole number of bytes.
  public var isByteAddressable: Bool { bitSize % 8 == 0 }

  /// Whether this is one of the types TorchSwift maps onto a libtorch scalar
  /// type (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL). The others
  /// parse and round-trip fine, but a consumer that needs a libtorch dtype
  /// should reject them with `SafeTensorsError.Kind.unsupportedDType`.
  public var isCoreType: Bool {
    switch self {
    case .F64, .F32, .F16, .BF16, .I64, .I32, .I16, .I8, .U8, .BOOL: return true
    default: return false
    }
  }

  /// Rank used by the writer's ordering: the reference implementation sorts
  /// tensors by this value *descending* (then by name), which with the
  /// declaration order above places 8-byte types first and sub-byte types last.
  public var writerRank: Int {
    switch self {
    case .BOOL: return 0
    case .F4: return 1
    case .F6_E2M3: return 2
    case .F6_E3M2: return 3
    case .U8: return 4
    case .I8: return 5
    case .F8_E5M2: return 6
    case .F8_E4M3: return 7
    case .F8_E8M0: return 8
    case .I16: return 9
    case .U16: return 10
    case .F16: return 11
    case .BF16: return 12
    case .I32: return 13
    case .U32: return 14
    case .F32: return 15
    case .F64: return 16
    case .I64: return 17
    case .U64: return 18
    }
  }

  /// Number of bytes needed for `elementCount` elements, or `nil` when the
  /// computation overflows or the bit count is not a multiple of 8.
  public func byteCount(forElementCount elementCount: Int) -> Int? {
    let (bits, overflow) = elementCount.multipliedReportingOverflow(by: bitSize)
    if overflow || bits % 8 != 0 { return nil }
    return bits / 8
  }

  /// Result of sizing a tensor of this dtype from its shape.
  public enum ShapeSize: Equatable, Sendable {
    /// The tensor occupies this many bytes.
    case bytes(Int)
    /// The element or bit count overflows 64 bits (or the byte count `Int`).
    case overflow
    /// The bit count is not a multiple of 8 (sub-byte dtypes only).
    case misaligned
  }

  /// Byte size of a tensor with `shape`, computed exactly as the reference
  /// crate does: the element count is folded left to right with checked
  /// unsigned 64-bit multiplication (so `[2^62, 2, 0]` overflows nowhere and
  /// is empty, while `[2^62, 4, 0]` overflows), then multiplied by the bit size.
  /// Negative dimensions count as overflow.
  public func size(forShape shape: [Int]) -> ShapeSize {
    var elements: UInt64 = 1
    for dimension in shape {
      guard dimension >= 0 else { return .overflow }
      let (product, overflow) = elements.multipliedReportingOverflow(by: UInt64(dimension))
      if overflow { return .overflow }
      elements = product
    }
    let (bits, overflow) = elements.multipliedReportingOverflow(by: UInt64(bitSize))
    if overflow { return .overflow }
    if bits % 8 != 0 { return .misaligned }
    guard bits / 8 <= UInt64(Int.max) else { return .overflow }
    return .bytes(Int(bits / 8))
  }

  public var description: String { rawValue }
}
