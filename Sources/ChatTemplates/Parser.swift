/// Builds the syntax tree from tokens, following jinja2's `parser.py` grammar and precedence.
struct Parser {
  private let tokens: [Token]
  private var index = 0
  private let endLocation: SourceLocation

  init(tokens: [Token], endLocation: SourceLocation) {
    self.tokens = tokens
    self.endLocation = endLocation
  }

  static func parse(_ source: String) throws -> [Node] {
    let tokens = try Lexer.tokenize(source)
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    let end = SourceLocation(line: lines.count, column: (lines.last?.count ?? 0) + 1)
    var parser = Parser(tokens: tokens, endLocation: end)
    let (nodes, _) = try parser.subparse(until: [])
    return nodes
  }

  // MARK: Token stream

  private var current: Token? { index < tokens.count ? tokens[index] : nil }
  private var location: SourceLocation { current?.location ?? endLocation }

  private func peek(_ offset: Int = 1) -> Token? { index + offset < tokens.count ? tokens[index + offset] : nil }

  private func isName(_ name: String, _ token: Token?) -> Bool {
    if case let .name(n)? = token?.kind { return n == name }
    return false
  }
  private func isOp(_ op: String, _ token: Token?) -> Bool {
    if case let .op(o)? = token?.kind { return o == op }
    return false
  }
  private func atName(_ name: String) -> Bool { isName(name, current) }
  private func atOp(_ op: String) -> Bool { isOp(op, current) }

  private mutating func skipName(_ name: String) -> Bool {
    guard atName(name) else { return false }
    index += 1
    return true
  }
  private mutating func skipOp(_ op: String) -> Bool {
    guard atOp(op) else { return false }
    index += 1
    return true
  }

  private func describe(_ token: Token?) -> String {
    guard let token else { return "end of template" }
    switch token.kind {
    case .data: return "template data"
    case .blockBegin: return "'{%'"
    case .blockEnd: return "end of statement block"
    case .variableBegin: return "'{{'"
    case .variableEnd: return "end of print statement"
    case let .name(n): return "'\(n)'"
    case let .string(s): return "string \(Value.string(s).repr)"
    case let .integer(i): return "integer \(i)"
    case let .float(f): return "float \(f)"
    case let .op(o): return "'\(o)'"
    }
  }

  private func fail(_ problem: String) -> EngineError { .syntax(location, problem) }

  private mutating func expectOp(_ op: String) throws {
    guard skipOp(op) else { throw fail("expected '\(op)', got \(describe(current))") }
  }
  private mutating func expectName() throws -> String {
    guard case let .name(n)? = current?.kind else { throw fail("expected a name, got \(describe(current))") }
    index += 1
    return n
  }
  private mutating func expectBlockEnd() throws {
    guard current?.kind == .blockEnd else { throw fail("expected end of statement block, got \(describe(current))") }
    index += 1
  }

  // MARK: Statements

  /// Parses nodes until a `{% name %}` with `name` in `endNames`; returns them and the end name (the stream is then
  /// just after that name).
  private mutating func subparse(until endNames: [String]) throws -> ([Node], String?) {
    var nodes: [Node] = []
    while let token = current {
      switch token.kind {
      case let .data(text):
        nodes.append(Node(kind: .text(text), location: token.location))
        index += 1
      case .variableBegin:
        index += 1
        let expression = try parseTuple()
        guard current?.kind == .variableEnd else {
          throw fail("expected end of print statement, got \(describe(current))")
        }
        index += 1
        nodes.append(Node(kind: .output(expression), location: token.location))
      case .blockBegin:
        index += 1
        if case let .name(keyword)? = current?.kind, endNames.contains(keyword) {
          index += 1
          return (nodes, keyword)
        }
        nodes.append(try parseStatement(at: token.location))
      default:
        throw fail("unexpected \(describe(token))")
      }
    }
    if !endNames.isEmpty {
      let wanted = endNames.map { "'\($0)'" }.joined(separator: " or ")
      throw EngineError.syntax(
        endLocation, "Unexpected end of template. Jinja was looking for the following tags: \(wanted).")
    }
    return (nodes, nil)
  }

