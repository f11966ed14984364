import JSONSupport

/// Python's `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`: transformers'
/// `tojson` filter (not jinja2's HTML-escaping one).
enum JSONDump {
  static func dump(_ value: Value, _ args: Value.CallArguments) throws -> String {
    let ensureASCII = args.argument(0, "ensure_ascii")?.isTruthy ?? false
    var indent: String? = nil
    switch args.argument(1, "indent") {
    case nil, .none?: break
    case let .string(s)?: indent = s
    case let other?:
      guard let n = other.integer else { throw ValueError.type("indent must be an int or a string") }
      indent = String(repeating: " ", count: max(0, n))
    }
    var itemSeparator = indent == nil ? ", " : ","
    var keySeparator = ": "
    switch args.argument(2, "separators") {
    case nil, .none?: break
    case let .list(items)?, let .tuple(items)?:
      guard items.count == 2, case let .string(a) = items[0], case let .string(b) = items[1] else {
        throw ValueError.type("separators must be a pair of strings")
      }
      itemSeparator = a
      keySeparator = b
    default: throw ValueError.type("separators must be a pair of strings")
    }
    let sortKeys = args.argument(3, "sort_keys")?.isTruthy ?? false
    var out = ""
    try write(
      value, to: &out, level: 0, indent: indent, itemSeparator: itemSeparator, keySeparator: keySeparator,
      sortKeys: sortKeys, ensureASCII: ensureASCII)
    return out
  }

  private static func string(_ s: String, ensureASCII: Bool) -> String {
    let escaped = JSONText.string(s)
    guard ensureASCII else { return escaped }
    var out = ""
    for unit in escaped.utf16 {
      if unit < 0x80 {
        out.unicodeScalars.append(Unicode.Scalar(unit)!)
      } else {
        out += "\\u" + PythonFormat.hex(UInt32(unit), 4)
      }
    }
    return out
  }

  private static func write(
    _ value: Value, to out: inout String, level: Int, indent: String?, itemSeparator: String, keySeparator: String,
    sortKeys: Bool, ensureASCII: Bool
  ) throws {
    func newline(_ depth: Int) {
      if let indent { out += "\n" + String(repeating: indent, count: depth) }
    }
    func nested(_ v: Value) throws {
      try write(
        v, to: &out, level: level + 1, indent: indent, itemSeparator: itemSeparator, keySeparator: keySeparator,
        sortKeys: sortKeys, ensureASCII: ensureASCII)
    }
    switch value {
    case .none: out += "null"
    case let .bool(b): out += b ? "true" : "false"
    case let .int(i): out += String(i)
    case let .double(d):
      out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : PythonFormat.float(d)
    case let .string(s): out += string(s, ensureASCII: ensureASCII)
    case let .list(items), let .tuple(items):
      guard !items.isEmpty else {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += itemSeparator }
        newline(level + 1)
        try nested(item)
      }
      newline(level)
      out += "]"
    case let .dict(d):
      guard d.count > 0 else {
        out += "{}"
        return
      }
      out += "{"
      let pairs =
        sortKeys ? d.pairs.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } : d.pairs
      for (i, pair) in pairs.enumerated() {
        if i > 0 { out += itemSeparator }
        newline(level + 1)
        out += string(pair.0, ensureASCII: ensureASCII) + keySeparator
        try nested(pair.1)
      }
      newline(level)
      out += "}"
    case .undefined, .namespace, .function:
      throw ValueError.type("Object of type \(value.typeName) is not JSON serializable")
    }
  }
}
