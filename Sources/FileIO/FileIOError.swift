#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file operation: the operation, the file it was on and the system's reason (`errno`).
public struct FileIOError: Error, CustomStringConvertible {
  /// The file (or folder) the operation was on.
  public let path: String
  /// What failed: `open`, `write`, `fsync`, `close`, `rename`, ...
  public let operation: String
  /// The `errno` value.
  public let code: Int32
  /// Bytes written before a failed `write` (0 for other operations).
  public let written: Int

  public init(path: String, operation: String, code: Int32, written: Int = 0) {
    self.path = path
    self.operation = operation
    self.code = code
    self.written = written
  }

  /// `strerror` of the code.
  public var reason: String { String(cString: strerror(code)) }

  public var description: String { "\(path): \(operation) failed: \(reason)" }
}