  private mutating func parseStatement(at start: SourceLocation) throws -> Node {
    guard case let .name(keyword)? = current?.kind else { throw fail("tag name expected") }
    index += 1
    switch keyword {
    case "for": return try parseFor(at: start)
    case "if": return try parseIf(at: start)
    case "set": return try parseSet(at: start)
    case "macro": return try parseMacro(at: start)
    case "call": return try parseCallBlock(at: start)
    case "filter": return try parseFilterBlock(at: start)
    case "break", "continue":
      try expectBlockEnd()
      return Node(kind: keyword == "break" ? .breakLoop : .continueLoop, location: start)
    case "generation":
      try expectBlockEnd()
      let (body, _) = try subparse(until: ["endgeneration"])
      try expectBlockEnd()
      return Node(kind: .body(body), location: start)
    case "include", "import", "from", "extends", "block", "with", "autoescape", "do", "trans", "pluralize":
      throw EngineError.unsupported(start, "the '\(keyword)' statement")
    default:
      throw EngineError.syntax(start, "Encountered unknown tag '\(keyword)'.")
    }
  }

  private mutating func parseFor(at start: SourceLocation) throws -> Node {
    let target = try parseAssignTarget(endNames: ["in"])
    guard skipName("in") else { throw fail("expected 'in', got \(describe(current))") }
    let iterable = try parseTuple(withConditional: false, endNames: ["recursive"])
    var filter: Expression? = nil
    if skipName("if") { filter = try parseExpression() }
    let recursive = skipName("recursive")
    if recursive { throw EngineError.unsupported(start, "recursive for loops") }
    try expectBlockEnd()
    let (body, end) = try subparse(until: ["endfor", "else"])
    var otherwise: [Node] = []
    if end == "else" {
      try expectBlockEnd()
      (otherwise, _) = try subparse(until: ["endfor"])
    }
    try expectBlockEnd()
    let loop = ForLoop(
      target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, recursive: recursive)
    return Node(kind: .forLoop(loop), location: start)
  }

  private mutating func parseIf(at start: SourceLocation) throws -> Node {
    var branches: [(test: Expression, body: [Node])] = []
    var otherwise: [Node] = []
    while true {
      let test = try parseTuple(withConditional: false)
      try expectBlockEnd()
      let (body, end) = try subparse(until: ["elif", "else", "endif"])
      branches.append((test, body))
      if end == "elif" { continue }
      if end == "else" {
        try expectBlockEnd()
        (otherwise, _) = try subparse(until: ["endif"])
      }
      try expectBlockEnd()
      return Node(kind: .ifBlock(branches: branches, otherwise: otherwise), location: start)
    }
  }

  private mutating func parseSet(at start: SourceLocation) throws -> Node {
    let target = try parseAssignTarget(withNamespace: true)
    if skipOp("=") {
      let value = try parseTuple()
      try expectBlockEnd()
      return Node(kind: .set(target, value), location: start)
    }
    guard case let .name(name) = target else { throw fail("expected '=', got \(describe(current))") }
    if atOp("|") { throw EngineError.unsupported(location, "filters on a block set") }
    try expectBlockEnd()
    let (body, _) = try subparse(until: ["endset"])
    try expectBlockEnd()
    return Node(kind: .setBlock(name, body), location: start)
  }

  private mutating func parseSignature() throws -> [(name: String, defaultValue: Expression?)] {
    var parameters: [(name: String, defaultValue: Expression?)] = []
    try expectOp("(")
    while !atOp(")") {
      if !parameters.isEmpty { try expectOp(",") }
      if atOp(")") { break }
      let name = try expectName()
      parameters.append((name, skipOp("=") ? try parseExpression() : nil))
    }
    try expectOp(")")
    return parameters
  }

  private mutating func parseMacro(at start: SourceLocation) throws -> Node {
    let name = try expectName()
    let parameters = try parseSignature()
    try expectBlockEnd()
    let (body, _) = try subparse(until: ["endmacro"])
    try expectBlockEnd()
    return Node(kind: .macro(MacroDefinition(name: name, parameters: parameters, body: body)), location: start)
  }

