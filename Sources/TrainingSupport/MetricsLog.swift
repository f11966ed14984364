import FileIO
import Foundation
import JSONSupport
#if canImport(Glibc)
  import Glibc
#endif

/// One line of a metrics log.
public struct MetricsLogEntry: Equatable, Sendable {
  public var step: Int
  public var epoch: Double?
  /// Seconds since the Unix epoch.
  public var wallTime: Double
  /// Tag → value (NaN and ±inf are stored as JSON `null` and read back as NaN).
  public var values: [String: Double]

  public init(step: Int, epoch: Double? = nil, wallTime: Double, values: [String: Double]) {
    self.step = step
    self.epoch = epoch
    self.wallTime = wallTime
    self.values = values
  }

  /// `{"step":…,"epoch":…,"wall_time":…,"values":{tag:value,…}}` with tags sorted.
  public var jsonLine: String {
    var parts = ["\"step\":\(step)"]
    if let epoch { parts.append("\"epoch\":\(JSONText.number(epoch))") }
    parts.append("\"wall_time\":\(JSONText.number(wallTime))")
    let values = values.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.number(self.values[$0] ?? .nan))" }
    parts.append("\"values\":{\(values.joined(separator: ","))}")
    return "{" + parts.joined(separator: ",") + "}"
  }
}

/// Errors raised by `MetricsLog`.
public enum MetricsLogError: Error, CustomStringConvertible {
  case cannotOpen(path: String, reason: String)
  case writeFailed(path: String, reason: String)
  case badLine(path: String, line: Int, reason: String)

  public var description: String {
    switch self {
    case .cannotOpen(let p, let r): return "cannot open metrics log \(p): \(r)"
    case .writeFailed(let p, let r): return "writing metrics log \(p) failed: \(r)"
    case .badLine(let p, let l, let r): return "\(p):\(l): \(r)"
    }
  }
}

/// An append-only JSON Lines log of training metrics: one object per `append`, written
/// (one `write(2)` unless the system writes it short) before `append` returns, so a crash loses no finished line.
public final class MetricsLog: @unchecked Sendable {
  public let url: URL
  private let lock = NSLock()
  private var fd: Int32

  /// Opens (creating if needed) `url` for appending.
  public init(url: URL) throws {
    self.url = url
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw MetricsLogError.cannotOpen(path: url.path, reason: String(cString: strerror(errno))) }
  }

  deinit { if fd >= 0 { closeDescriptor(fd) } }

  /// Appends one entry.
  public func append(_ entry: MetricsLogEntry) throws {
    let line = Array((entry.jsonLine + "\n").utf8)
    lock.lock(); defer { lock.unlock() }
    guard fd >= 0 else { throw MetricsLogError.writeFailed(path: url.path, reason: "log is closed") }
    do {
      try writeAll(fd, line, path: url.path)
    } catch let error as FileIOError {
      throw MetricsLogError.writeFailed(path: url.path, reason: error.reason)
    }
  }

  /// Appends `values` at `step` (wall time defaults to now).
  public func append(step: Int, epoch: Double? = nil, wallTime: Double? = nil, _ values: [String: Double]) throws {
    try append(
      MetricsLogEntry(step: step, epoch: epoch, wallTime: wallTime ?? Date().timeIntervalSince1970, values: values))
  }

  /// Closes the file; later appends throw.
  public func close() {
    lock.lock(); defer { lock.unlock() }
    if fd >= 0 { closeDescriptor(fd); fd = -1 }
  }

  private struct RawEntry: Decodable {
    var step: Int
    var epoch: Double?
    var wall_time: Double
    var values: [String: Double?]?
  }

  /// Reads a log written by `MetricsLog` (blank lines ignored; a truncated last line, from a
  /// crash mid-write, is ignored).
  public static func read(url: URL) throws -> [MetricsLogEntry] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw MetricsLogError.cannotOpen(path: url.path, reason: error.localizedDescription)
    }
    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let decoder = JSONDecoder()  // exact decimal-to-double conversion (JSONSerialization is not)
    var entries: [MetricsLogEntry] = []
    for (i, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      do {
        let raw = try decoder.decode(RawEntry.self, from: Data(line.utf8))
        entries.append(
          MetricsLogEntry(
            step: raw.step, epoch: raw.epoch, wallTime: raw.wall_time,
            values: (raw.values ?? [:]).mapValues { $0 ?? .nan }))
      } catch {
        if i == lines.count - 1 { break }
        throw MetricsLogError.badLine(path: url.path, line: i + 1, reason: "not a metrics log entry")
      }
    }
    return entries
  }
}
