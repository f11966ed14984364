#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Closes a file descriptor (a free function, so types with a `close()` method can call it).
func closeDescriptor(_ fd: Int32) {
  _ = close(fd)
}
