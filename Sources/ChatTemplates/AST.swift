/// The parsed template: statements (`Node`) holding expressions (`Expression`), each with its source location.
struct Expression {
  indirect enum Kind {
    case literal(Value)
    case name(String)
    case list([Expression])
    case tuple([Expression])
    case dict([(key: Expression, value: Expression)])
    case attribute(Expression, String)
    case item(Expression, Expression)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
    case call(Expression, Arguments)
    case filter(Expression, name: String, Arguments)
    case test(Expression, name: String, Arguments)
    case unary(String, Expression)
    case binary(String, Expression, Expression)
    /// Chained comparisons: `a < b <= c` is `a < b and b <= c`.
    case compare(Expression, [(op: String, Expression)])
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case conditional(test: Expression, then: Expression, otherwise: Expression?)
  }
  var kind: Kind
  var location: SourceLocation
}

/// Call arguments: positional, then keyword.
struct Arguments {
  var positional: [Expression] = []
  var keyword: [(name: String, value: Expression)] = []
  /// `*items`: more positional arguments.
  var positionalSplat: Expression? = nil
  /// `**mapping`: more keyword arguments.
  var keywordSplat: Expression? = nil
}

/// An assignment target: `x`, `a, b`, or `ns.attr`.
indirect enum Target {
  case name(String)
  case tuple([Target])
  case attribute(Expression, String)
}

struct ForLoop {
  var target: Target
  var iterable: Expression
  var filter: Expression?
  var body: [Node]
  var otherwise: [Node]
  var recursive: Bool
}

struct MacroDefinition {
  var name: String
  var parameters: [(name: String, defaultValue: Expression?)]
  var body: [Node]
}

struct Node {
  indirect enum Kind {
    case text(String)
    case output(Expression)
    case ifBlock(branches: [(test: Expression, body: [Node])], otherwise: [Node])
    case forLoop(ForLoop)
    case set(Target, Expression)
    case setBlock(String, [Node])
    case macro(MacroDefinition)
    case callBlock(call: Expression, parameters: [(name: String, defaultValue: Expression?)], body: [Node])
    case filterBlock(filters: [(name: String, arguments: Arguments, location: SourceLocation)], body: [Node])
    case breakLoop
    case continueLoop
    /// transformers' `{% generation %}` marks assistant text for masks; rendering ignores it.
    case body([Node])
  }
  var kind: Kind
  var location: SourceLocation
}
