import Foundation
import ReferenceTesting
import XCTest
@testable import Datasets

/// Differential tests of the CSV/TSV parser and UTF-8 repair against Python's `csv` module.
final class CSVCompatibilityTests: XCTestCase {
  private func parse(_ url: URL, delimiter: UInt8) throws -> [(line: Int, fields: [String], replacements: Int)] {
    let bytes = [UInt8](try Data(contentsOf: url))
    return CSVParser(delimiter: delimiter, quoting: true).parse(bytes).map { record in
      let decoded = record.fields.map { $0.decoded() }
      return (record.line, decoded.map(\.string), decoded.map(\.replacements).reduce(0, +))
    }
  }

  private func compare(files: [URL], delimiterName: String, delimiter: UInt8) throws {
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "csv_reference.py", ["rows", delimiterName] + files.map(\.path))
        as? [String: [[String: Any]]])
    for file in files {
      let expected = try XCTUnwrap(reference[file.path], "no reference for \(file.path)")
      let actual = try parse(file, delimiter: delimiter)
      let context = "\(file.lastPathComponent) [\(delimiterName)] bytes=\(Array(try Data(contentsOf: file)))"
      XCTAssertEqual(actual.count, expected.count, "record count, \(context)")
      for (a, e) in zip(actual, expected) {
        XCTAssertEqual(a.fields, e["fields"] as? [String], "fields, \(context)")
        XCTAssertEqual(a.line, e["line"] as? Int, "start line, \(context)")
        // The fuzz alphabet has no literal U+FFFD, so every one comes from a repair.
        let expectedReplacements = (e["fields"] as? [String] ?? []).map { $0.filter { $0 == "\u{FFFD}" }.count }.reduce(
          0, +)
        XCTAssertEqual(a.replacements, expectedReplacements, "replacement count, \(context)")
      }
    }
  }

  func testRandomFilesMatchPythonCSV() throws {
    let dir = try ReferenceTools.temporaryDirectory(self)
    let count = 400
    _ = try ReferenceTools.run(script: "csv_reference.py", ["fuzz", dir.path, String(count), "20240601"])
    let files = (0..<count).map { dir.appendingPathComponent("fuzz-\($0).csv") }
    try compare(files: files, delimiterName: "comma", delimiter: UInt8(ascii: ","))
    try compare(files: files, delimiterName: "tab", delimiter: UInt8(ascii: "\t"))
  }

  func testHandWrittenEdgeCasesMatchPythonCSV() throws {
    let dir = try ReferenceTools.temporaryDirectory(self)
    let cases: [String] = [
      "a,b,c\r\n1,2,3\r\n",
      "a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n",
      "a,b\n\"multi\r\nline\",2\n\n\n3,4",
      "a,b\r\r\n1,\"unterminated",
      "a,b\nab\"c\"d,\"q\"tail\n",
      "a,b\n,\n,,\n\"\"\n",
      "h\n\"\"\"\"\n\"a\"\"\"\n",
      "x\ry\rz"
    ]
    var files: [URL] = []
    for (i, text) in cases.enumerated() {
      let url = dir.appendingPathComponent("case-\(i).csv")
      try Data(text.utf8).write(to: url)
      files.append(url)
    }
    try compare(files: files, delimiterName: "comma", delimiter: UInt8(ascii: ","))
  }

  func testReplacementCountsMaximalSubparts() {
    // Python: b"\xe2\x82x\xff\xed\xa0\x80\xf0\x9f\x98".decode("utf-8", "replace")
    let (s, n) = UTF8Repair.decode([0xE2, 0x82, 0x78, 0xFF, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98])
    XCTAssertEqual(s, "\u{FFFD}x\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}")
    XCTAssertEqual(n, 6)
    XCTAssertEqual(UTF8Repair.decode(Array("héllo".utf8)).replacements, 0)
  }
}
