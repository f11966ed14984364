import Foundation

/// One labelled text.
public struct TextExample: Codable, Equatable, Sendable {
  public var text: String
  /// Index into the data set's `LabelVocabulary`.
  public var label: Int
  /// 1-based physical line where the record starts in the source file.
  public var line: Int

  public init(text: String, label: Int, line: Int) {
    self.text = text
    self.label = label
    self.line = line
  }
}

/// A labelled text corpus loaded from CSV, TSV or JSON Lines.
public struct TextClassificationDataset: Sendable {
  public var examples: [TextExample]
  public let labels: LabelVocabulary
  /// What the load found (shared by splits and subsets of this data set).
  public let report: DataReport

  public init(examples: [TextExample], labels: LabelVocabulary, report: DataReport) {
    self.examples = examples
    self.labels = labels
    self.report = report
  }

  public var count: Int { examples.count }

  /// Number of examples per label id (`labelCounts[i]` for `labels.labels[i]`).
  public var labelCounts: [Int] {
    var counts = [Int](repeating: 0, count: labels.count)
    for e in examples where counts.indices.contains(e.label) { counts[e.label] += 1 }
    return counts
  }

  /// Loads a data set.
  ///
  /// - Parameters:
  ///   - path: a `.csv`, `.tsv` or `.jsonl`/`.json` (JSON Lines) file, or any name with `format`.
  ///   - textColumn / labelColumn: column names (header row, or JSON keys).
  ///   - labels: a fixed label order (e.g. from a saved model); rows with other labels are
  ///     `unknownLabel`. When nil, the labels found are sorted by code point.
  ///   - strict: throw `DatasetError.badRow` at the first row that would be skipped, instead
  ///     of skipping it. Ill-formed UTF-8 is repaired and reported in both modes.
  ///   - format: overrides the extension.
  ///   - maxExamplesPerKind: how many issues of each kind the report keeps.
  public static func load(
    path: String, textColumn: String = "text", labelColumn: String = "label",
    labels fixedLabels: [String]? = nil, strict: Bool = false,
    format: DelimitedFormat? = nil, maxExamplesPerKind: Int = 5
  ) throws -> TextClassificationDataset {
    let vocabulary = try fixedLabels.map { try LabelVocabulary(labels: $0) }
    let file = try DelimitedFileReader(format: format).read(path: path)
    // JSON Lines files with no parsable object have no columns; they end as empty data sets.
    if file.format != .jsonLines || !file.columns.isEmpty {
      for (column, role) in [(textColumn, "text"), (labelColumn, "label")] where !file.columns.contains(column) {
        throw DatasetError.unknownColumn(column: column, role: role, path: path, available: file.columns)
      }
    }
    var report = DataReport(path: path, maxExamplesPerKind: maxExamplesPerKind)
    var kept: [(text: String, label: String, line: Int)] = []
    for record in file.records {
      report.totalRecords += 1
      let issue = problem(
        in: record, file: file, textColumn: textColumn, labelColumn: labelColumn,
        vocabulary: vocabulary)
      if record.replacementCount > 0 {
        report.replacementCharacters += record.replacementCount
        report.record(
          DataIssue(
            kind: .invalidUTF8, line: record.line,
            message:
              "invalid UTF-8 replaced by \(record.replacementCount) U+FFFD character\(record.replacementCount == 1 ? "" : "s")"
          ))
      }
      switch issue {
      case .failure(let bad):
        if strict { throw DatasetError.badRow(path: path, line: bad.line, kind: bad.kind, message: bad.message) }
        report.record(bad)
        report.skippedRecords += 1
      case .success(let row):
        kept.append((row.text, row.label, record.line))
      }
    }
    let finalVocabulary = vocabulary ?? LabelVocabulary(sortedFrom: kept.map(\.label))
    let examples = kept.compactMap { row in
      finalVocabulary.id(for: row.label).map { TextExample(text: row.text, label: $0, line: row.line) }
    }
    report.keptRecords = examples.count
    guard !examples.isEmpty else {
      throw DatasetError.emptyDataset(path: path, summary: report.description)
    }
    return TextClassificationDataset(examples: examples, labels: finalVocabulary, report: report)
  }

  private struct Row { var text: String; var label: String }

  private static func problem(
    in record: SourceRecord, file: DelimitedFile, textColumn: String, labelColumn: String,
    vocabulary: LabelVocabulary?
  ) -> Result<Row, DataIssue> {
    func fail(_ kind: DataIssueKind, _ message: String) -> Result<Row, DataIssue> {
      .failure(DataIssue(kind: kind, line: record.line, message: message))
    }
    if let error = record.parseError { return fail(.malformedRecord, error) }
    if file.format != .jsonLines && record.fields.count != file.columns.count {
      return fail(.wrongColumnCount, "expected \(file.columns.count) fields, found \(record.fields.count)")
    }
    guard let text = file.value(textColumn, in: record) else {
      return fail(.emptyText, "no text in column \"\(textColumn)\"")
    }
    if text.allSatisfy(\.isWhitespace) {
      return fail(.emptyText, text.isEmpty ? "empty text" : "whitespace-only text")
    }
    let label = (file.value(labelColumn, in: record) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    if label.isEmpty { return fail(.missingLabel, "missing label in column \"\(labelColumn)\"") }
    if let vocabulary, vocabulary.id(for: label) == nil {
      let known = vocabulary.labels.map { "\"\($0)\"" }.joined(separator: ", ")
      return fail(.unknownLabel, "unknown label \"\(label)\" (expected one of \(known))")
    }
    return .success(Row(text: text, label: label))
  }
}

extension DataIssue: Error {}
