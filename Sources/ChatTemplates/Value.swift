import JSONSupport

/// A runtime value with Python's semantics (what jinja2 sees when transformers renders a template).
enum Value {
  /// jinja2's `Undefined`: prints as "", is false, iterates as empty; any attribute or arithmetic on it fails.
  case undefined(String)
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([Value])
  /// A Python tuple: behaves like a list, prints with parentheses.
  case tuple([Value])
  case dict(Dict)
  case namespace(Namespace)
  case function(Function)

  /// An insertion-ordered dictionary with string keys (JSON objects, template dict literals).
  struct Dict {
    private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    init() {}
    init(_ pairs: [(String, Value)]) {
      for (key, value) in pairs { self[key] = value }
    }

    var count: Int { keys.count }
    var pairs: [(String, Value)] { keys.map { ($0, storage[$0]!) } }

    subscript(key: String) -> Value? {
      get { storage[key] }
      set {
        if let newValue {
          if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
        } else if storage.removeValue(forKey: key) != nil {
          keys.removeAll { $0 == key }
        }
      }
    }
  }

  /// A mutable attribute holder made by `namespace()`: the one object templates can assign to.
  final class Namespace {
    var attributes: Dict
    init(_ attributes: Dict) { self.attributes = attributes }
  }

  /// A callable: a global (`range`, `raise_exception`), a bound method, a macro or `loop.cycle`.
  struct Function {
    var name: String
    var call: (_ arguments: CallArguments) throws -> Value
  }

  struct CallArguments {
    var positional: [Value]
    var keyword: [(name: String, value: Value)]

    init(_ positional: [Value] = [], keyword: [(name: String, value: Value)] = []) {
      self.positional = positional
      self.keyword = keyword
    }

    /// The argument at `position` or named `name`, else `nil`.
    func argument(_ position: Int, _ name: String) -> Value? {
      if position < positional.count { return positional[position] }
      return keyword.first { $0.name == name }?.value
    }

    /// Refuses arguments beyond `names` (Python's TypeError for unexpected arguments).
    func check(_ function: String, accepts names: [String]) throws {
      if positional.count > names.count {
        throw ValueError.type(
          "\(function)() takes at most \(names.count) positional arguments (\(positional.count) given)")
      }
      for (name, _) in keyword where !names.contains(name) {
        throw ValueError.type("\(function)() got an unexpected keyword argument '\(name)'")
      }
    }
  }
}

/// A failure inside a value operation; the interpreter adds the template location.
enum ValueError: Error {
  case type(String)
  case undefined(String)
  case unsupported(String)
  case raised(String)
}

extension Value {
  init(_ json: JSONValue) {
    switch json {
    case .null: self = .none
    case let .bool(b): self = .bool(b)
    case let .int(i): self = .int(Int(i))
    case let .double(d): self = .double(d)
    case let .string(s): self = .string(s)
    case let .array(items): self = .list(items.map(Value.init))
    case let .object(members):
      self = .dict(Dict(members.keys.sorted().map { ($0, Value(members[$0]!)) }))
    }
  }

  init(_ template: TemplateValue) {
    switch template {
    case .null: self = .none
    case let .bool(b): self = .bool(b)
    case let .int(i): self = .int(i)
    case let .double(d): self = .double(d)
    case let .string(s): self = .string(s)
    case let .array(items): self = .list(items.map(Value.init))
    case let .object(pairs): self = .dict(Dict(pairs.map { ($0.key, Value($0.value)) }))
    }
  }

  var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  /// Python's type name, for error messages.
  var typeName: String {
    switch self {
    case .undefined: return "Undefined"
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "str"
    case .list: return "list"
    case .tuple: return "tuple"
    case .dict: return "dict"
    case .namespace: return "Namespace"
    case .function: return "function"
    }
  }

  /// Python truthiness.
  var isTruthy: Bool {
    switch self {
    case .undefined, .none: return false
    case let .bool(b): return b
    case let .int(i): return i != 0
    case let .double(d): return d != 0
    case let .string(s): return !s.isEmpty
    case let .list(items), let .tuple(items): return !items.isEmpty
    case let .dict(d): return d.count > 0
    case .namespace, .function: return true
    }
  }

