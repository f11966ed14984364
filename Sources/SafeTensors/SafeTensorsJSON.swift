/// A strict, allocation-light JSON tokenizer over the raw header bytes.
///
/// It implements RFC 8259 exactly (no comments, no trailing commas, no
/// leading zeros, no lone surrogates, no raw control characters in strings),
/// which is what the reference crate's `serde_json` accepts. The header parser
/// drives it schema-first, so nothing but the strings and integers actually
/// needed is materialised, and it reports byte offsets for every error.
///
/// The bytes must already have been validated as UTF-8.
struct SafeTensorsJSONCursor {
  /// JSON nesting depth limit, matching `serde_json`'s default recursion limit.
  static let maxDepth = 128

  /// Failure carrying the offset (relative to the header start) and reason;
  /// the header parser turns it into `SafeTensorsError.Kind.invalidJSON`.
  struct SyntaxError: Error {
    let offset: Int
    let reason: String
  }

  /// Classification of a JSON number token, used for integer-only fields.
  enum Number {
    case unsigned(UInt64)
    case negative(String)
    case fractional(String)
    case tooLarge(String)
  }

  let bytes: UnsafeRawBufferPointer
  private(set) var position = 0

  init(_ bytes: UnsafeRawBufferPointer) {
    self.bytes = bytes
  }

  var isAtEnd: Bool { position >= bytes.count }

  /// Byte at the current position, or `nil` at the end.
  var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  func fail(_ reason: String, at offset: Int? = nil) -> SyntaxError {
    SyntaxError(offset: offset ?? position, reason: reason)
  }

  /// Consumes `byte` (after whitespace) or fails describing what was expected.
  mutating func expect(_ byte: UInt8, _ what: String) throws {
    skipWhitespace()
    guard let found = peek else { throw fail("unexpected end of header, expected \(what)") }
    guard found == byte else { throw fail("expected \(what), found \(Self.describe(found))") }
    position += 1
  }

  /// Human name of the JSON value that starts with `byte`.
  static func valueKind(startingWith byte: UInt8?) -> String {
    guard let byte else { return "end of header" }
    switch byte {
    case UInt8(ascii: "{"): return "an object"
    case UInt8(ascii: "["): return "an array"
    case UInt8(ascii: "\""): return "a string"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
    case UInt8(ascii: "n"): return "null"
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
    default: return describe(byte)
    }
  }

  static func describe(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x" + String(byte, radix: 16, uppercase: true)
  }

  /// Kind of the next value (after whitespace), for error messages.
  mutating func nextValueKind() -> String {
    skipWhitespace()
    return Self.valueKind(startingWith: peek)
  }

  // MARK: Strings