  private mutating func parseCallBlock(at start: SourceLocation) throws -> Node {
    let parameters = atOp("(") ? try parseSignature() : []
    let call = try parseExpression()
    guard case .call = call.kind else { throw EngineError.syntax(call.location, "expected call") }
    try expectBlockEnd()
    let (body, _) = try subparse(until: ["endcall"])
    try expectBlockEnd()
    return Node(kind: .callBlock(call: call, parameters: parameters, body: body), location: start)
  }

  private mutating func parseFilterBlock(at start: SourceLocation) throws -> Node {
    var filters: [(name: String, arguments: Arguments, location: SourceLocation)] = []
    repeat {
      let at = location
      let name = try parseDottedName()
      let arguments = atOp("(") ? try parseCallArguments() : Arguments()
      filters.append((name, arguments, at))
    } while skipOp("|")
    try expectBlockEnd()
    let (body, _) = try subparse(until: ["endfilter"])
    try expectBlockEnd()
    return Node(kind: .filterBlock(filters: filters, body: body), location: start)
  }

  private mutating func parseAssignTarget(withNamespace: Bool = false, endNames: [String] = []) throws -> Target {
    if withNamespace, isOp(".", peek()), case let .name(name)? = current?.kind {
      let at = location
      index += 2
      let attribute = try expectName()
      return .attribute(Expression(kind: .name(name), location: at), attribute)
    }
    let expression = try parseTuple(simplified: true, endNames: endNames)
    return try target(from: expression)
  }

  private func target(from expression: Expression) throws -> Target {
    switch expression.kind {
    case let .name(name):
      guard !["true", "false", "none", "True", "False", "None"].contains(name) else {
        throw EngineError.syntax(expression.location, "can't assign to '\(name)'")
      }
      return .name(name)
    case let .tuple(items): return .tuple(try items.map { try target(from: $0) })
    default: throw EngineError.syntax(expression.location, "can't assign to this expression")
    }
  }

  // MARK: Expressions

  private func isTupleEnd(_ endNames: [String]) -> Bool {
    switch current?.kind {
    case .variableEnd?, .blockEnd?, nil: return true
    case let .op(op)?: return op == ")"
    case let .name(name)?: return endNames.contains(name)
    default: return false
    }
  }

  /// An expression, or a tuple when commas follow (`a, b`); `simplified` only allows primaries (for targets).
  private mutating func parseTuple(
    simplified: Bool = false, withConditional: Bool = true, endNames: [String] = [], explicitParentheses: Bool = false
  ) throws -> Expression {
    let start = location
    var items: [Expression] = []
    var isTuple = false
    while true {
      if !items.isEmpty { try expectOp(",") }
      if isTupleEnd(endNames) { break }
      if simplified {
        items.append(try parsePrimary())
      } else if withConditional {
        items.append(try parseExpression())
      } else {
        items.append(try parseOr())
      }
      if atOp(",") { isTuple = true } else { break }
    }
    if !isTuple {
      if let first = items.first { return first }
      if !explicitParentheses { throw fail("Expected an expression, got \(describe(current))") }
    }
    return Expression(kind: .tuple(items), location: start)
  }

  mutating func parseExpression() throws -> Expression {
    var expression = try parseOr()
    while atName("if") {
      let at = location
      index += 1
      let test = try parseOr()
      let otherwise = skipName("else") ? try parseExpression() : nil
      expression = Expression(kind: .conditional(test: test, then: expression, otherwise: otherwise), location: at)
    }
    return expression
  }

  private mutating func parseOr() throws -> Expression {
    var left = try parseAnd()
    while atName("or") {
      let at = location
      index += 1
      left = Expression(kind: .or(left, try parseAnd()), location: at)
    }
    return left
  }

  private mutating func parseAnd() throws -> Expression {
    var left = try parseNot()
    while atName("and") {
      let at = location
      index += 1
      left = Expression(kind: .and(left, try parseNot()), location: at)
    }
    return left
  }

