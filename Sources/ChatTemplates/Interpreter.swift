/// Variables visible at a point of the template: a frame per template, `for` iteration and macro call.
final class Scope {
  private var variables: [String: Value] = [:]
  let parent: Scope?

  init(parent: Scope?, _ variables: [String: Value] = [:]) {
    self.parent = parent
    self.variables = variables
  }

  func lookup(_ name: String) -> Value? {
    var scope: Scope? = self
    while let current = scope {
      if let value = current.variables[name] { return value }
      scope = current.parent
    }
    return nil
  }

  func set(_ name: String, _ value: Value) { variables[name] = value }
}

/// Renders a parsed template once: statements write into `output`, expressions evaluate to `Value`s.
/// Errors carry the location of the expression or statement that failed.
final class Interpreter {
  /// How a `for` body ends early (`{% break %}` and `{% continue %}` from jinja2's loopcontrols).
  enum Flow { case normal, breakLoop, continueLoop }

  var output = ""
  /// Seconds since 1970 for `strftime_now`.
  let now: Double

  init(now: Double) { self.now = now }

  // MARK: Statements

  func render(_ nodes: [Node], _ scope: Scope) throws -> Flow {
    for node in nodes {
      let flow = try render(node, scope)
      if flow != .normal { return flow }
    }
    return .normal
  }

  /// Renders `nodes` into a string of their own (macros, block set, filter blocks).
  func capture(_ nodes: [Node], _ scope: Scope) throws -> String {
    let saved = output
    output = ""
    defer { output = saved }
    _ = try render(nodes, scope)
    return output
  }

  private func render(_ node: Node, _ scope: Scope) throws -> Flow {
    switch node.kind {
    case let .text(text):
      output += text
    case let .output(expression):
      output += try evaluate(expression, scope).str
    case let .ifBlock(branches, otherwise):
      for branch in branches where try evaluate(branch.test, scope).isTruthy {
        return try render(branch.body, scope)
      }
      return try render(otherwise, scope)
    case let .forLoop(loop):
      return try renderFor(loop, scope, at: node.location)
    case let .set(target, expression):
      try assign(target, try evaluate(expression, scope), scope, at: node.location)
    case let .setBlock(name, body):
      scope.set(name, .string(try capture(body, scope)))
    case let .macro(definition):
      scope.set(definition.name, .function(macro(definition, scope)))
    case let .callBlock(callExpression, parameters, body):
      guard case let .call(callee, arguments) = callExpression.kind else { return .normal }
      let caller = MacroDefinition(name: "caller", parameters: parameters, body: body)
      var values = try evaluate(arguments, scope)
      values.keyword.append(("caller", .function(macro(caller, scope))))
      let function = try evaluate(callee, scope)
      output += try located(callExpression.location) { try call(function, values).str }
    case let .filterBlock(filters, body):
      var value = Value.string(try capture(body, scope))
      for filter in filters {
        let arguments = try evaluate(filter.arguments, scope)
        value = try located(filter.location) { try applyFilter(filter.name, value, arguments, scope) }
      }
      output += value.str
    case .breakLoop: return .breakLoop
    case .continueLoop: return .continueLoop
    case let .body(nodes): return try render(nodes, scope)
    }
    return .normal
  }

