import JSONSupport

extension JSONValue {
  /// The value as a field string: strings as-is, integers (and integral doubles) in decimal,
  /// booleans as `true`/`false`; nil for null, arrays and objects.
  var fieldString: String? {
    switch self {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .double(let d):
      if d.isFinite, d == d.rounded(), abs(d) < 9.0e15 { return String(Int64(d)) }
      return String(d)
    case .bool(let b): return b ? "true" : "false"
    case .null, .array, .object: return nil
    }
  }
}
