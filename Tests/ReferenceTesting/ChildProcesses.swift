import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What the multi-process tests (ranks on 127.0.0.1, torchrun) need to bound and clean up their children.
public enum ChildProcesses {
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// A TCP port nobody listens on right now (the kernel's pick for port 0 on 127.0.0.1).
  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
        bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
      }
    }
    guard bound else { throw Failure(description: "could not bind a free port: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  /// Every process below `root` (children first found, then theirs), from /proc's parent links — including
  /// processes that put themselves in sessions of their own, as torchrun's workers do.
  public static func descendants(of root: pid_t) -> [pid_t] {
    var children: [pid_t: [pid_t]] = [:]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for e in entries {
      guard let pid = pid_t(e), let stat = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 1, let ppid = pid_t(fields[1]) { children[ppid, default: []].append(pid) }
    }
    var out: [pid_t] = []
    var frontier = [root]
    while let p = frontier.popLast() {
      for c in children[p] ?? [] {
        out.append(c)
        frontier.append(c)
      }
    }
    return out
  }
}
