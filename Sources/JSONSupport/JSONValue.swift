/// A parsed JSON value: the package's one JSON document type (tokenizer files, JSON Lines records).
/// Integers that fit in `Int64` stay exact (`.int`); other numbers are `.double`.
package enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// Parses `bytes` as one JSON document (RFC 8259, nesting up to 512 levels).
  /// Throws `JSONSyntaxError`.
  package static func parse(_ bytes: [UInt8]) throws -> JSONValue {
    try bytes.withUnsafeBufferPointer { buffer in
      var parser = JSONParser(bytes: buffer)
      parser.skipWhitespace()
      let value = try parser.parseValue(depth: 0)
      parser.skipWhitespace()
      if parser.index < buffer.count { throw parser.error("unexpected trailing characters after the JSON document") }
      return value
    }
  }

  /// Parses UTF-8 text.
  package static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

  /// The number as a `Double` (nil for other kinds).
  package var number: Double? {
    switch self {
    case let .int(i): return Double(i)
    case let .double(d): return d
    default: return nil
    }
  }

  /// Compact JSON with object keys sorted; parses back to the same value.
  package var serialized: String {
    switch self {
    case .null: return "null"
    case let .bool(b): return b ? "true" : "false"
    case let .int(i): return String(i)
    case let .double(d): return d.isFinite ? "\(d)" : "null"  // keeps a fraction or exponent: reads back as .double
    case let .string(s): return JSONText.string(s)
    case let .array(items): return "[" + items.map(\.serialized).joined(separator: ",") + "]"
    case let .object(members):
      return "{"
        + members.sorted { $0.key < $1.key }.map { JSONText.string($0.key) + ":" + $0.value.serialized }
        .joined(separator: ",") + "}"
    }
  }
}

/// Where and why a document is not JSON.
package struct JSONSyntaxError: Error, CustomStringConvertible, Equatable {
  /// 1-based line and column (in characters) of the problem.
  package let line: Int
  package let column: Int
  package let problem: String

  package var description: String { "malformed JSON at line \(line), column \(column): \(problem)" }
}
