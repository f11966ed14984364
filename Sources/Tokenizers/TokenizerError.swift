/// Errors thrown while loading a tokenizer or encoding text.
///
/// Every case carries enough context (file name, JSON path, component type) for
/// the `description` to tell a user what is wrong without a debugger.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A file could not be read (missing, unreadable).
  case fileNotFound(path: String, reason: String)
  /// A JSON document is not syntactically valid.
  case malformedJSON(file: String, line: Int, column: Int, problem: String)
  /// A JSON document is valid but a value has the wrong shape or is missing.
  case invalidConfiguration(file: String, path: String, problem: String)
  /// A tokenizer.json component (`normalizer`, `model`, ...) of a type this package does not implement.
  case unsupportedComponent(file: String, component: String, type: String)
  /// A token required by the configuration is not in the vocabulary.
  case missingToken(token: String, role: String)
  /// Truncation could not satisfy its parameters (mirrors HF's `TruncationError`).
  case truncation(String)
  /// The truncation stride is not smaller than the room left for a sequence (HF stops with this message).
  case strideTooLarge(maxLength: Int)
  /// Truncation parameters refused by `setTruncation` (HF `enable_truncation`'s message).
  case truncationParameters(String)
  /// A directory contains neither `tokenizer.json` nor `vocab.txt`.
  case noTokenizerFiles(directory: String)

  public var description: String {
    switch self {
    case let .fileNotFound(path, reason):
      return "cannot read \(path): \(reason)"
    case let .malformedJSON(file, line, column, problem):
      return "\(file): malformed JSON at line \(line), column \(column): \(problem)"
    case let .invalidConfiguration(file, path, problem):
      return "\(file): invalid value at \(path): \(problem)"
    case let .unsupportedComponent(file, component, type):
      return "\(file): unsupported \(component) type \"\(type)\""
    case let .missingToken(token, role):
      return "the \(role) token \"\(token)\" is not in the vocabulary"
    case let .truncation(message):
      return "Truncation error: \(message)"
    case let .truncationParameters(message):
      return message
    case let .strideTooLarge(maxLength):
      return
        "`stride` must be strictly less than `max_len=\(maxLength)` (note that `max_len` may be shorter than the max length of the original model, as it subtracts the number of special characters"
    case let .noTokenizerFiles(directory):
      return "\(directory): contains neither tokenizer.json nor vocab.txt"
    }
  }
}
