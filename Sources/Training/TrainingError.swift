/// Errors of the training pipeline, with the file or setting at fault.
public struct TrainingError: Error, CustomStringConvertible {
  public let description: String
  public init(_ message: String) { description = message }
}
