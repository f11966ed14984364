/// jinja2's tests (`x is defined`, `x is string`, `n is divisibleby 3`...).
extension Interpreter {
  func applyTest(_ name: String, _ value: Value, _ args: Value.CallArguments, _ scope: Scope) throws -> Bool {
    func argument() throws -> Value {
      guard let a = args.positional.first ?? args.keyword.first?.value else {
        throw ValueError.type("the '\(name)' test needs an argument")
      }
      return a
    }
    switch name {
    case "defined": return !value.isUndefined
    case "undefined": return value.isUndefined
    case "none": if case .none = value { return true } else { return false }
    case "string": if case .string = value { return true } else { return false }
    case "mapping": if case .dict = value { return true } else { return false }
    case "boolean": if case .bool = value { return true } else { return false }
    case "true": if case .bool(true) = value { return true } else { return false }
    case "false": if case .bool(false) = value { return true } else { return false }
    case "number": return value.number != nil
    case "integer": if case .int = value { return true } else { return false }
    case "float": if case .double = value { return true } else { return false }
    case "iterable":
      switch value {
      case .undefined, .string, .list, .tuple, .dict: return true
      default: return false
      }
    case "sequence":
      switch value {
      case .string, .list, .tuple, .dict: return true
      default: return false
      }
    case "callable": if case .function = value { return true } else { return false }
    case "odd":
      return try Operators.binary("%", value, .int(2)).equals(.int(1))
    case "even":
      return try Operators.binary("%", value, .int(2)).equals(.int(0))
    case "divisibleby":
      return try Operators.binary("%", value, try argument()).equals(.int(0))
    case "eq", "equalto", "==": return value.equals(try argument())
    case "ne", "!=": return !value.equals(try argument())
    case "lt", "lessthan", "<": return try value.less(than: try argument())
    case "gt", "greaterthan", ">": return try argument().less(than: value)
    case "le", "<=":
      let other = try argument()
      return try value.less(than: other) || value.equals(other)
    case "ge", ">=":
      let other = try argument()
      return try other.less(than: value) || value.equals(other)
    case "in": return try value.isContained(in: try argument())
    case "sameas":
      let other = try argument()
      switch (value, other) {
      case (.none, .none): return true
      case let (.bool(a), .bool(b)): return a == b
      case let (.namespace(a), .namespace(b)): return a === b
      default: return false
      }
    case "lower":
      let s = value.str
      return s.lowercased() == s
    case "upper":
      let s = value.str
      return s.uppercased() == s
    case "filter", "test", "escaped":
      throw ValueError.unsupported("the '\(name)' test")
    default:
      throw ValueError.unsupported("the '\(name)' test (no test named '\(name)' is implemented)")
    }
  }
}
