import Foundation
import ReferenceTesting
import XCTest
import Datasets

/// Bad-row accounting, strict mode and error messages on small files written by the tests.
final class DatasetLoadingTests: XCTestCase {
  private var dir: URL!

  override func setUpWithError() throws {
    dir = try ReferenceTools.temporaryDirectory(self)
  }

  private func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  private func write(_ name: String, _ text: String) throws -> String {
    try write(name, Array(text.utf8))
  }

  /// A CSV with one row of each problem kind, plus good rows.
  private func messyCSV() throws -> String {
    var bytes = Array("text,label\r\n".utf8)  // line 1
    bytes += Array("good one,pos\r\n".utf8)  // line 2
    bytes += Array("caf".utf8) + [0xC3, 0x28] + Array(",neg\r\n".utf8)  // line 3: invalid UTF-8, kept
    bytes += Array("   ,pos\r\n".utf8)  // line 4: whitespace text
    bytes += Array("no label,\r\n".utf8)  // line 5: missing label
    bytes += Array("\"multi\nline\",neg\r\n".utf8)  // lines 6-7: fine
    bytes += Array("too,many,fields\r\n".utf8)  // line 8: wrong column count
    bytes += Array("short\r\n".utf8)  // line 9: wrong column count
    bytes += Array("odd label,meh\r\n".utf8)  // line 10: unknown only with fixed labels
    return try write("messy.csv", bytes)
  }

  func testBadRowsAreCountedWithLineNumbersAndSkipped() throws {
    let path = try messyCSV()
    let ds = try TextClassificationDataset.load(path: path, textColumn: "text", labelColumn: "label")
    XCTAssertEqual(ds.examples.map(\.line), [2, 3, 6, 10])
    XCTAssertEqual(ds.examples.map(\.text), ["good one", "caf\u{FFFD}(", "multi\nline", "odd label"])
    XCTAssertEqual(ds.labels.labels, ["meh", "neg", "pos"])
    let r = ds.report
    XCTAssertEqual(r.totalRecords, 8)
    XCTAssertEqual(r.keptRecords, 4)
    XCTAssertEqual(r.skippedRecords, 4)
    XCTAssertEqual(r.count(.invalidUTF8), 1)
    XCTAssertEqual(r.replacementCharacters, 1)
    XCTAssertEqual(r.count(.emptyText), 1)
    XCTAssertEqual(r.count(.missingLabel), 1)
    XCTAssertEqual(r.count(.wrongColumnCount), 2)
    XCTAssertEqual(r.examples[.wrongColumnCount]?.map(\.line), [8, 9])
    XCTAssertEqual(r.examples[.emptyText]?.first?.line, 4)
    XCTAssertEqual(r.examples[.missingLabel]?.first?.line, 5)
    XCTAssertEqual(r.examples[.invalidUTF8]?.first?.line, 3)
    XCTAssertTrue(r.description.contains("wrong column count: 2 rows"), r.description)
    // The report encodes as a JSON object keyed by kind and decodes back.
    let json = try JSONEncoder().encode(r)
    let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
    XCTAssertEqual((object?["counts"] as? [String: Int])?["wrongColumnCount"], 2)
    XCTAssertEqual(try JSONDecoder().decode(DataReport.self, from: json), r)
  }

  func testUnknownLabelWithFixedLabelSet() throws {
    let path = try messyCSV()
    let ds = try TextClassificationDataset.load(
      path: path, textColumn: "text", labelColumn: "label",
      labels: ["pos", "neg"])
    XCTAssertEqual(ds.labels.labels, ["pos", "neg"], "a fixed order is kept as given")
    XCTAssertEqual(ds.examples.map(\.label), [0, 1, 1])
    XCTAssertEqual(ds.report.count(.unknownLabel), 1)
    XCTAssertEqual(ds.report.examples[.unknownLabel]?.first?.line, 10)
    XCTAssertTrue(ds.report.examples[.unknownLabel]?.first?.message.contains("\"meh\"") ?? false)
  }

