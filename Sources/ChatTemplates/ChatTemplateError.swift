/// Errors thrown while loading, parsing or rendering a chat template.
///
/// Template errors name the template, the 1-based line and column, and the construct, so a user can find the
/// problem without a debugger. Nothing is rendered when any error is thrown: a prompt is never silently wrong.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The template text is not valid Jinja (as jinja2 would refuse it).
  case syntax(template: String, line: Int, column: Int, problem: String)
  /// Valid Jinja that this renderer does not implement (a filter, test, statement, method or operation).
  case unsupported(template: String, line: Int, column: Int, construct: String)
  /// An error while rendering (an undefined value used, a type mismatch, division by zero...).
  case render(template: String, line: Int, column: Int, problem: String)
  /// The template called `raise_exception(message)`; transformers raises `TemplateError(message)`.
  case raised(message: String)
  /// A file could not be read or parsed.
  case file(path: String, problem: String)
  /// A model directory has no chat template (neither `chat_template.jinja` nor `chat_template` in
  /// `tokenizer_config.json`), or the named one is missing.
  case noTemplate(directory: String, problem: String)

  public var description: String {
    switch self {
    case let .syntax(template, line, column, problem):
      return "chat template \(template), line \(line), column \(column): syntax error: \(problem)"
    case let .unsupported(template, line, column, construct):
      return "chat template \(template), line \(line), column \(column): unsupported: \(construct)"
    case let .render(template, line, column, problem):
      return "chat template \(template), line \(line), column \(column): \(problem)"
    case let .raised(message):
      return message
    case let .file(path, problem):
      return "\(path): \(problem)"
    case let .noTemplate(directory, problem):
      return "\(directory): \(problem)"
    }
  }
}

/// A position in the template source (1-based).
struct SourceLocation: Equatable, Sendable {
  var line: Int
  var column: Int
}

/// An error raised inside the engine before the template name is attached.
enum EngineError: Error {
  case syntax(SourceLocation, String)
  case unsupported(SourceLocation, String)
  case render(SourceLocation, String)
  case raised(String)

  func named(_ template: String) -> ChatTemplateError {
    switch self {
    case let .syntax(at, problem):
      return .syntax(template: template, line: at.line, column: at.column, problem: problem)
    case let .unsupported(at, what):
      return .unsupported(template: template, line: at.line, column: at.column, construct: what)
    case let .render(at, problem):
      return .render(template: template, line: at.line, column: at.column, problem: problem)
    case let .raised(message): return .raised(message: message)
    }
  }
}