  /// Parses a string at the current position (after whitespace).
  mutating func parseString() throws -> String {
    skipWhitespace()
    guard peek == UInt8(ascii: "\"") else {
      throw fail("expected a string, found \(Self.valueKind(startingWith: peek))")
    }
    position += 1
    let start = position
    // Fast path: no escapes.
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        position += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw fail("control character \(Self.describe(byte)) in string") }
      position += 1
    }
    guard position < bytes.count else { throw fail("unterminated string", at: start - 1) }
    var buffer = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
    while position < bytes.count {
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        return String(decoding: buffer, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try parseEscape(into: &buffer)
      case ..<0x20:
        throw fail("control character \(Self.describe(byte)) in string")
      default:
        buffer.append(byte)
        position += 1
      }
    }
    throw fail("unterminated string", at: start - 1)
  }

  private mutating func parseEscape(into buffer: inout [UInt8]) throws {
    let escapeStart = position
    position += 1
    guard let code = peek else { throw fail("unterminated escape sequence", at: escapeStart) }
    position += 1
    switch code {
    case UInt8(ascii: "\""): buffer.append(0x22)
    case UInt8(ascii: "\\"): buffer.append(0x5C)
    case UInt8(ascii: "/"): buffer.append(0x2F)
    case UInt8(ascii: "b"): buffer.append(0x08)
    case UInt8(ascii: "f"): buffer.append(0x0C)
    case UInt8(ascii: "n"): buffer.append(0x0A)
    case UInt8(ascii: "r"): buffer.append(0x0D)
    case UInt8(ascii: "t"): buffer.append(0x09)
    case UInt8(ascii: "u"):
      var scalar = try parseHex4(escapeStart: escapeStart)
      if scalar >= 0xD800 && scalar <= 0xDBFF {
        // High surrogate: must be followed by an escaped low surrogate.
        guard position + 1 < bytes.count,
          bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
        else { throw fail("lone leading surrogate in \\u escape", at: escapeStart) }
        position += 2
        let low = try parseHex4(escapeStart: escapeStart)
        guard low >= 0xDC00 && low <= 0xDFFF else {
          throw fail("invalid trailing surrogate in \\u escape", at: escapeStart)
        }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
        throw fail("lone trailing surrogate in \\u escape", at: escapeStart)
      }
      guard let unicode = Unicode.Scalar(scalar) else {
        throw fail("invalid \\u escape", at: escapeStart)
      }
      buffer.append(contentsOf: unicode.utf8)
    default:
      throw fail("invalid escape '\\\(Character(Unicode.Scalar(code)))'", at: escapeStart)
    }
  }

  private mutating func parseHex4(escapeStart: Int) throws -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("truncated \\u escape", at: escapeStart) }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw fail("invalid hex digit in \\u escape", at: escapeStart)
      }
      value = value << 4 | UInt32(digit)
      position += 1
    }
    return value
  }

  // MARK: Numbers

  /// Parses a number token (after whitespace), validating RFC 8259 grammar.
  mutating func parseNumber() throws -> Number {
    skipWhitespace()
    let start = position
    var negative = false
    if peek == UInt8(ascii: "-") { negative = true; position += 1 }
    guard let first = peek, Self.isDigit(first) else {
      throw fail(
        negative ? "invalid number" : "expected a number, found \(Self.valueKind(startingWith: peek))", at: start)
    }
    var value: UInt64 = 0
    var overflow = false
    if first == UInt8(ascii: "0") {
      position += 1
      if let next = peek, Self.isDigit(next) { throw fail("invalid number (leading zero)", at: start) }
    } else {
      while let digit = peek, Self.isDigit(digit) {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
        overflow = overflow || o1 || o2
        value = sum
        position += 1
      }
    }
    var fractional = false
    if peek == UInt8(ascii: ".") {
      fractional = true
      position += 1
      guard let digit = peek, Self.isDigit(digit) else { throw fail("invalid number (no digits after '.')", at: start) }
      while let digit = peek, Self.isDigit(digit) { position += 1 }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      fractional = true
      position += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
      guard let digit = peek, Self.isDigit(digit) else { throw fail("invalid number (no exponent digits)", at: start) }
      while let digit = peek, Self.isDigit(digit) { position += 1 }
    }
    if !fractional && !negative && !overflow { return .unsigned(value) }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    if fractional { return .fractional(text) }
    if negative { return .negative(text) }
    return .tooLarge(text)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  // MARK: Generic values

  /// Consumes a literal (`true`, `false`, `null`).
  private mutating func parseLiteral(_ literal: StaticString) throws {
    let count = literal.utf8CodeUnitCount
    guard position + count <= bytes.count else { throw fail("invalid literal") }
    let matches = literal.withUTF8Buffer { expected in
      for index in 0..<count where bytes[position + index] != expected[index] { return false }
      return true
    }
    guard matches else { throw fail("invalid literal") }
    position += count
  }

  /// Consumes `null` if it is next (after whitespace).
  mutating func consumeNull() throws -> Bool {
    skipWhitespace()
    guard peek == UInt8(ascii: "n") else { return false }
    try parseLiteral("null")
    return true
  }

  /// Validates and skips any JSON value, up to `maxDepth` nesting.
  mutating func skipValue(depth: Int = 0) throws {
    skipWhitespace()
    guard let byte = peek else { throw fail("unexpected end of header, expected a value") }
    switch byte {
    case UInt8(ascii: "{"):
      guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
      position += 1
      try forEachMember { cursor, _ in try cursor.skipValue(depth: depth + 1) }
    case UInt8(ascii: "["):
      guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
      position += 1
      try forEachElement { cursor in try cursor.skipValue(depth: depth + 1) }
    case UInt8(ascii: "\""): _ = try parseString()
    case UInt8(ascii: "t"): try parseLiteral("true")
    case UInt8(ascii: "f"): try parseLiteral("false")
    case UInt8(ascii: "n"): try parseLiteral("null")
    default: _ = try parseNumber()
    }
  }

  /// Iterates the members of an object whose `{` was already consumed,
  /// calling `body` with the cursor positioned at each value.
  mutating func forEachMember(_ body: (inout SafeTensorsJSONCursor, String) throws -> Void) throws {
    skipWhitespace()
    if peek == UInt8(ascii: "}") { position += 1; return }
    while true {
      skipWhitespace()
      guard peek == UInt8(ascii: "\"") else {
        throw fail("expected an object key string, found \(Self.valueKind(startingWith: peek))")
      }
      let key = try parseString()
      try expect(UInt8(ascii: ":"), "':' after object key")
      try body(&self, key)
      skipWhitespace()
      guard let next = peek else { throw fail("unexpected end of header inside an object") }
      position += 1
      if next == UInt8(ascii: "}") { return }
      guard next == UInt8(ascii: ",") else {
        throw fail("expected ',' or '}' in object, found \(Self.describe(next))", at: position - 1)
      }
    }
  }

  /// Iterates the elements of an array whose `[` was already consumed.
  mutating func forEachElement(_ body: (inout SafeTensorsJSONCursor) throws -> Void) throws {
    skipWhitespace()
    if peek == UInt8(ascii: "]") { position += 1; return }
    while true {
      try body(&self)
      skipWhitespace()
      guard let next = peek else { throw fail("unexpected end of header inside an array") }
      position += 1
      if next == UInt8(ascii: "]") { return }
      guard next == UInt8(ascii: ",") else {
        throw fail("expected ',' or ']' in array, found \(Self.describe(next))", at: position - 1)
      }
    }
  }

  /// Consumes `{` or `[` if it is next (after whitespace).
  mutating func consume(_ byte: UInt8) -> Bool {
    skipWhitespace()
    guard peek == byte else { return false }
    position += 1
    return true
  }
}

