import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file writes that never leave a partial file, the package's one routine for them: the bytes go to a
/// fresh temporary file with a unique name in the destination's folder, which is fsynced, closed and renamed
/// over the destination; then the folder is fsynced so the rename is durable. On any error the temporary file
/// is removed, the destination is left as it was, and the error (`FileIOError`) names the file.
package enum AtomicFile {
  /// Writes the bytes `body` appends to its sink as the file at `path`.
  package static func write(to path: String, permissions: mode_t = 0o666, _ body: (FileSink) throws -> Void) throws {
    let name = (path as NSString).lastPathComponent
    let folder = (path as NSString).deletingLastPathComponent
    let directory = folder.isEmpty ? "." : folder
    let temporary = directory + "/." + name + ".tmp-\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    var fd: Int32
    repeat { fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw FileIOError(path: path, operation: "open temporary file", code: errno) }
    do {
      let sink = FileSink(fd: fd, path: path)
      try body(sink)
      try sink.flush()
      guard fsync(fd) == 0 else { throw FileIOError(path: path, operation: "fsync", code: errno) }
    } catch {
      _ = close(fd)
      unlink(temporary)
      throw error
    }
    guard close(fd) == 0 else {
      let code = errno
      unlink(temporary)
      throw FileIOError(path: path, operation: "close", code: code)
    }
    guard rename(temporary, path) == 0 else {
      let code = errno
      unlink(temporary)
      throw FileIOError(path: path, operation: "rename temporary file", code: code)
    }
    try syncDirectory(directory)
  }

  /// Writes `bytes` as the file at `path`.
  package static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o666) throws {
    try write(to: path, permissions: permissions) { try $0.append(bytes) }
  }

  /// Writes `data` as the file at `path`.
  package static func write(_ data: Data, to path: String, permissions: mode_t = 0o666) throws {
    try write(to: path, permissions: permissions) { sink in try data.withUnsafeBytes { try sink.append($0) } }
  }

  /// Writes `text` (UTF-8) as the file at `path`.
  package static func write(_ text: String, to path: String, permissions: mode_t = 0o666) throws {
    try write(Array(text.utf8), to: path, permissions: permissions)
  }

  /// fsync of a folder, so that a rename inside it is durable. File systems that cannot fsync a folder
  /// (`EINVAL`) are accepted: the rename has happened regardless.
  package static func syncDirectory(_ directory: String) throws {
    let dir = directory.isEmpty ? "." : directory
    var fd: Int32
    repeat { fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw FileIOError(path: dir, operation: "open folder", code: errno) }
    defer { _ = close(fd) }
    guard fsync(fd) == 0 || errno == EINVAL else {
      throw FileIOError(path: dir, operation: "fsync folder", code: errno)
    }
  }

  /// fsync of an existing file.
  package static func syncFile(_ path: String) throws {
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
    defer { _ = close(fd) }
    guard fsync(fd) == 0 else { throw FileIOError(path: path, operation: "fsync", code: errno) }
  }
}

/// Buffered output to a file descriptor (1 MiB buffer; larger pieces go straight through `writeAll`).
package final class FileSink {
  private let fd: Int32
  private let path: String
  private let buffer: UnsafeMutableRawBufferPointer
  private var used = 0

  package init(fd: Int32, path: String, capacity: Int = 1 << 20) {
    self.fd = fd
    self.path = path
    self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
  }

  deinit { buffer.deallocate() }

  /// Appends `bytes`.
  package func append(_ bytes: UnsafeRawBufferPointer) throws {
    if bytes.count > buffer.count - used {
      try flush()
      if bytes.count >= buffer.count { return try writeAll(fd, bytes, path: path) }
    }
    if let source = bytes.baseAddress, let target = buffer.baseAddress {
      (target + used).copyMemory(from: source, byteCount: bytes.count)
    }
    used += bytes.count
  }

  /// Appends an array's bytes.
  package func append(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try append($0) }
  }

  /// Lets `fill` write `byteCount` bytes in place (zeroed first).
  package func append(byteCount: Int, _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
    if byteCount > buffer.count - used { try flush() }
    if byteCount <= buffer.count - used, let target = buffer.baseAddress {
      let region = UnsafeMutableRawBufferPointer(start: target + used, count: byteCount)
      region.initializeMemory(as: UInt8.self, repeating: 0)
      try fill(region)
      used += byteCount
      return
    }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
    defer { scratch.deallocate() }
    scratch.initializeMemory(as: UInt8.self, repeating: 0)
    try fill(scratch)
    try writeAll(fd, UnsafeRawBufferPointer(scratch), path: path)
  }

  /// Writes out what is buffered.
  package func flush() throws {
    guard used > 0, let base = buffer.baseAddress else { return }
    try writeAll(fd, UnsafeRawBufferPointer(start: base, count: used), path: path)
    used = 0
  }
}
