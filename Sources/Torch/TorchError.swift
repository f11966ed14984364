import CTorch

/// An error reported by libtorch (its message, without the C++ backtrace) or by TorchSwift itself.
///
/// Named operations (`try x.matmul(y)`, `try Tensor(shape:data:)`) throw this error. Arithmetic
/// operators (`a + b`, `a * b`) do not throw: like Swift's own integer overflow, a failing operator
/// stops the program with libtorch's message. Code that handles user data should validate shapes
/// first or call the named, throwing form (`try a.add(b)`).
public struct TorchError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Throws the thread's last libtorch error when `status` is non-zero, and the runtime's version mismatch
/// (`Torch.verifyRuntime`) when there is one.
@inlinable
public func check(_ status: Int32) throws {
  if status != 0 { throw TorchError(String(cString: ts_last_error())) }
  if let runtimeProblem { throw runtimeProblem }
}

/// Runs a throwing body and stops with its message on error (used by the non-throwing operators).
@inlinable @discardableResult
public func trapping<T>(_ body: () throws -> T, file: StaticString = #file, line: UInt = #line) -> T {
  do {
    return try body()
  } catch {
    fatalError("TorchSwift: \(error)", file: file, line: line)
  }
}
