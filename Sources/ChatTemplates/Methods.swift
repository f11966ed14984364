/// The Python methods templates call on strings, dicts and lists (`.strip()`, `.items()`, `.get()`...).
/// Methods that would mutate a value are refused, as transformers' immutable sandbox refuses them.
enum Methods {
  static func method(_ value: Value, _ name: String) -> Value.Function? {
    switch value {
    case let .string(s): return stringMethod(s, name)
    case let .dict(d): return dictMethod(d, name)
    case let .list(items), let .tuple(items):
      switch name {
      case "count":
        return function(name) { args in
          try args.check(name, accepts: ["x"])
          guard let x = args.argument(0, "x") else { throw ValueError.type("count() takes exactly one argument") }
          return .int(items.filter { $0.equals(x) }.count)
        }
      case "index":
        return function(name) { args in
          guard let x = args.argument(0, "x") else { throw ValueError.type("index() takes at least 1 argument") }
          guard let i = items.firstIndex(where: { $0.equals(x) }) else {
            throw ValueError.type("\(x.repr) is not in list")
          }
          return .int(i)
        }
      case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse":
        return unsafe(value, name)
      default: return nil
      }
    default: return nil
    }
  }

  private static func function(_ name: String, _ body: @escaping (Value.CallArguments) throws -> Value)
    -> Value.Function
  {
    Value.Function(name: name, call: body)
  }

  private static func unsafe(_ value: Value, _ name: String) -> Value.Function {
    function(name) { _ in
      throw ValueError.type(
        "SecurityError: access to attribute '\(name)' of '\(value.typeName)' object is unsafe.")
    }
  }

  private static func dictMethod(_ d: Value.Dict, _ name: String) -> Value.Function? {
    switch name {
    case "items": return function(name) { _ in .list(d.pairs.map { .tuple([.string($0.0), $0.1]) }) }
    case "keys": return function(name) { _ in .list(d.keys.map { .string($0) }) }
    case "values": return function(name) { _ in .list(d.pairs.map { $0.1 }) }
    case "get":
      return function(name) { args in
        try args.check(name, accepts: ["key", "default"])
        guard let key = args.argument(0, "key") else { throw ValueError.type("get expected at least 1 argument") }
        if case let .string(k) = key, let found = d[k] { return found }
        return args.argument(1, "default") ?? .none
      }
    case "copy": return function(name) { _ in .dict(d) }
    case "pop", "popitem", "setdefault", "update", "clear": return unsafe(.dict(d), name)
    default: return nil
    }
  }

  private static func string(_ args: Value.CallArguments, _ position: Int, _ name: String) throws -> String? {
    switch args.argument(position, name) {
    case nil, .none?: return nil
    case let .string(s)?: return s
    case let other?: throw ValueError.type("argument must be str or None, not \(other.typeName)")
    }
  }

  private static func int(_ args: Value.CallArguments, _ position: Int, _ name: String, _ defaultValue: Int) throws
    -> Int
  {
    guard let value = args.argument(position, name) else { return defaultValue }
    guard let i = value.integer else {
      throw ValueError.type("'\(value.typeName)' object cannot be interpreted as an integer")
    }
    return i
  }

  /// `startswith`/`endswith` accept a string or a tuple of strings.
  private static func affixes(_ args: Value.CallArguments, _ method: String) throws -> [String] {
    switch args.argument(0, "prefix") {
    case let .string(s)?: return [s]
    case let .tuple(items)?, let .list(items)?:
      return try items.map {
        guard case let .string(s) = $0 else { throw ValueError.type("tuple for \(method) must only contain str") }
        return s
      }
    default: throw ValueError.type("\(method) first arg must be str or a tuple of str")
    }
  }

  private static func stringMethod(_ s: String, _ name: String) -> Value.Function? {
    switch name {
    case "strip", "lstrip", "rstrip":
      return function(name) { args in
        try args.check(name, accepts: ["chars"])
        let chars = try string(args, 0, "chars")
        return .string(PythonFormat.strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
      }
    case "split":
      return function(name) { args in
        try args.check(name, accepts: ["sep", "maxsplit"])
        let parts = try PythonFormat.split(
          s, separator: try string(args, 0, "sep"), maxSplit: try int(args, 1, "maxsplit", -1))
        return .list(parts.map { .string($0) })
      }
    case "splitlines":
      return function(name) { _ in .list(PythonFormat.splitLines(s).map { .string($0) }) }
    case "startswith", "endswith":
      return function(name) { args in
        let text = PythonFormat.scalars(s)
        for affix in try affixes(args, name) {
          let a = PythonFormat.scalars(affix)
          if name == "startswith" ? text.starts(with: a) : text.reversed().starts(with: a.reversed()) {
            return .bool(true)
          }
        }
        return .bool(false)
      }
    case "upper": return function(name) { _ in .string(PythonFormat.upper(s)) }
    case "lower": return function(name) { _ in .string(PythonFormat.lower(s)) }
    case "title": return function(name) { _ in .string(PythonFormat.title(s)) }
    case "capitalize": return function(name) { _ in .string(PythonFormat.capitalize(s)) }
    case "replace":
      return function(name) { args in
        guard let old = try string(args, 0, "old"), let new = try string(args, 1, "new") else {
          throw ValueError.type("replace expected at least 2 arguments")
        }
        return .string(PythonFormat.replace(s, old, new, count: try int(args, 2, "count", -1)))
      }
    case "find", "rfind", "index", "rindex", "count":
      return function(name) { args in
        guard let needle = try string(args, 0, "sub") else { throw ValueError.type("\(name) expected a string") }
        let text = PythonFormat.scalars(s)
        let n = PythonFormat.scalars(needle)
        var found: [Int] = []
        var i = 0
        while let j = PythonFormat.find(n, in: text, from: i) {
          found.append(j)
          i = j + max(n.count, 1)
          if i > text.count { break }
        }
        switch name {
        case "count": return .int(found.count)
        case "find": return .int(found.first ?? -1)
        case "rfind": return .int(found.last ?? -1)
        default:
          guard let index = name == "index" ? found.first : found.last else {
            throw ValueError.type("substring not found")
          }
          return .int(index)
        }
      }
    case "join":
      return function(name) { args in
        guard let iterable = args.argument(0, "iterable") else {
          throw ValueError.type("join() takes exactly one argument")
        }
        return .string(
          try iterable.iterate().map {
            guard case let .string(item) = $0 else {
              throw ValueError.type("sequence item: expected str instance, \($0.typeName) found")
            }
            return item
          }.joined(separator: s))
      }
    case "isdigit", "isalpha", "isspace", "isupper", "islower", "isalnum":
      return function(name) { _ in
        let scalars = PythonFormat.scalars(s)
        guard !scalars.isEmpty else { return .bool(false) }
        switch name {
        case "isdigit":
          return .bool(scalars.allSatisfy { $0.properties.numericType != nil && $0.properties.numericType != .numeric })
        case "isalpha": return .bool(scalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum":
          return .bool(scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(scalars.allSatisfy(Lexer.isWhitespace))
        case "isupper": return .bool(s.uppercased() == s && s.lowercased() != s)
        default: return .bool(s.lowercased() == s && s.uppercased() != s)
        }
      }
    case "format", "format_map":
      return function(name) { _ in throw ValueError.unsupported("str.\(name)()") }
    default: return nil
    }
  }
}