  /// Fails for undefined values (jinja2's `Undefined._fail_with_undefined_error`).
  func defined() throws -> Value {
    if case let .undefined(message) = self { throw ValueError.undefined(message) }
    return self
  }

  /// `str(value)` as Python prints it (undefined prints as "").
  var str: String {
    switch self {
    case .undefined: return ""
    case let .string(s): return s
    default: return repr
    }
  }

  /// `repr(value)` as Python writes it.
  var repr: String {
    switch self {
    case .undefined: return "Undefined"
    case .none: return "None"
    case let .bool(b): return b ? "True" : "False"
    case let .int(i): return String(i)
    case let .double(d): return PythonFormat.float(d)
    case let .string(s): return PythonFormat.stringRepr(s)
    case let .list(items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
    case let .tuple(items):
      return items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
    case let .dict(d):
      return "{" + d.pairs.map { "\(PythonFormat.stringRepr($0.0)): \($0.1.repr)" }.joined(separator: ", ") + "}"
    case let .namespace(ns): return "<Namespace \(Value.dict(ns.attributes).repr)>"
    case let .function(f): return "<function \(f.name)>"
    }
  }

  /// The items of an iterable (Python's `iter`): list items, string characters, dict keys; undefined is empty.
  func iterate() throws -> [Value] {
    switch self {
    case .undefined: return []
    case let .list(items), let .tuple(items): return items
    case let .string(s): return s.unicodeScalars.map { .string(String($0)) }
    case let .dict(d): return d.keys.map { .string($0) }
    default: throw ValueError.type("'\(typeName)' object is not iterable")
    }
  }

  /// `len(value)`.
  func length() throws -> Int {
    switch self {
    case .undefined: return 0
    case let .list(items), let .tuple(items): return items.count
    case let .string(s): return s.unicodeScalars.count
    case let .dict(d): return d.count
    default: throw ValueError.type("object of type '\(typeName)' has no len()")
    }
  }

  /// A number as Python sees it (bools are ints).
  var number: Double? {
    switch self {
    case let .bool(b): return b ? 1 : 0
    case let .int(i): return Double(i)
    case let .double(d): return d
    default: return nil
    }
  }

  var integer: Int? {
    switch self {
    case let .bool(b): return b ? 1 : 0
    case let .int(i): return i
    default: return nil
    }
  }

  /// Python `==`.
  func equals(_ other: Value) -> Bool {
    switch (self, other) {
    case (.undefined, .undefined), (.none, .none): return true
    case let (.string(a), .string(b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
    case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
    case let (.dict(a), .dict(b)):
      return a.count == b.count && a.keys.allSatisfy { key in b[key].map { a[key]!.equals($0) } ?? false }
    case let (.namespace(a), .namespace(b)): return a === b
    default:
      if let a = integer, let b = other.integer { return a == b }
      if let a = number, let b = other.number { return a == b }
      return false
    }
  }

  /// Python `<` (numbers, strings, lists); other types raise TypeError.
  func less(than other: Value) throws -> Bool {
    switch (self, other) {
    case let (.string(a), .string(b)): return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
      for (x, y) in zip(a, b) where !x.equals(y) { return try x.less(than: y) }
      return a.count < b.count
    default:
      if let a = integer, let b = other.integer { return a < b }
      if let a = number, let b = other.number { return a < b }
      try self.defined().checkNotUndefined(other)
      throw ValueError.type("'<' not supported between instances of '\(typeName)' and '\(other.typeName)'")
    }
  }

  private func checkNotUndefined(_ other: Value) throws { _ = try other.defined() }

  /// Python `in` (`self in container`).
  func isContained(in container: Value) throws -> Bool {
    switch container {
    case .undefined: return false
    case let .string(s):
      guard case let .string(needle) = self else {
        throw ValueError.type("'in <string>' requires string as left operand, not \(typeName)")
      }
      return needle.isEmpty || s.contains(needle)
    case let .list(items), let .tuple(items): return items.contains { $0.equals(self) }
    case let .dict(d):
      if case let .string(key) = self { return d[key] != nil }
      return false
    default: throw ValueError.type("argument of type '\(container.typeName)' is not iterable")
    }
  }
}