/// UTF-8 validation following Unicode Table 3-7 (no overlongs, no
/// surrogates, nothing above U+10FFFF). Returns the offset of the first
/// invalid byte, or `nil` when the whole buffer is valid.
func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
  let count = bytes.count
  var index = 0
  @inline(__always) func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
    offset < count && range.contains(bytes[offset])
  }
  while index < count {
    // ASCII fast path, eight bytes at a time.
    while index + 8 <= count,
      bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
    {
      index += 8
    }
    guard index < count else { break }
    let lead = bytes[index]
    switch lead {
    case 0x00...0x7F:
      index += 1
    case 0xC2...0xDF:
      guard continuation(index + 1) else { return index }
      index += 2
    case 0xE0:
      guard continuation(index + 1, 0xA0...0xBF), continuation(index + 2) else { return index }
      index += 3
    case 0xE1...0xEC, 0xEE...0xEF:
      guard continuation(index + 1), continuation(index + 2) else { return index }
      index += 3
    case 0xED:
      guard continuation(index + 1, 0x80...0x9F), continuation(index + 2) else { return index }
      index += 3
    case 0xF0:
      guard continuation(index + 1, 0x90...0xBF), continuation(index + 2), continuation(index + 3) else { return index }
      index += 4
    case 0xF1...0xF3:
      guard continuation(index + 1), continuation(index + 2), continuation(index + 3) else { return index }
      index += 4
    case 0xF4:
      guard continuation(index + 1, 0x80...0x8F), continuation(index + 2), continuation(index + 3) else { return index }
      index += 4
    default:
      return index
    }
  }
  return nil
}
