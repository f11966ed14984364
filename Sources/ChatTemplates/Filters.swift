/// jinja2's built-in filters used by chat templates, and transformers' `tojson`.
extension Interpreter {
  func applyFilter(_ name: String, _ value: Value, _ args: Value.CallArguments, _ scope: Scope) throws -> Value {
    switch name {
    case "safe", "e", "escape", "forceescape":
      if name == "safe" { return .string(value.str) }
      return .string(Filters.escapeHTML(value.str))
    case "string": return .string(value.str)
    case "trim":
      try args.check(name, accepts: ["chars"])
      var chars: String? = nil
      if case let .string(c)? = args.argument(0, "chars") { chars = c }
      return .string(PythonFormat.strip(value.str, chars))
    case "upper": return .string(PythonFormat.upper(value.str))
    case "lower": return .string(PythonFormat.lower(value.str))
    case "capitalize": return .string(PythonFormat.capitalize(value.str))
    case "title": return .string(Filters.title(value.str))
    case "replace":
      try args.check(name, accepts: ["old", "new", "count"])
      guard let old = args.argument(0, "old"), let new = args.argument(1, "new") else {
        throw ValueError.type("replace filter needs two arguments")
      }
      let count = args.argument(2, "count")?.integer ?? -1
      return .string(PythonFormat.replace(value.str, old.str, new.str, count: count))
    case "length", "count": return .int(try value.length())
    case "default", "d":
      try args.check(name, accepts: ["default_value", "boolean"])
      let boolean = args.argument(1, "boolean")?.isTruthy ?? false
      if value.isUndefined || (boolean && !value.isTruthy) { return args.argument(0, "default_value") ?? .string("") }
      return value
    case "first":
      return try value.iterate().first ?? .undefined("No first item, sequence was empty.")
    case "last":
      guard case let .string(s) = value else {
        return try value.iterate().last ?? .undefined("No last item, sequence was empty.")
      }
      return s.unicodeScalars.last.map { .string(String($0)) } ?? .undefined("No last item, sequence was empty.")
    case "join":
      try args.check(name, accepts: ["d", "attribute"])
      var items = try value.iterate()
      if let attribute = args.argument(1, "attribute") {
        items = try items.map { try attributePath($0, attribute) }
      }
      let separator = args.argument(0, "d")?.str ?? ""
      return .string(items.map(\.str).joined(separator: separator))
    case "list": return .list(try value.iterate())
    case "unique":
      var seen: [Value] = []
      for item in try value.iterate() {
        switch item {
        case .list, .dict, .namespace: throw ValueError.type("unhashable type: '\(item.typeName)'")
        default: break
        }
      }
      for item in try value.iterate() where !seen.contains(where: { $0.equals(item) }) { seen.append(item) }
      return .list(seen)
    case "reverse":
      if case let .string(s) = value { return .string(PythonFormat.string(s.unicodeScalars.reversed())) }
      return .list(try value.iterate().reversed())
    case "int": return try Filters.int(try value.defined(), args)
    case "float": return try Filters.float(try value.defined(), args)
    case "abs":
      switch try value.defined() {
      case let .double(d): return .double(abs(d))
      default:
        guard let i = value.integer else { throw ValueError.type("bad operand type for abs(): '\(value.typeName)'") }
        return .int(abs(i))
      }
    case "round":
      try args.check(name, accepts: ["precision", "method"])
      guard let number = try value.defined().number else { throw ValueError.type("round filter needs a number") }
      let precision = args.argument(0, "precision")?.integer ?? 0
      if let i = value.integer, precision >= 0 { return .int(i) }  // Python's round(int) is an int
      let method = args.argument(1, "method")?.str ?? "common"
      var scale = 1.0
      for _ in 0..<abs(precision) { scale *= 10 }
      let scaled = precision >= 0 ? number * scale : number / scale
      let rounded: Double
      switch method {
      case "common": rounded = scaled.rounded(.toNearestOrEven)  // Python's round()
      case "ceil": rounded = scaled.rounded(.up)
      case "floor": rounded = scaled.rounded(.down)
      default: throw ValueError.type("method must be common, ceil or floor")
      }
      return .double(precision >= 0 ? rounded / scale : rounded * scale)
    case "items":
      switch value {
      case .undefined: return .list([])
      case let .dict(d): return .list(d.pairs.map { .tuple([.string($0.0), $0.1]) })
      default: throw ValueError.type("Can only get item pairs from a mapping.")
      }
    case "dictsort":
      guard case let .dict(d) = value else { throw ValueError.type("dictsort needs a mapping") }
      let byValue = args.argument(1, "by")?.str == "value"
      let reverse = args.argument(2, "reverse")?.isTruthy ?? false
      let pairs = try sortValues(d.pairs.map { Value.tuple([.string($0.0), $0.1]) }, reverse: reverse) {
        try self.item($0, .int(byValue ? 1 : 0))
      }
      return .list(pairs)
    case "sort":
      try args.check(name, accepts: ["reverse", "case_sensitive", "attribute"])
      let reverse = args.argument(0, "reverse")?.isTruthy ?? false
      let attribute = args.argument(2, "attribute")
      return .list(
        try sortValues(try value.iterate(), reverse: reverse) { item in
          guard let attribute else { return item }
          return try self.attributePath(item, attribute)
        })
    case "sum":
      var total = Value.int(0)
      for item in try value.iterate() { total = try Operators.binary("+", total, item) }
      return total
    case "min", "max":
      let items = try value.iterate()
      guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
      for item in items.dropFirst() where try (name == "min" ? item.less(than: best) : best.less(than: item)) {
        best = item
      }
      return best
    case "tojson":
      try args.check(name, accepts: ["ensure_ascii", "indent", "separators", "sort_keys"])
      return .string(try JSONDump.dump(value, args))
    case "indent":
      // jinja2 appends "\n" to its argument and splits lines: only strings work.
      guard case let .string(text) = value else {
        throw ValueError.type("the indent filter needs a string, not \(value.typeName)")
      }
      return try Filters.indent(text, args)
    case "wordcount": return .int(try PythonFormat.split(value.str, separator: nil).count)
    case "center":
      let width = args.argument(0, "width")?.integer ?? 80
      let text = PythonFormat.scalars(value.str)
      guard width > text.count else { return .string(value.str) }
      let total = width - text.count
      let left = total / 2 + (total & width & 1)
      return .string(String(repeating: " ", count: left) + value.str + String(repeating: " ", count: total - left))
    case "map": return try map(value, args, scope)
    case "select", "reject", "selectattr", "rejectattr": return try select(name, value, args, scope)
    case "batch", "slice", "groupby", "format", "pprint", "truncate", "wordwrap", "urlencode", "urlize", "xmlattr",
      "striptags", "filesizeformat", "attr", "random":
      throw ValueError.unsupported("the '\(name)' filter")
    default:
      throw ValueError.unsupported("the '\(name)' filter (no filter named '\(name)' is implemented)")
    }
  }

