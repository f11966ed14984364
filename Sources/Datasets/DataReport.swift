/// The kinds of problems found in data rows.
public enum DataIssueKind: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
  /// Ill-formed UTF-8 was replaced with U+FFFD; the row is kept.
  case invalidUTF8
  /// The text is empty or whitespace only.
  case emptyText
  /// The label is absent, empty or whitespace only.
  case missingLabel
  /// The label is not in the fixed label set.
  case unknownLabel
  /// A CSV/TSV row whose field count differs from the header's.
  case wrongColumnCount
  /// A row that could not be parsed (invalid JSON, non-object JSON, unterminated quote).
  case malformedRecord

  /// The kind in words, as reports print it ("invalid UTF-8", "empty text").
  public var title: String {
    switch self {
    case .invalidUTF8: "invalid UTF-8"
    case .emptyText: "empty text"
    case .missingLabel: "missing label"
    case .unknownLabel: "unknown label"
    case .wrongColumnCount: "wrong column count"
    case .malformedRecord: "malformed record"
    }
  }

  /// Whether rows with this problem are dropped (all but `invalidUTF8`).
  public var skipsRow: Bool { self != .invalidUTF8 }

  public static func < (a: DataIssueKind, b: DataIssueKind) -> Bool {
    let order = allCases
    return (order.firstIndex(of: a) ?? 0) < (order.firstIndex(of: b) ?? 0)
  }
}

/// One problem found in one row.
public struct DataIssue: Codable, Equatable, Sendable, CustomStringConvertible {
  public var kind: DataIssueKind
  /// 1-based physical line where the record starts.
  public var line: Int
  public var message: String

  public var description: String { "line \(line): \(message)" }
}

/// What a load found: row counts, problem counts per kind and the first examples of each.
public struct DataReport: Codable, Equatable, Sendable, CustomStringConvertible {
  public var path: String
  /// Data records read (header excluded, blank lines not counted).
  public var totalRecords = 0
  /// Records that became examples.
  public var keptRecords = 0
  /// Records dropped because of a problem.
  public var skippedRecords = 0
  /// Number of rows with each kind of problem (a row counts once per kind).
  public var counts: [DataIssueKind: Int] = [:]
  /// Total U+FFFD substitutions over all rows.
  public var replacementCharacters = 0
  /// The first `maxExamplesPerKind` issues of each kind, in file order.
  public var examples: [DataIssueKind: [DataIssue]] = [:]
  public var maxExamplesPerKind: Int

  public init(path: String, maxExamplesPerKind: Int = 5) {
    self.path = path
    self.maxExamplesPerKind = maxExamplesPerKind
  }

  /// The number of rows with `kind` problems.
  public func count(_ kind: DataIssueKind) -> Int { counts[kind] ?? 0 }

  mutating func record(_ issue: DataIssue) {
    counts[issue.kind, default: 0] += 1
    if examples[issue.kind, default: []].count < maxExamplesPerKind {
      examples[issue.kind, default: []].append(issue)
    }
  }

  /// A multi-line human-readable summary.
  public var description: String {
    var lines = ["\(path): \(totalRecords) records, \(keptRecords) kept, \(skippedRecords) skipped"]
    for kind in counts.keys.sorted() {
      let n = count(kind)
      var head = "  \(kind.title): \(n) row\(n == 1 ? "" : "s")"
      if kind == .invalidUTF8 { head += " (\(replacementCharacters) replacement characters, rows kept)" }
      lines.append(head)
      for issue in examples[kind] ?? [] { lines.append("    \(issue)") }
    }
    return lines.joined(separator: "\n")
  }
}
