/// Errors raised while building a text-classification data set.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
  /// A named column is not in the file.
  case unknownColumn(column: String, role: String, path: String, available: [String])
  /// Every row was filtered out (or the file has no data rows).
  case emptyDataset(path: String, summary: String)
  /// Strict mode: a bad row.
  case badRow(path: String, line: Int, kind: DataIssueKind, message: String)
  /// The requested split or subset is impossible.
  case invalidSplit(String)

  public var description: String {
    switch self {
    case .unknownColumn(let c, let role, let p, let available):
      let list = available.map { "\"\($0)\"" }.joined(separator: ", ")
      return "\(role) column \"\(c)\" not found in \(p); available columns: \(list.isEmpty ? "(none)" : list)"
    case .emptyDataset(let p, let summary):
      return "no usable examples in \(p) after filtering\n\(summary)"
    case .badRow(let p, let line, let kind, let message):
      return "\(p):\(line): " + (message.hasPrefix(kind.title) ? message : "\(kind.title): \(message)")
    case .invalidSplit(let m):
      return "invalid split: \(m)"
    }
  }
}