  private func renderFor(_ loop: ForLoop, _ scope: Scope, at location: SourceLocation) throws -> Flow {
    let iterable = try evaluate(loop.iterable, scope)
    var items = try located(loop.iterable.location) { try iterable.iterate() }
    if let filter = loop.filter {
      items = try items.filter { item in
        let filterScope = Scope(parent: scope)
        try assign(loop.target, item, filterScope, at: location)
        return try evaluate(filter, filterScope).isTruthy
      }
    }
    let count = items.count
    // jinja2 renders `else` unless some iteration ran to the end of the body (not ended by break or continue).
    var completed = false
    for (i, item) in items.enumerated() {
      let iterationScope = Scope(parent: scope)
      var info = Value.Dict()
      info["index"] = .int(i + 1)
      info["index0"] = .int(i)
      info["revindex"] = .int(count - i)
      info["revindex0"] = .int(count - i - 1)
      info["first"] = .bool(i == 0)
      info["last"] = .bool(i == count - 1)
      info["length"] = .int(count)
      info["depth"] = .int(1)
      info["depth0"] = .int(0)
      info["previtem"] = i > 0 ? items[i - 1] : .undefined("there is no previous item")
      info["nextitem"] = i + 1 < count ? items[i + 1] : .undefined("there is no next item")
      info["cycle"] = .function(
        Value.Function(name: "loop.cycle") { arguments in
          guard !arguments.positional.isEmpty else { throw ValueError.type("no items for cycling given") }
          return arguments.positional[i % arguments.positional.count]
        })
      iterationScope.set("loop", .dict(info))
      try assign(loop.target, item, iterationScope, at: location)
      let flow = try render(loop.body, iterationScope)
      if flow == .normal { completed = true }
      if flow == .breakLoop { break }
    }
    if !completed { return try render(loop.otherwise, scope) }
    return .normal
  }

  private func assign(_ target: Target, _ value: Value, _ scope: Scope, at location: SourceLocation) throws {
    switch target {
    case let .name(name):
      scope.set(name, value)
    case let .tuple(targets):
      let items = try located(location) { try value.iterate() }
      guard items.count == targets.count else {
        let problem = items.count > targets.count ? "too many values" : "not enough values"
        throw EngineError.render(location, "\(problem) to unpack (expected \(targets.count), got \(items.count))")
      }
      for (target, item) in zip(targets, items) { try assign(target, item, scope, at: location) }
    case let .attribute(expression, attribute):
      guard case let .namespace(namespace) = try evaluate(expression, scope) else {
        throw EngineError.render(location, "cannot assign attribute on non-namespace object")
      }
      namespace.attributes[attribute] = value
    }
  }

  /// A macro as a function: arguments bound by position, then name, then default; the body renders into a string.
  private func macro(_ definition: MacroDefinition, _ defining: Scope) -> Value.Function {
    Value.Function(name: definition.name) { [unowned self] arguments in
      let names = definition.parameters.map(\.name)
      guard arguments.positional.count <= names.count else {
        throw ValueError.type("macro '\(definition.name)' takes not more than \(names.count) argument(s)")
      }
      let scope = Scope(parent: defining)
      var keyword = arguments.keyword
      if let index = keyword.firstIndex(where: { $0.name == "caller" }), !names.contains("caller") {
        scope.set("caller", keyword.remove(at: index).value)
      }
      for (name, _) in keyword where !names.contains(name) {
        throw ValueError.type("macro '\(definition.name)' takes no keyword argument '\(name)'")
      }
      for (i, parameter) in definition.parameters.enumerated() {
        if i < arguments.positional.count {
          scope.set(parameter.name, arguments.positional[i])
        } else if let value = keyword.first(where: { $0.name == parameter.name })?.value {
          scope.set(parameter.name, value)
        } else if let defaultValue = parameter.defaultValue {
          scope.set(parameter.name, try self.evaluate(defaultValue, scope))
        } else {
          scope.set(parameter.name, .undefined("parameter '\(parameter.name)' was not provided"))
        }
      }
      return .string(try self.capture(definition.body, scope))
    }
  }

  // MARK: Expressions

  /// Runs `body`, turning a `ValueError` into an error at `location`.
  func located<T>(_ location: SourceLocation, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as ValueError {
      switch error {
      case let .type(problem): throw EngineError.render(location, problem)
      case let .undefined(problem): throw EngineError.render(location, "UndefinedError: \(problem)")
      case let .unsupported(what): throw EngineError.unsupported(location, what)
      case let .raised(message): throw EngineError.raised(message)
      }
    }
  }