  /// jinja2's `make_attrgetter`: a dotted path of attributes or integer items.
  func attributePath(_ value: Value, _ path: Value) throws -> Value {
    guard case let .string(text) = path else { return try item(value, path) }
    var current = value
    for part in text.split(separator: ".", omittingEmptySubsequences: false) {
      if let i = Int(part) {
        current = try item(current, .int(i))
      } else {
        current = try item(current, .string(String(part)))
      }
    }
    return current
  }

  private func sortValues(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
    var keyed = try items.map { (try key($0), $0) }
    // Case-insensitive by default, as jinja2's sort and dictsort are.
    keyed = keyed.map { k, v in
      if case let .string(s) = k { return (.string(s.lowercased()), v) }
      return (k, v)
    }
    var failure: Error? = nil
    let sorted = keyed.enumerated().sorted { a, b in
      do {
        if try a.element.0.less(than: b.element.0) { return !reverse }
        if try b.element.0.less(than: a.element.0) { return reverse }
      } catch { failure = error }
      return a.offset < b.offset
    }
    if let failure { throw failure }
    return sorted.map { $0.element.1 }
  }

  private func map(_ value: Value, _ args: Value.CallArguments, _ scope: Scope) throws -> Value {
    guard value.isTruthy else { return .list([]) }  // jinja2 maps nothing over a false value
    let items = try value.iterate()
    if let attribute = args.keyword.first(where: { $0.name == "attribute" })?.value {
      let defaultValue = args.keyword.first { $0.name == "default" }?.value
      return .list(
        try items.map {
          let found = try attributePath($0, attribute)
          if found.isUndefined, let defaultValue { return defaultValue }
          return found
        })
    }
    guard case let .string(filter)? = args.positional.first else {
      throw ValueError.type("map requires a filter argument")
    }
    let rest = Value.CallArguments(Array(args.positional.dropFirst()), keyword: args.keyword)
    return .list(try items.map { try applyFilter(filter, $0, rest, scope) })
  }

