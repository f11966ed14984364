/// Writing JSON by hand (exact control over the bytes): the package's one string escaper and number format.
package enum JSONText {
  /// Appends `text` as a JSON string literal, escaped as `serde_json` and Python's `json` (with
  /// `ensure_ascii=False`) do: `"` and `\`, the short escapes `\b \t \n \f \r`, other control characters
  /// as `\u00xx` (lowercase hex), everything else (non-ASCII, `/`) verbatim.
  package static func appendString(_ text: String, to json: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    json.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): json.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): json.append(contentsOf: [0x5C, 0x5C])
      case 0x08: json.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x09: json.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x0A: json.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0C: json.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0x0D: json.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case ..<0x20:
        json.append(contentsOf: [
          0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]
        ])
      default: json.append(byte)
      }
    }
    json.append(UInt8(ascii: "\""))
  }

  /// `text` as a JSON string literal (see `appendString`).
  package static func string(_ text: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 2)
    appendString(text, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// The shortest round-tripping decimal form (integral values below 1e15 without a fraction); `null` for
  /// NaN and infinities, which JSON cannot hold.
  package static func number(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
  }
}
