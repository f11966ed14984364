import Foundation
import ReferenceTesting
import XCTest
import Datasets

/// Loads the real default corpus and compares it with Python's `csv.DictReader`.
final class CorpusTests: XCTestCase {
  func testCorpusMatchesPythonDictReader() throws {
    let path = try ReferenceTools.corpus()
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "csv_reference.py", ["corpus", path, "text", "sentiment"]) as? [String: Any])
    let header = try XCTUnwrap(reference["header"] as? [String])
    let rows = try XCTUnwrap(reference["rows"] as? [[String: Any]])

    let dataset = try TextClassificationDataset.load(path: path, textColumn: "text", labelColumn: "sentiment")
    XCTAssertEqual(header, ["sentiment", "confidence", "text"])
    XCTAssertEqual(rows.count, 38_158)
    XCTAssertEqual(dataset.count, rows.count)
    XCTAssertEqual(dataset.labels.labels, ["negative", "neutral", "positive"])
    XCTAssertEqual(dataset.labelCounts, [16_186, 15_018, 6_954])

    var mismatches = 0
    var expectedRowsWithReplacements = 0
    var expectedReplacements = 0
    for (example, row) in zip(dataset.examples, rows) {
      let text = row["text"] as? String
      let label = row["label"] as? String
      let line = row["line"] as? Int
      let fffd = row["fffd"] as? Int ?? 0
      if fffd > 0 { expectedRowsWithReplacements += 1 }
      expectedReplacements += fffd
      if example.text != text || dataset.labels.label(for: example.label) != label || example.line != line {
        mismatches += 1
        if mismatches <= 5 {
          XCTFail(
            "row at line \(line ?? -1): got (\(example.line), \(example.text.debugDescription)), expected \(text.debugDescription)"
          )
        }
      }
    }
    XCTAssertEqual(mismatches, 0)
    // Every U+FFFD in Python's output comes from a repair (the file has no literal U+FFFD).
    XCTAssertEqual(dataset.report.count(.invalidUTF8), expectedRowsWithReplacements)
    XCTAssertEqual(dataset.report.replacementCharacters, expectedReplacements)
    XCTAssertGreaterThan(expectedRowsWithReplacements, 0, "the corpus is known to contain invalid UTF-8")
    XCTAssertEqual(dataset.report.skippedRecords, 0)
    XCTAssertEqual(dataset.report.totalRecords, 38_158)
  }

  func testCorpusSplitIsDeterministicAndStratified() throws {
    let dataset = try TextClassificationDataset.load(
      path: try ReferenceTools.corpus(), textColumn: "text", labelColumn: "sentiment")
    let a = try dataset.split(validationFraction: 0.1, seed: 42, stratified: true)
    let b = try dataset.split(validationFraction: 0.1, seed: 42, stratified: true)
    XCTAssertEqual(a.validation.examples, b.validation.examples)
    XCTAssertEqual(a.validation.count, 3_816)
    XCTAssertEqual(a.train.count + a.validation.count, dataset.count)
    // Largest-remainder allocation of 3816 over 16186/15018/6954.
    XCTAssertEqual(a.validation.labelCounts, [1_619, 1_502, 695])
  }
}