  private func select(_ name: String, _ value: Value, _ args: Value.CallArguments, _ scope: Scope) throws -> Value {
    guard value.isTruthy else { return .list([]) }  // as jinja2's select_or_reject
    let byAttribute = name.hasSuffix("attr")
    let keep = name.hasPrefix("select")
    var positional = args.positional
    var attribute: Value? = nil
    if byAttribute {
      guard !positional.isEmpty else { throw ValueError.type("Missing parameter for attribute name") }
      attribute = positional.removeFirst()
    }
    var test: String? = nil
    if !positional.isEmpty {
      guard case let .string(t) = positional.removeFirst() else { throw ValueError.type("test name must be a string") }
      test = t
    }
    let testArgs = Value.CallArguments(positional, keyword: args.keyword)
    return .list(
      try value.iterate().filter { item in
        let subject = try attribute.map { try attributePath(item, $0) } ?? item
        let passed = try test.map { try applyTest($0, subject, testArgs, scope) } ?? subject.isTruthy
        return passed == keep
      })
  }
}

enum Filters {
  static func escapeHTML(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&#34;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  /// jinja2's `title` filter: capitalizes each word, words split at whitespace, `-`, and opening brackets.
  static func title(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
      let separator = Lexer.isWhitespace(c) || "-({[<".unicodeScalars.contains(c)
      if separator {
        out.unicodeScalars.append(c)
        atWordStart = true
      } else {
        out += atWordStart ? String(c).uppercased() : String(c).lowercased()
        atWordStart = false
      }
    }
    return out
  }

  static func int(_ value: Value, _ args: Value.CallArguments) throws -> Value {
    let defaultValue = args.argument(0, "default") ?? .int(0)
    switch value {
    case let .int(i): return .int(i)
    case let .bool(b): return .int(b ? 1 : 0)
    case let .double(d): return d.isFinite ? .int(Int(d)) : defaultValue
    case let .string(s):
      let text = PythonFormat.strip(s, nil).replacingUnderscores()
      if let i = Int(text) { return .int(i) }
      if let d = Double(text), d.isFinite { return .int(Int(d)) }
      return defaultValue
    default: return defaultValue
    }
  }

  static func float(_ value: Value, _ args: Value.CallArguments) throws -> Value {
    let defaultValue = args.argument(0, "default") ?? .double(0)
    switch value {
    case let .string(s): return Double(PythonFormat.strip(s, nil)).map { .double($0) } ?? defaultValue
    default: return value.number.map { .double($0) } ?? defaultValue
    }
  }

  /// jinja2's `indent(width=4, first=False, blank=False)`.
  static func indent(_ text: String, _ args: Value.CallArguments) throws -> Value {
    try args.check("indent", accepts: ["width", "first", "blank"])
    let indentation: String
    switch args.argument(0, "width") ?? .int(4) {
    case let .string(s): indentation = s
    case let w: indentation = String(repeating: " ", count: w.integer ?? 4)
    }
    let first = args.argument(1, "first")?.isTruthy ?? false
    let blank = args.argument(2, "blank")?.isTruthy ?? false
    var lines = PythonFormat.splitLines(text + "\n")
    var result: String
    if blank {
      result = lines.joined(separator: "\n" + indentation)
    } else {
      result = lines.isEmpty ? "" : lines.removeFirst()
      if !lines.isEmpty { result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
    }
    if first { result = indentation + result }
    return .string(result)
  }
}

extension String {
  fileprivate func replacingUnderscores() -> String { PythonFormat.replace(self, "_", "") }
}
