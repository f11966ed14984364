/// A model folder or configuration file TorchSwift cannot use (a missing or malformed `config.json`,
/// `modules.json` or weights index, an unsupported setting), with the file and what is wrong.
/// Errors from libtorch itself stay `TorchError`.
public struct ModelConfigError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ message: String) { description = message }
}
