import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A validated safetensors file whose bytes are memory-mapped read-only.
///
/// The header is fully parsed and validated in `init`; afterwards every
/// tensor's span is known to lie inside the mapping, so `withUnsafeBytes`
/// hands out pointers into the mapping without copying or re-checking.
///
/// The mapping is private and read-only. As with any `mmap`, truncating the
/// file on disk while it is mapped makes later accesses fault (SIGBUS);
/// writers in this module never modify files in place (they write a new file
/// and rename it), so files produced by `SafeTensors.write` are safe to
/// replace while mapped.
public final class SafeTensorsFile: @unchecked Sendable {
  /// The path given to `init(path:)`, or `<memory>` for in-memory buffers.
  public let path: String
  /// The parsed, validated header.
  public let header: SafeTensorsHeader

  private let base: UnsafeRawPointer
  private let size: Int
  private let storage: Storage

  private enum Storage {
    /// `munmap(base, size)` on release.
    case mapped
    /// `deallocate()` on release.
    case owned
  }

  /// Opens `path` read-only, maps it and validates its header.
  public convenience init(url: URL) throws {
    try self.init(path: url.path)
  }

  /// Opens `path` read-only, maps it and validates its header.
  public init(path: String) throws {
    func failure(_ kind: SafeTensorsError.Kind) -> SafeTensorsError {
      SafeTensorsError(path: path, kind: kind)
    }
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw failure(.io(operation: "open", errno: errno)) }
    defer { close(fd) }

    var info = stat()
    guard fstat(fd, &info) == 0 else { throw failure(.io(operation: "fstat", errno: errno)) }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw failure(.notARegularFile) }
    guard info.st_size >= 8 else { throw failure(.fileTooSmall(size: Int(info.st_size))) }
    guard info.st_size <= off_t(Int.max) else { throw failure(.io(operation: "mmap", errno: EFBIG)) }
    let size = Int(info.st_size)

    let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let mapping, mapping != MAP_FAILED else { throw failure(.io(operation: "mmap", errno: errno)) }
    do {
      header = try SafeTensorsHeader.parse(file: UnsafeRawBufferPointer(start: mapping, count: size), path: path)
    } catch {
      munmap(mapping, size)
      throw error
    }
    self.path = path
    self.base = UnsafeRawPointer(mapping)
    self.size = size
    self.storage = .mapped
  }

  /// Validates an in-memory file image (copied). Errors name `<memory>`
  /// unless `path` is given.
  public convenience init(bytes: [UInt8], path: String = "<memory>") throws {
    try self.init(copying: bytes, path: path)
  }

  /// Validates an in-memory file image (copied). Errors name `<memory>`
  /// unless `path` is given.
  public convenience init(data: Data, path: String = "<memory>") throws {
    try self.init(copying: data, path: path)
  }

  private init<Bytes: Collection>(copying bytes: Bytes, path: String) throws where Bytes.Element == UInt8 {
    let count = bytes.count
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
    guard let start = buffer.baseAddress else {
      buffer.deallocate()
      throw SafeTensorsError(path: path, kind: .io(operation: "allocate", errno: ENOMEM))
    }
    _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
    do {
      header = try SafeTensorsHeader.parse(
        file: UnsafeRawBufferPointer(start: start, count: count), path: path)
    } catch {
      buffer.deallocate()
      throw error
    }
    self.path = path
    self.base = UnsafeRawPointer(start)
    self.size = count
    self.storage = .owned
  }

  deinit {
    switch storage {
    case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), size)
    case .owned: base.deallocate()
    }
  }

  /// `__metadata__` (empty when the header has none).
  public var metadata: [String: String] { header.metadata ?? [:] }

  /// Tensor names in data-offset order.
  public var names: [String] { header.names }

  /// Number of tensors.
  public var count: Int { header.names.count }

  /// Total file size in bytes.
  public var fileSize: Int { size }

  /// Whether a tensor called `name` exists.
  public func contains(_ name: String) -> Bool { header.index(of: name) != nil }

  /// Info for `name`; throws `tensorNotFound` naming the file otherwise.
  public func info(_ name: String) throws -> TensorInfo {
    guard let info = header.info(name) else {
      throw SafeTensorsError(path: path, kind: .tensorNotFound(name: name))
    }
    return info
  }

  /// Calls `body` with the tensor's bytes, pointing straight into the
  /// mapping (zero copy). The pointer is valid only during `body`.
  ///
  /// The pointer is aligned to the element size when the header length is a
  /// multiple of 8 and tensors are ordered by decreasing element size, which
  /// holds for files written by this module and by the reference writers.
  public func withUnsafeBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let info = try info(name)
    let start = base + header.dataStart + info.dataOffsets.lowerBound
    return try withExtendedLifetime(self) {
      try body(UnsafeRawBufferPointer(start: start, count: info.byteCount))
    }
  }

  /// Copies the tensor's bytes out of the file.
  public func bytes(of name: String) throws -> [UInt8] {
    try withUnsafeBytes(of: name) { [UInt8]($0) }
  }

  /// Calls `body` with the whole file image (prefix, header and data).
  public func withUnsafeFileBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withExtendedLifetime(self) { try body(UnsafeRawBufferPointer(start: base, count: size)) }
  }
}

extension SafeTensorsFile {
  /// Lets the kernel drop the mapped pages of `name` from this process's resident memory (`MADV_DONTNEED`)
  /// once its bytes have been copied out; a later access reads them from the file again. Loading a large
  /// checkpoint tensor by tensor and releasing each keeps the file's pages from adding up to a second copy.
  public func releasePages(of name: String) {
    guard case .mapped = storage, let info = header.info(name), info.byteCount > 0 else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: base + header.dataStart + info.dataOffsets.lowerBound)
    let end = start + info.byteCount
    // Whole pages only: a page shared with the next tensor is released with that one.
    let first = (start + page - 1) / page * page
    let last = end / page * page
    guard last > first else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_DONTNEED)
  }
}