  func evaluate(_ arguments: Arguments, _ scope: Scope) throws -> Value.CallArguments {
    var values = Value.CallArguments(
      try arguments.positional.map { try evaluate($0, scope) },
      keyword: try arguments.keyword.map { ($0.name, try evaluate($0.value, scope)) })
    if let splat = arguments.positionalSplat {
      let items = try evaluate(splat, scope)
      values.positional += try located(splat.location) { try items.iterate() }
    }
    if let splat = arguments.keywordSplat {
      guard case let .dict(d) = try evaluate(splat, scope) else {
        throw EngineError.render(splat.location, "argument after ** must be a mapping")
      }
      values.keyword += d.pairs.map { ($0.0, $0.1) }
    }
    return values
  }

  func evaluate(_ expression: Expression, _ scope: Scope) throws -> Value {
    switch expression.kind {
    case let .literal(value): return value
    case let .name(name): return scope.lookup(name) ?? .undefined("'\(name)' is undefined")
    case let .list(items): return .list(try items.map { try evaluate($0, scope) })
    case let .tuple(items): return .tuple(try items.map { try evaluate($0, scope) })
    case let .dict(items):
      var dict = Value.Dict()
      for item in items {
        let key = try evaluate(item.key, scope)
        guard case let .string(name) = key else {
          throw EngineError.unsupported(item.key.location, "dict keys other than strings (\(key.typeName))")
        }
        dict[name] = try evaluate(item.value, scope)
      }
      return .dict(dict)
    case let .attribute(base, name):
      let value = try evaluate(base, scope)
      return try located(expression.location) { try attribute(value, name) }
    case let .item(base, key):
      let value = try evaluate(base, scope)
      let index = try evaluate(key, scope)
      return try located(expression.location) { try item(value, index) }
    case let .slice(base, start, stop, step):
      let value = try evaluate(base, scope)
      let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, scope) } }
      return try located(expression.location) { try slice(value, bounds[0], bounds[1], bounds[2]) }
    case let .call(callee, arguments):
      let function = try evaluate(callee, scope)
      let values = try evaluate(arguments, scope)
      return try located(expression.location) { try call(function, values) }
    case let .filter(base, name, arguments):
      let value = try evaluate(base, scope)
      let values = try evaluate(arguments, scope)
      return try located(expression.location) { try applyFilter(name, value, values, scope) }
    case let .test(base, name, arguments):
      let value = try evaluate(base, scope)
      let values = try evaluate(arguments, scope)
      return try located(expression.location) { .bool(try applyTest(name, value, values, scope)) }
    case let .unary(op, operand):
      let value = try evaluate(operand, scope)
      return try located(expression.location) {
        switch try value.defined() {
        case let .double(d): return .double(op == "-" ? -d : d)
        default:
          guard let i = value.integer else {
            throw ValueError.type("bad operand type for unary \(op): '\(value.typeName)'")
          }
          return .int(op == "-" ? -i : i)
        }
      }
    case let .binary(op, left, right):
      let a = try evaluate(left, scope)
      let b = try evaluate(right, scope)
      return try located(expression.location) { try Operators.binary(op, a, b) }
    case let .compare(first, operations):
      var left = try evaluate(first, scope)
      for (op, operand) in operations {
        let right = try evaluate(operand, scope)
        let result = try located(expression.location) { try Operators.compare(op, left, right) }
        if !result { return .bool(false) }
        left = right
      }
      return .bool(true)
    case let .and(left, right):
      let a = try evaluate(left, scope)
      return a.isTruthy ? try evaluate(right, scope) : a
    case let .or(left, right):
      let a = try evaluate(left, scope)
      return a.isTruthy ? a : try evaluate(right, scope)
    case let .not(operand):
      return .bool(!(try evaluate(operand, scope).isTruthy))
    case let .conditional(test, then, otherwise):
      if try evaluate(test, scope).isTruthy { return try evaluate(then, scope) }
      guard let otherwise else {
        return .undefined(
          "the inline if-expression on line \(expression.location.line) evaluated to false and no else section was defined."
        )
      }
      return try evaluate(otherwise, scope)
    }
  }

  func call(_ callee: Value, _ arguments: Value.CallArguments) throws -> Value {
    switch callee {
    case let .function(function): return try function.call(arguments)
    case .undefined: throw ValueError.undefined(undefinedMessage(callee))
    default: throw ValueError.type("'\(callee.typeName)' object is not callable")
    }
  }

  func undefinedMessage(_ value: Value) -> String {
    if case let .undefined(message) = value { return message }
    return ""
  }

  /// jinja2's `getattr`: the attribute (a method), else the item; missing gives undefined.
  func attribute(_ value: Value, _ name: String) throws -> Value {
    if case let .undefined(message) = value { throw ValueError.undefined(message) }
    if let method = Methods.method(value, name) { return .function(method) }
    switch value {
    case let .dict(d):
      if let found = d[name] { return found }
    case let .namespace(ns):
      if let found = ns.attributes[name] { return found }
    default: break
    }
    return .undefined("'\(Interpreter.objectName(value))' has no attribute '\(name)'")
  }

  /// How jinja2 names a value in "has no attribute" messages.
  static func objectName(_ value: Value) -> String {
    switch value {
    case .none: return "None"
    case .namespace: return "jinja2.utils.Namespace object"
    default: return "\(value.typeName) object"
    }
  }

  /// jinja2's `getitem`: the item, else (for a string key) the attribute; missing gives undefined.
  func item(_ value: Value, _ key: Value) throws -> Value {
    if case let .undefined(message) = value { throw ValueError.undefined(message) }
    switch (value, key) {
    case let (.dict(d), .string(name)):
      if let found = d[name] { return found }
    case let (.list(items), _), let (.tuple(items), _):
      if let i = key.integer {
        let index = i < 0 ? i + items.count : i
        if index >= 0, index < items.count { return items[index] }
        return .undefined("\(value.typeName) object has no element \(i)")
      }
    case let (.string(s), _):
      if let i = key.integer {
        let scalars = Array(s.unicodeScalars)
        let index = i < 0 ? i + scalars.count : i
        if index >= 0, index < scalars.count { return .string(String(scalars[index])) }
        return .undefined("str object has no element \(i)")
      }
    default: break
    }
    if case let .string(name) = key { return try attribute(value, name) }
    return .undefined("\(Interpreter.objectName(value)) has no element \(key.repr)")
  }

  /// Python slicing `value[start:stop:step]` of lists, tuples and strings.
  func slice(_ value: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
    func bound(_ v: Value?) throws -> Int? {
      switch v {
      case nil, .none?, .undefined?: return nil
      case let v?:
        guard let i = v.integer else {
          throw ValueError.type("slice indices must be integers or None or have an __index__ method")
        }
        return i
      }
    }
    let stepValue = try bound(step) ?? 1
    guard stepValue != 0 else { throw ValueError.type("slice step cannot be zero") }
    func indices(_ count: Int) throws -> [Int] {
      func clamp(_ i: Int?, _ defaultValue: Int) -> Int {
        guard var i else { return defaultValue }
        if i < 0 { i += count }
        if stepValue > 0 { return min(max(i, 0), count) }
        return min(max(i, -1), count - 1)
      }
      let lo = clamp(try bound(start), stepValue > 0 ? 0 : count - 1)
      let hi = clamp(try bound(stop), stepValue > 0 ? count : -1)
      return Array(stride(from: lo, to: hi, by: stepValue))
    }
    switch try value.defined() {
    case let .list(items): return .list(try indices(items.count).map { items[$0] })
    case let .tuple(items): return .tuple(try indices(items.count).map { items[$0] })
    case let .string(s):
      let scalars = Array(s.unicodeScalars)
      return .string(PythonFormat.string(try indices(scalars.count).map { scalars[$0] }))
    default: throw ValueError.type("'\(value.typeName)' object is not subscriptable")
    }
  }
}
