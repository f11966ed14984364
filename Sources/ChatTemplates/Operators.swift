#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// Python's arithmetic and comparison operators as jinja2 applies them.
enum Operators {
  static func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
    if op == "~" { return .string(a.str + b.str) }
    if op == "%", case .string = a { throw ValueError.unsupported("printf-style string formatting with '%'") }
    let left = try a.defined()
    let right = try b.defined()
    func unsupported() -> ValueError {
      .type("unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'")
    }
    switch (op, left, right) {
    case let ("+", .string(x), .string(y)): return .string(x + y)
    case let ("+", .list(x), .list(y)): return .list(x + y)
    case let ("+", .tuple(x), .tuple(y)): return .tuple(x + y)
    case let ("*", .string(s), n), let ("*", n, .string(s)):
      guard let count = n.integer else { throw unsupported() }
      return .string(String(repeating: s, count: max(0, count)))
    case let ("*", .list(items), n), let ("*", n, .list(items)):
      guard let count = n.integer else { throw unsupported() }
      return .list(Array(repeating: items, count: max(0, count)).flatMap { $0 })
    default: break
    }
    if let x = left.integer, let y = right.integer {
      switch op {
      case "+": return try checked(x.addingReportingOverflow(y))
      case "-": return try checked(x.subtractingReportingOverflow(y))
      case "*": return try checked(x.multipliedReportingOverflow(by: y))
      case "/":
        guard y != 0 else { throw ValueError.type("division by zero") }
        return .double(Double(x) / Double(y))
      case "//":
        guard y != 0 else { throw ValueError.type("integer division or modulo by zero") }
        let q = x / y
        return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
      case "%":
        guard y != 0 else { throw ValueError.type("integer division or modulo by zero") }
        let r = x % y
        return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
      case "**":
        if y < 0 { return .double(pow(Double(x), Double(y))) }
        var result = 1
        for _ in 0..<y {
          let (product, overflow) = result.multipliedReportingOverflow(by: x)
          if overflow { throw ValueError.unsupported("integers beyond 64 bits") }
          result = product
        }
        return .int(result)
      default: throw unsupported()
      }
    }
    guard let x = left.number, let y = right.number else { throw unsupported() }
    switch op {
    case "+": return .double(x + y)
    case "-": return .double(x - y)
    case "*": return .double(x * y)
    case "/":
      guard y != 0 else { throw ValueError.type("float division by zero") }
      return .double(x / y)
    case "//":
      guard y != 0 else { throw ValueError.type("float floor division by zero") }
      return .double((x / y).rounded(.down))
    case "%":
      guard y != 0 else { throw ValueError.type("float modulo") }
      let r = x.truncatingRemainder(dividingBy: y)
      return .double(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case "**": return .double(pow(x, y))
    default: throw unsupported()
    }
  }

  private static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
    if result.overflow { throw ValueError.unsupported("integers beyond 64 bits") }
    return .int(result.partialValue)
  }

  private static func pow(_ x: Double, _ y: Double) -> Double {
    #if canImport(Glibc)
      return Glibc.pow(x, y)
    #else
      return Foundation.pow(x, y)
    #endif
  }

  static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
    switch op {
    case "==": return a.equals(b)
    case "!=": return !a.equals(b)
    case "<": return try a.less(than: b)
    case ">": return try b.less(than: a)
    case "<=": return try a.less(than: b) || a.equals(b)
    case ">=": return try b.less(than: a) || a.equals(b)
    case "in": return try a.isContained(in: b)
    case "not in": return !(try a.isContained(in: b))
    default: throw ValueError.unsupported("comparison operator \(op)")
    }
  }
}
