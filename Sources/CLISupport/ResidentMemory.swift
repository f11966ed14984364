import Foundation

/// The process's resident memory from `/proc/self/status` (Linux), for load-time reports.
package enum ResidentMemory {
  /// `VmRSS` (now) and `VmHWM` (the peak), in bytes; nil where /proc is unavailable.
  package static func current() -> (resident: Int, peak: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    var rss: Int?
    var hwm: Int?
    for line in text.split(separator: "\n") {
      let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
      if parts[0] == "VmRSS:" { rss = kb * 1024 }
      if parts[0] == "VmHWM:" { hwm = kb * 1024 }
    }
    guard let rss, let hwm else { return nil }
    return (rss, hwm)
  }

  /// Resets the peak to the current resident size (`echo 5 > /proc/self/clear_refs`), so a later `peak` measures
  /// what happened since. Returns false where the kernel does not allow it.
  @discardableResult
  package static func resetPeak() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do {
      try handle.write(contentsOf: Data("5".utf8))
      return true
    } catch {
      return false
    }
  }
}
