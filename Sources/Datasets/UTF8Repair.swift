/// Decoding of possibly ill-formed UTF-8 with replacement characters.
///
/// Each maximal ill-formed subsequence becomes one U+FFFD, the Unicode "substitution of
/// maximal subparts" practice that Python's `bytes.decode("utf-8", errors="replace")` follows.
public enum UTF8Repair {
  /// The decoded string and the number of replacement characters inserted.
  public static func decode<C: Collection>(_ bytes: C) -> (string: String, replacements: Int) where C.Element == UInt8 {
    if let valid = bytes.withContiguousStorageIfAvailable({ String(validating: $0, as: UTF8.self) }) ?? nil {
      return (valid, 0)
    }
    var scalars = String.UnicodeScalarView()
    var replacements = 0
    var iterator = bytes.makeIterator()
    var codec = UTF8()
    loop: while true {
      switch codec.decode(&iterator) {
      case .scalarValue(let s): scalars.append(s)
      case .error:
        scalars.append("\u{FFFD}")
        replacements += 1
      case .emptyInput: break loop
      }
    }
    return (String(scalars), replacements)
  }
}
