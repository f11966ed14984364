/// The on-disk layout of a tabular text file.
public enum DelimitedFormat: String, Codable, Sendable, CaseIterable {
  /// Comma-separated values, RFC 4180 quoting (as Python's `csv` module reads it).
  case csv
  /// Tab-separated values, with the same quoting rules as `csv`.
  case tsv
  /// One JSON object per line.
  case jsonLines

  /// The format implied by a file extension: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`/`.json`
  /// (case-insensitive); nil when the extension is not recognised.
  public static func infer(fromPath path: String) -> DelimitedFormat? {
    guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
    switch path[path.index(after: dot)...].lowercased() {
    case "csv": return .csv
    case "tsv", "tab": return .tsv
    case "jsonl", "ndjson", "json": return .jsonLines
    default: return nil
    }
  }

  /// The field delimiter byte for delimited formats.
  var delimiter: UInt8? {
    switch self {
    case .csv: return UInt8(ascii: ",")
    case .tsv: return UInt8(ascii: "\t")
    case .jsonLines: return nil
    }
  }
}