  func testStrictModeThrowsAtFirstBadRow() throws {
    let path = try messyCSV()
    XCTAssertThrowsError(
      try TextClassificationDataset.load(path: path, textColumn: "text", labelColumn: "label", strict: true)
    ) { error in
      XCTAssertEqual(
        error as? DatasetError, .badRow(path: path, line: 4, kind: .emptyText, message: "whitespace-only text"))
      XCTAssertEqual("\(error)", "\(path):4: empty text: whitespace-only text")
    }
    let clean = try write("clean.csv", "text,label\nok,a\n\"caf\u{E9}\",b\n")
    XCTAssertEqual(try TextClassificationDataset.load(path: clean, strict: true).count, 2)
  }

  func testStrictModeNamesEachKind() throws {
    let cases: [(String, DataIssueKind, Int)] = [
      ("text,label\nok,a\n,a\n", .emptyText, 3),
      ("text,label\nok,a\nx,  \n", .missingLabel, 3),
      ("text,label\nok,a\nx,a,extra\n", .wrongColumnCount, 3),
      ("text,label\nok,a\n\n\"x\nstill x\",a,b\n", .wrongColumnCount, 4)
    ]
    for (i, (content, kind, line)) in cases.enumerated() {
      let path = try write("strict-\(i).csv", content)
      XCTAssertThrowsError(try TextClassificationDataset.load(path: path, strict: true)) { error in
        guard case .badRow(let p, let l, let k, _)? = error as? DatasetError else { return XCTFail("\(error)") }
        XCTAssertEqual([p, "\(l)", k.rawValue], [path, "\(line)", kind.rawValue])
      }
    }
    let unknown = try write("strict-unknown.csv", "text,label\nok,a\nx,c\n")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: unknown, labels: ["a", "b"], strict: true)) { error in
      XCTAssertTrue("\(error)".hasPrefix("\(unknown):3: unknown label \"c\""), "\(error)")
    }
  }

  func testMissingFile() {
    let path = dir.appendingPathComponent("nope.csv").path
    XCTAssertThrowsError(try TextClassificationDataset.load(path: path)) { error in
      XCTAssertEqual(error as? DataFileError, .fileNotFound(path: path))
      XCTAssertTrue("\(error)".contains(path))
    }
  }

  func testUnreadableFileAndUnknownExtension() throws {
    let sub = dir.appendingPathComponent("folder.csv")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
    XCTAssertThrowsError(try TextClassificationDataset.load(path: sub.path)) { error in
      XCTAssertEqual(error as? DataFileError, .unreadable(path: sub.path, reason: "is a directory"))
    }
    let odd = try write("data.xyz", "text,label\na,b\n")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: odd)) { error in
      XCTAssertEqual(error as? DataFileError, .unknownFormat(path: odd))
    }
    XCTAssertEqual(try TextClassificationDataset.load(path: odd, format: .csv).count, 1)
  }

  func testUnknownColumnListsAvailableColumns() throws {
    let path = try write("cols.csv", "sentiment,confidence,text\npositive,1,yay\n")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: path, textColumn: "text", labelColumn: "label")) {
      error in
      XCTAssertEqual(
        "\(error)",
        "label column \"label\" not found in \(path); available columns: \"sentiment\", \"confidence\", \"text\"")
    }
  }

  func testEmptyDataSetAfterFiltering() throws {
    let path = try write("empty.csv", "text,label\n ,a\nx,\n")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: path)) { error in
      guard case .emptyDataset(let p, let summary)? = error as? DatasetError else { return XCTFail("\(error)") }
      XCTAssertEqual(p, path)
      XCTAssertTrue(summary.contains("empty text: 1 row") && summary.contains("missing label: 1 row"), summary)
    }
    let headerOnly = try write("header.csv", "text,label\r\n")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: headerOnly)) { error in
      guard case .emptyDataset? = error as? DatasetError else { return XCTFail("\(error)") }
    }
    let nothing = try write("nothing.csv", "")
    XCTAssertThrowsError(try TextClassificationDataset.load(path: nothing)) { error in
      XCTAssertEqual(error as? DataFileError, .missingHeader(path: nothing))
    }
  }

  func testTSVAndQuoting() throws {
    let path = try write("d.tsv", "label\ttext\nb\t\"tab\tinside\"\na\tplain, with comma\n")
    let ds = try TextClassificationDataset.load(path: path)
    XCTAssertEqual(ds.examples.map(\.text), ["tab\tinside", "plain, with comma"])
    XCTAssertEqual(ds.examples.map(\.label), [1, 0])
  }

  func testJSONLinesWithNumericLabelsAndProblems() throws {
    var bytes = Array("{\"text\": \"first\", \"label\": 1}\n".utf8)  // line 1
    bytes += Array("\n".utf8)  // line 2: blank, ignored
    bytes += Array("{\"text\": \"second\", \"label\": 0}\r\n".utf8)  // line 3
    bytes += Array("{\"text\": \"bad ".utf8) + [0xFF] + Array("\", \"label\": 2}\n".utf8)  // line 4
    bytes += Array("not json\n".utf8)  // line 5
    bytes += Array("[1, 2]\n".utf8)  // line 6
    bytes += Array("{\"label\": 1}\n".utf8)  // line 7: no text
    bytes += Array("{\"text\": \"x\", \"label\": null}\n".utf8)  // line 8
    bytes += Array("{\"text\": \"y\", \"label\": \"1\"}".utf8)  // line 9, no newline
    let path = try write("d.jsonl", bytes)
    let ds = try TextClassificationDataset.load(path: path)
    XCTAssertEqual(ds.labels.labels, ["0", "1", "2"])
    XCTAssertEqual(ds.examples.map(\.text), ["first", "second", "bad \u{FFFD}", "y"])
    XCTAssertEqual(ds.examples.map(\.label), [1, 0, 2, 1])
    XCTAssertEqual(ds.examples.map(\.line), [1, 3, 4, 9])
    XCTAssertEqual(ds.report.count(.malformedRecord), 2)
    XCTAssertEqual(ds.report.examples[.malformedRecord]?.map(\.line), [5, 6])
    XCTAssertEqual(ds.report.count(.emptyText), 1)
    XCTAssertEqual(ds.report.count(.missingLabel), 1)
    XCTAssertEqual(ds.report.count(.invalidUTF8), 1)
    XCTAssertThrowsError(try TextClassificationDataset.load(path: path, textColumn: "sentence")) { error in
      XCTAssertEqual(
        "\(error)", "text column \"sentence\" not found in \(path); available columns: \"label\", \"text\"")
    }
  }

  func testLabelVocabularyJSONRoundTrip() throws {
    let vocab = try LabelVocabulary(labels: ["negative", "neutral", "positive"])
    let json = String(decoding: try vocab.jsonData(), as: UTF8.self)
    XCTAssertTrue(json.contains("\"id2label\""), json)
    XCTAssertTrue(json.contains("\"0\" : \"negative\""), json)
    XCTAssertTrue(json.contains("\"positive\" : 2"), json)
    let url = dir.appendingPathComponent("labels.json")
    try vocab.save(to: url)
    XCTAssertEqual(try LabelVocabulary.load(from: url), vocab)
    // A Hugging Face config with extra keys decodes too.
    let hf = Data(#"{"model_type": "bert", "id2label": {"1": "b", "0": "a"}, "label2id": {"a": 0, "b": 1}}"#.utf8)
    XCTAssertEqual(try JSONDecoder().decode(LabelVocabulary.self, from: hf).labels, ["a", "b"])
    let bad = Data(#"{"id2label": {"0": "a", "2": "b"}}"#.utf8)
    XCTAssertThrowsError(try JSONDecoder().decode(LabelVocabulary.self, from: bad))
    XCTAssertThrowsError(try LabelVocabulary(labels: ["a", "a"])) { error in
      XCTAssertEqual(error as? LabelVocabularyError, .duplicateLabel("a"))
    }
    // Code-point order, like Python's sorted(): uppercase before lowercase, "Z" < "a" < "é".
    XCTAssertEqual(LabelVocabulary(sortedFrom: ["é", "a", "Z", "a"]).labels, ["Z", "a", "é"])
  }
}
