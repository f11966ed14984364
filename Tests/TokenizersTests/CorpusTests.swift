import Datasets
import Foundation
import Tokenizers
import XCTest

/// Every row of the tweet corpus against HF `tokenizers` (fixture generated at test time).
final class CorpusTests: XCTestCase {
  struct Row {
    var text: String
    var ids: [Int]
    var offsets: [Int]
    var words: [Int]
    var truncated: [Int]
  }

  func loadRows() throws -> [Row] {
    let path = try TestEnvironment.corpusFixture()
    guard let data = FileManager.default.contents(atPath: path) else {
      throw SetupError(description: "cannot read \(path)")
    }
    var rows: [Row] = []
    rows.reserveCapacity(40_000)
    for line in data.split(separator: 0x0A) {
      guard let row = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
        throw SetupError(description: "\(path): a line is not a JSON object")
      }
      rows.append(
        Row(
          text: row["text"] as? String ?? "", ids: Fixture.ints(row["ids"]), offsets: Fixture.ints(row["offsets"]),
          words: Fixture.ints(row["words"]), truncated: Fixture.ints(row["trunc"])))
    }
    return rows
  }

  func testCorpusMatchesHF() throws {
    let rows = try loadRows()
    let file = try DelimitedFileReader(format: .csv).read(path: try TestEnvironment.corpus())
    let texts = file.records.map { file.value("text", in: $0) ?? "" }
    XCTAssertEqual(texts.count, 38_158)
    XCTAssertEqual(rows.count, texts.count, "CSV parsing disagrees with Python's csv module on the row count")

    // 1. Reading: CSV parsing + UTF-8 replacement decoding must give Python's exact strings.
    var textMismatches = 0
    for (i, (row, text)) in zip(rows, texts).enumerated()
    where !row.text.unicodeScalars.elementsEqual(text.unicodeScalars) {
      if textMismatches == 0 {
        XCTFail("row \(i + 1): Swift read \(Fixture.show(text)), Python read \(Fixture.show(row.text))")
      }
      textMismatches += 1
    }
    XCTAssertEqual(textMismatches, 0, "rows whose text differs from Python's reading")

    // 2. Full encodings, no truncation or padding.
    let plain = try TestEnvironment.plainTokenizer()
    let full = try plain.encodeBatch(texts)
    var mismatches = 0
    for (i, (e, row)) in zip(full, rows).enumerated() {
      let n = e.count
      let offsets = e.offsets.flatMap { [$0.start, $0.end] }
      let words = e.wordIds.map { $0 ?? -1 }
      let fine =
        e.ids == row.ids && offsets == row.offsets && words == row.words
        && e.typeIds == Array(repeating: 0, count: n) && e.attentionMask == Array(repeating: 1, count: n)
        && e.specialTokensMask == [1] + Array(repeating: 0, count: max(n - 2, 0)) + [1]
      if !fine {
        if mismatches == 0 {
          XCTFail(
            "row \(i + 1) \(Fixture.show(texts[i])):\n ids HF \(row.ids)\n ids Swift \(e.ids)\n offsets HF \(row.offsets)\n offsets Swift \(offsets)\n words HF \(row.words)\n words Swift \(words)"
          )
        }
        mismatches += 1
      }
    }
    XCTAssertEqual(mismatches, 0, "corpus rows whose full encoding differs from HF")

    // 3. tokenizer.json defaults: truncation to 128 (LongestFirst) + Fixed(128) padding.
    let configured = try TestEnvironment.tokenizer()
    let truncated = try configured.encodeBatch(texts)
    var truncatedMismatches = 0
    for (i, (e, row)) in zip(truncated, rows).enumerated() {
      let real = row.truncated.count
      let fine =
        e.count == 128 && Array(e.ids.prefix(real)) == row.truncated
        && e.ids.dropFirst(real).allSatisfy { $0 == 0 }
        && e.attentionMask == Array(repeating: 1, count: real) + Array(repeating: 0, count: 128 - real)
        && e.typeIds == Array(repeating: 0, count: 128)
      if !fine {
        if truncatedMismatches == 0 {
          XCTFail("row \(i + 1) truncated/padded \(Fixture.show(texts[i])):\n HF \(row.truncated)\n Swift \(e.ids)")
        }
        truncatedMismatches += 1
      }
    }
    XCTAssertEqual(truncatedMismatches, 0, "corpus rows whose truncated+padded encoding differs from HF")
    XCTAssertGreaterThan(
      truncated.filter { $0.attentionMask.last == 1 }.count, 0, "some rows should hit max_length=128")

    // 4. Single encode equals batch encode.
    for i in stride(from: 0, to: texts.count, by: 997) {
      XCTAssertEqual(try plain.encode(texts[i]), full[i], "row \(i + 1)")
    }
  }
}