  private mutating func parseNot() throws -> Expression {
    if atName("not") {
      let at = location
      index += 1
      return Expression(kind: .not(try parseNot()), location: at)
    }
    return try parseCompare()
  }

  private mutating func parseCompare() throws -> Expression {
    let start = location
    let first = try parseMath1()
    var operations: [(op: String, Expression)] = []
    while true {
      if case let .op(op)? = current?.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
        index += 1
        operations.append((op, try parseMath1()))
      } else if atName("in") {
        index += 1
        operations.append(("in", try parseMath1()))
      } else if atName("not"), isName("in", peek()) {
        index += 2
        operations.append(("not in", try parseMath1()))
      } else {
        break
      }
    }
    if operations.isEmpty { return first }
    return Expression(kind: .compare(first, operations), location: start)
  }

  private mutating func parseBinary(
    _ ops: [String], _ operand: (inout Parser) throws -> Expression
  ) throws -> Expression {
    var left = try operand(&self)
    while case let .op(op)? = current?.kind, ops.contains(op) {
      let at = location
      index += 1
      left = Expression(kind: .binary(op, left, try operand(&self)), location: at)
    }
    return left
  }

  private mutating func parseMath1() throws -> Expression { try parseBinary(["+", "-"]) { try $0.parseConcat() } }
  private mutating func parseConcat() throws -> Expression { try parseBinary(["~"]) { try $0.parseMath2() } }
  private mutating func parseMath2() throws -> Expression {
    try parseBinary(["*", "/", "//", "%"]) { try $0.parsePow() }
  }
  private mutating func parsePow() throws -> Expression { try parseBinary(["**"]) { try $0.parseUnary() } }

  private mutating func parseUnary(withFilter: Bool = true) throws -> Expression {
    let at = location
    var expression: Expression
    if atOp("-") || atOp("+") {
      let op = atOp("-") ? "-" : "+"
      index += 1
      expression = Expression(kind: .unary(op, try parseUnary(withFilter: false)), location: at)
    } else {
      expression = try parsePrimary()
    }
    expression = try parsePostfix(expression)
    if withFilter { expression = try parseFilterExpression(expression) }
    return expression
  }

  private mutating func parsePrimary() throws -> Expression {
    guard let token = current else { throw fail("unexpected end of template") }
    let at = token.location
    switch token.kind {
    case let .name(name):
      index += 1
      switch name {
      case "true", "True": return Expression(kind: .literal(.bool(true)), location: at)
      case "false", "False": return Expression(kind: .literal(.bool(false)), location: at)
      case "none", "None": return Expression(kind: .literal(.none), location: at)
      default: return Expression(kind: .name(name), location: at)
      }
    case .string:
      var text = ""
      while case let .string(s)? = current?.kind {
        text += s
        index += 1
      }
      return Expression(kind: .literal(.string(text)), location: at)
    case let .integer(i):
      index += 1
      return Expression(kind: .literal(.int(i)), location: at)
    case let .float(f):
      index += 1
      return Expression(kind: .literal(.double(f)), location: at)
    case .op("("):
      index += 1
      let expression = try parseTuple(explicitParentheses: true)
      try expectOp(")")
      return expression
    case .op("["):
      index += 1
      var items: [Expression] = []
      while !atOp("]") {
        if !items.isEmpty { try expectOp(",") }
        if atOp("]") { break }
        items.append(try parseExpression())
      }
      try expectOp("]")
      return Expression(kind: .list(items), location: at)
    case .op("{"):
      index += 1
      var items: [(key: Expression, value: Expression)] = []
      while !atOp("}") {
        if !items.isEmpty { try expectOp(",") }
        if atOp("}") { break }
        let key = try parseExpression()
        try expectOp(":")
        items.append((key, try parseExpression()))
      }
      try expectOp("}")
      return Expression(kind: .dict(items), location: at)
    default:
      throw fail("unexpected \(describe(token))")
    }
  }

  private mutating func parsePostfix(_ start: Expression) throws -> Expression {
    var expression = start
    while true {
      let at = location
      if skipOp(".") {
        switch current?.kind {
        case let .name(name)?:
          index += 1
          expression = Expression(kind: .attribute(expression, name), location: at)
        case let .integer(i)?:
          index += 1
          expression = Expression(
            kind: .item(expression, Expression(kind: .literal(.int(i)), location: at)), location: at)
        default: throw fail("expected name or number, got \(describe(current))")
        }
      } else if skipOp("[") {
        var items: [Expression] = []
        while !atOp("]") {
          if !items.isEmpty { try expectOp(",") }
          items.append(try parseSubscribed(expression))
        }
        try expectOp("]")
        if items.count == 1, case .slice = items[0].kind {
          expression = items[0]
        } else {
          let key = items.count == 1 ? items[0] : Expression(kind: .tuple(items), location: at)
          expression = Expression(kind: .item(expression, key), location: at)
        }
      } else if atOp("(") {
        expression = Expression(kind: .call(expression, try parseCallArguments()), location: at)
      } else {
        return expression
      }
    }
  }

  /// One subscript: an expression or a slice `start:stop:step` applied to `base`.
  private mutating func parseSubscribed(_ base: Expression) throws -> Expression {
    let at = location
    var parts: [Expression?] = []
    if skipOp(":") {
      parts.append(nil)
    } else {
      let expression = try parseExpression()
      guard skipOp(":") else { return expression }
      parts.append(expression)
    }
    if atOp(":") || atOp("]") || atOp(",") {
      parts.append(nil)
    } else {
      parts.append(try parseExpression())
    }
    if skipOp(":") {
      parts.append(atOp("]") || atOp(",") ? nil : try parseExpression())
    } else {
      parts.append(nil)
    }
    return Expression(kind: .slice(base, start: parts[0], stop: parts[1], step: parts[2]), location: at)
  }

  private mutating func parseCallArguments() throws -> Arguments {
    try expectOp("(")
    var arguments = Arguments()
    var first = true
    while !atOp(")") {
      if !first { try expectOp(",") }
      if atOp(")") { break }
      first = false
      if skipOp("*") {
        guard arguments.positionalSplat == nil else { throw fail("only one *args in a call") }
        arguments.positionalSplat = try parseExpression()
        continue
      }
      if skipOp("**") {
        guard arguments.keywordSplat == nil else { throw fail("only one **kwargs in a call") }
        arguments.keywordSplat = try parseExpression()
        continue
      }
      if case let .name(name)? = current?.kind, isOp("=", peek()) {
        index += 2
        arguments.keyword.append((name, try parseExpression()))
      } else {
        if !arguments.keyword.isEmpty { throw fail("positional argument after keyword argument") }
        arguments.positional.append(try parseExpression())
      }
    }
    try expectOp(")")
    return arguments
  }

  private mutating func parseDottedName() throws -> String {
    var name = try expectName()
    while skipOp(".") { name += "." + (try expectName()) }
    return name
  }

  private mutating func parseFilterExpression(_ start: Expression) throws -> Expression {
    var expression = start
    while true {
      let at = location
      if skipOp("|") {
        let name = try parseDottedName()
        let arguments = atOp("(") ? try parseCallArguments() : Arguments()
        expression = Expression(kind: .filter(expression, name: name, arguments), location: at)
      } else if skipName("is") {
        let negated = skipName("not")
        let name = try parseDottedName()
        var arguments = Arguments()
        if atOp("(") {
          arguments = try parseCallArguments()
        } else if let token = current, !atName("else"), !atName("or"), !atName("and") {
          var startsPrimary = false
          switch token.kind {
          case .name, .string, .integer, .float: startsPrimary = true
          case let .op(op): startsPrimary = op == "(" || op == "[" || op == "{"
          default: break
          }
          if startsPrimary {
            if atName("is") { throw fail("You cannot chain multiple tests with is") }
            arguments.positional = [try parsePostfix(try parsePrimary())]
          }
        }
        expression = Expression(kind: .test(expression, name: name, arguments), location: at)
        if negated { expression = Expression(kind: .not(expression), location: at) }
      } else if atOp("(") {
        expression = Expression(kind: .call(expression, try parseCallArguments()), location: at)
      } else {
        return expression
      }
    }
  }
}
