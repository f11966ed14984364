import Foundation
import TrainingSupport

/// One scalar read back from an event file.
struct ScalarEvent: Equatable, Sendable {
  var tag: String
  var step: Int64
  var value: Float
  var wallTime: Double

  init(tag: String, step: Int64, value: Float, wallTime: Double) {
    self.tag = tag
    self.step = step
    self.value = value
    self.wallTime = wallTime
  }
}

/// Errors raised by `TensorBoardEventReader`.
enum TensorBoardReaderError: Error, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case corrupt(path: String, reason: String)
  case badEvent(path: String, record: Int, reason: String)

  var description: String {
    switch self {
    case .unreadable(let p, let r): return "cannot read event file \(p): \(r)"
    case .corrupt(let p, let r): return "corrupt event file \(p): \(r)"
    case .badEvent(let p, let i, let r): return "event file \(p), record \(i): cannot decode event: \(r)"
    }
  }
}

/// Reads TensorBoard event files, verifying the CRCs of every record, and decodes scalars
/// (both `simple_value` and the `"scalars"`-plugin tensor form). Test support: it reads back what
/// `TensorBoardWriter` wrote, beside tensorboard's own Python loaders.
struct TensorBoardEventReader {
  /// The decoded events, file-version event included, in file order.
  let events: [EventRecord]

  /// Reads one event file. With `allowTruncatedTail`, an incomplete last record (a file
  /// still being written) is ignored instead of reported.
  init(fileURL: URL, allowTruncatedTail: Bool = false) throws {
    let data: Data
    do { data = try Data(contentsOf: fileURL) } catch {
      throw TensorBoardReaderError.unreadable(path: fileURL.path, reason: error.localizedDescription)
    }
    let bytes = [UInt8](data)
    var records: [ArraySlice<UInt8>]
    do {
      records = try TFRecord.records(in: bytes)
    } catch TFRecord.ReadError.truncated(let offset) where allowTruncatedTail {
      records = (try? TFRecord.records(in: Array(bytes[..<offset]))) ?? []
    } catch {
      throw TensorBoardReaderError.corrupt(path: fileURL.path, reason: "\(error)")
    }
    var events: [EventRecord] = []
    events.reserveCapacity(records.count)
    for (i, record) in records.enumerated() {
      do { events.append(try EventRecord(decoding: record)) } catch {
        throw TensorBoardReaderError.badEvent(path: fileURL.path, record: i, reason: "\(error)")
      }
    }
    self.events = events
  }

  /// The `file_version` of the first event, if present.
  var fileVersion: String? { events.first?.fileVersion }

  /// All scalars in file order.
  var scalars: [ScalarEvent] {
    events.flatMap { e in
      e.scalars.map { ScalarEvent(tag: $0.tag, step: e.step, value: $0.value, wallTime: e.wallTime) }
    }
  }

  /// Scalars grouped by tag, each in file order.
  var scalarsByTag: [String: [ScalarEvent]] {
    Dictionary(grouping: scalars, by: \.tag)
  }

  /// The event files (`events.out.tfevents.*`) directly inside `logdir`, sorted by name
  /// (which orders them by creation time).
  static func eventFiles(in logdir: URL) throws -> [URL] {
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: logdir.path) } catch {
      throw TensorBoardReaderError.unreadable(path: logdir.path, reason: error.localizedDescription)
    }
    return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted().map { logdir.appendingPathComponent($0) }
  }

  /// All scalars of all event files directly inside `logdir`, file by file.
  static func scalars(inLogdir logdir: URL, allowTruncatedTail: Bool = true) throws -> [ScalarEvent] {
    try eventFiles(in: logdir).flatMap {
      try TensorBoardEventReader(fileURL: $0, allowTruncatedTail: allowTruncatedTail).scalars
    }
  }
}
