#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes all of `bytes` to `fd`: continues after short writes and retries when a signal interrupts
/// (`EINTR`). The package's one write loop. A failure names `path` and says how many bytes were written.
package func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
  guard let base = bytes.baseAddress else { return }
  var offset = 0
  while offset < bytes.count {
    let n = write(fd, base + offset, min(bytes.count - offset, 1 << 30))
    if n < 0 {
      let code = errno  // read before anything else can change it
      if code == EINTR { continue }
      throw FileIOError(path: path, operation: "write", code: code, written: offset)
    }
    if n == 0 { throw FileIOError(path: path, operation: "write", code: EIO, written: offset) }
    offset += n
  }
}

/// `writeAll` of an array's bytes.
package func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
  try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
}
