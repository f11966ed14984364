import Foundation
import JSONSupport

/// One data record of a tabular file.
public struct SourceRecord: Sendable {
  /// 1-based physical line where the record starts (blank lines and line breaks inside
  /// quoted fields count, the header is line 1 for CSV/TSV).
  public var line: Int
  /// Field values by position (CSV/TSV); empty for JSON Lines.
  public var fields: [String]
  /// The parsed object (JSON Lines); nil for CSV/TSV or when the line is not a JSON object.
  package var object: [String: JSONValue]?
  /// Number of U+FFFD substitutions made while decoding this record's bytes.
  public var replacementCount: Int
  /// Why the record could not be parsed (JSON Lines syntax errors, non-object lines).
  public var parseError: String?
}

/// A tabular file read into memory.
public struct DelimitedFile: Sendable {
  public var path: String
  public var format: DelimitedFormat
  /// Column names: the header row (CSV/TSV) or the keys of the first object (JSON Lines,
  /// in first-seen order over all objects).
  public var columns: [String]
  public var records: [SourceRecord]
  /// Replacements made in the header row.
  public var headerReplacementCount: Int

  /// The value of `column` in `record`: nil when the column is absent from the record
  /// (short CSV row, missing JSON key, JSON null/array/object).
  public func value(_ column: String, in record: SourceRecord) -> String? {
    switch format {
    case .csv, .tsv:
      guard let index = columns.firstIndex(of: column), index < record.fields.count else { return nil }
      return record.fields[index]
    case .jsonLines:
      return record.object?[column]?.fieldString
    }
  }
}

/// Errors raised while opening or parsing a data file.
public enum DataFileError: Error, Equatable, CustomStringConvertible {
  case fileNotFound(path: String)
  case unreadable(path: String, reason: String)
  case unknownFormat(path: String)
  case missingHeader(path: String)

  public var description: String {
    switch self {
    case .fileNotFound(let p): return "data file not found: \(p)"
    case .unreadable(let p, let r): return "cannot read data file \(p): \(r)"
    case .unknownFormat(let p):
      return
        "cannot infer the format of \(p) from its extension (expected .csv, .tsv, .jsonl or .json); pass a format explicitly"
    case .missingHeader(let p): return "data file \(p) is empty: no header row"
    }
  }
}

/// Reads CSV, TSV and JSON Lines files.
///
/// CSV/TSV are parsed the way Python's `csv.reader(open(path, encoding="utf-8",
/// errors="replace", newline=""))` does (see `CSVParser`); the first record is the header and
/// a leading UTF-8 byte-order mark is dropped. JSON Lines files hold one object per non-blank
/// line. Ill-formed UTF-8 is replaced with U+FFFD and counted per record.
public struct DelimitedFileReader: Sendable {
  public var format: DelimitedFormat?
  /// For CSV/TSV: whether `"` quotes fields (false behaves like `csv.QUOTE_NONE`).
  public var quoting: Bool

  public init(format: DelimitedFormat? = nil, quoting: Bool = true) {
    self.format = format
    self.quoting = quoting
  }

  /// Reads the whole file at `path`.
  public func read(path: String) throws -> DelimitedFile {
    guard let format = format ?? DelimitedFormat.infer(fromPath: path) else {
      throw DataFileError.unknownFormat(path: path)
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw DataFileError.fileNotFound(path: path)
    }
    guard !isDirectory.boolValue else { throw DataFileError.unreadable(path: path, reason: "is a directory") }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw DataFileError.unreadable(path: path, reason: error.localizedDescription)
    }
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    switch format {
    case .csv, .tsv: return try readDelimited(bytes, path: path, format: format)
    case .jsonLines: return readJSONLines(bytes, path: path)
    }
  }

  private func readDelimited(_ bytes: [UInt8], path: String, format: DelimitedFormat) throws -> DelimitedFile {
    let parser = CSVParser(delimiter: format.delimiter ?? UInt8(ascii: ","), quoting: quoting)
    let raw = parser.parse(bytes)
    guard let header = raw.first else { throw DataFileError.missingHeader(path: path) }
    var headerReplacements = 0
    let columns = header.fields.map { field -> String in
      let (s, n) = field.decoded()
      headerReplacements += n
      return s
    }
    let records = raw.dropFirst().map { record -> SourceRecord in
      var replacements = 0
      let fields = record.fields.map { field -> String in
        let (s, n) = field.decoded()
        replacements += n
        return s
      }
      return SourceRecord(
        line: record.line, fields: fields, object: nil, replacementCount: replacements,
        parseError: record.unterminatedQuote ? "unterminated quoted field at end of file" : nil)
    }
    return DelimitedFile(
      path: path, format: format, columns: columns, records: records,
      headerReplacementCount: headerReplacements)
  }

  private func readJSONLines(_ bytes: [UInt8], path: String) -> DelimitedFile {
    var records: [SourceRecord] = []
    var columns: [String] = []
    var seen = Set<String>()
    var line = 1
    var start = 0
    let n = bytes.count
    while start <= n {
      var end = start
      while end < n && bytes[end] != UInt8(ascii: "\n") && bytes[end] != UInt8(ascii: "\r") { end += 1 }
      let chunk = bytes[start..<end]
      if chunk.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
        let (text, replacements) = UTF8Repair.decode(chunk)
        var record = SourceRecord(line: line, fields: [], object: nil, replacementCount: replacements, parseError: nil)
        do {
          let value = try JSONValue.parse(text)
          if case .object(let object) = value {
            record.object = object
            for key in object.keys.sorted() where !seen.contains(key) {
              seen.insert(key)
              columns.append(key)
            }
          } else {
            record.parseError = "line is JSON but not an object"
          }
        } catch {
          record.parseError = "invalid JSON"
        }
        records.append(record)
      }
      guard end < n else { break }
      start =
        (bytes[end] == UInt8(ascii: "\r") && end + 1 < n && bytes[end + 1] == UInt8(ascii: "\n")) ? end + 2 : end + 1
      line += 1
    }
    return DelimitedFile(path: path, format: .jsonLines, columns: columns, records: records, headerReplacementCount: 0)
  }
}
