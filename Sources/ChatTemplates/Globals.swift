/// The global functions a chat template can call: jinja2's `range`, `namespace`, `dict`, and transformers'
/// `raise_exception` and `strftime_now`.
enum Globals {
  static func scope(now: Double) -> Scope {
    let scope = Scope(parent: nil)
    scope.set("range", .function(Value.Function(name: "range", call: range)))
    scope.set("namespace", .function(Value.Function(name: "namespace") { .namespace(Value.Namespace(try dict($0))) }))
    scope.set("dict", .function(Value.Function(name: "dict") { .dict(try dict($0)) }))
    scope.set(
      "raise_exception",
      .function(
        Value.Function(name: "raise_exception") { arguments in
          throw ValueError.raised(arguments.argument(0, "message")?.str ?? "")
        }))
    scope.set(
      "strftime_now",
      .function(
        Value.Function(name: "strftime_now") { arguments in
          guard case let .string(format)? = arguments.argument(0, "format") else {
            throw ValueError.type("strftime_now() argument must be str")
          }
          return .string(PythonFormat.formatTime(format, at: now))
        }))
    return scope
  }

  /// `dict(mapping, **kwargs)`, as `namespace()` takes it.
  private static func dict(_ arguments: Value.CallArguments) throws -> Value.Dict {
    var result = Value.Dict()
    if let first = arguments.positional.first {
      guard arguments.positional.count == 1, case let .dict(d) = first else {
        throw ValueError.type("namespace() and dict() take one mapping and keyword arguments")
      }
      result = d
    }
    for (name, value) in arguments.keyword { result[name] = value }
    return result
  }

  private static func range(_ arguments: Value.CallArguments) throws -> Value {
    let values = try arguments.positional.map {
      guard let i = $0.integer else {
        throw ValueError.type("'\($0.typeName)' object cannot be interpreted as an integer")
      }
      return i
    }
    var start = 0
    var stop = 0
    var step = 1
    switch values.count {
    case 1: stop = values[0]
    case 2: (start, stop) = (values[0], values[1])
    case 3: (start, stop, step) = (values[0], values[1], values[2])
    default: throw ValueError.type("range expected 1 to 3 arguments, got \(values.count)")
    }
    guard step != 0 else { throw ValueError.type("range() arg 3 must not be zero") }
    let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
    guard count <= 100_000 else {
      throw ValueError.type("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
    }
    return .list(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
  }
}
