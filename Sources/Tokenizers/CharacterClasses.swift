/// Character classes of the pre-tokenizer regexes as Oniguruma (HF's regex engine) defines them for
/// Unicode text: `\p{L}` (general category L*), `\p{N}` (N*), `\s` (the `White_Space` property), plus
/// `[\r\n]`. One flag byte per BMP code point, computed once; other planes are looked up directly.
enum CharacterClasses {
  static let letter: UInt8 = 1
  static let number: UInt8 = 2
  static let space: UInt8 = 4
  static let newline: UInt8 = 8

  /// Flags of U+0000...U+FFFF.
  static let bmp: [UInt8] = (0..<0x10000).map { compute(UInt32($0)) }

  static func compute(_ value: UInt32) -> UInt8 {
    guard let scalar = Unicode.Scalar(value) else { return 0 }
    let p = scalar.properties
    var flags: UInt8 = 0
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: flags |= letter
    case .decimalNumber, .letterNumber, .otherNumber: flags |= number
    default: break
    }
    if p.isWhitespace { flags |= space }
    if value == 0x0A || value == 0x0D { flags |= newline }
    return flags
  }

  /// Flags of any code point, given the BMP table.
  @inline(__always)
  static func of(_ value: UInt32, _ table: UnsafePointer<UInt8>) -> UInt8 {
    value < 0x10000 ? table[Int(value)] : compute(value)
  }
}

/// Decodes the scalar starting at `p[i]` of valid UTF-8: its value and length in bytes.
@inline(__always)
func scalarAt(_ p: UnsafePointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
  let b0 = UInt32(p[i])
  if b0 < 0x80 { return (b0, 1) }
  if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
  if b0 < 0xF0 {
    return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
  }
  return (
    (b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4
  )
}

/// Length in bytes of the UTF-8 sequence that starts with `lead`.
@inline(__always)
func utf8Length(_ lead: UInt8) -> Int {
  lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}

/// Start of the scalar that ends just before `p[i]` (valid UTF-8, `i > 0`).
@inline(__always)
func previousScalarStart(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int {
  var j = i - 1
  while j > 0 && p[j] & 0xC0 == 0x80 { j -= 1 }
  return j
}

/// Appends the UTF-8 encoding of `value`.
@inline(__always)
func appendScalar(_ value: UInt32, to out: inout [UInt8]) {
  switch value {
  case ..<0x80: out.append(UInt8(value))
  case ..<0x800:
    out.append(UInt8(0xC0 | value >> 6))
    out.append(UInt8(0x80 | value & 0x3F))
  case ..<0x10000:
    out.append(UInt8(0xE0 | value >> 12))
    out.append(UInt8(0x80 | (value >> 6) & 0x3F))
    out.append(UInt8(0x80 | value & 0x3F))
  default:
    out.append(UInt8(0xF0 | value >> 18))
    out.append(UInt8(0x80 | (value >> 12) & 0x3F))
    out.append(UInt8(0x80 | (value >> 6) & 0x3F))
    out.append(UInt8(0x80 | value & 0x3F))
  }
}
