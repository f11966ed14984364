import Foundation
import JSONSupport
import ReferenceTesting
import XCTest

/// The package's one JSON parser (tokenizer.json, JSON Lines records) and writer (safetensors headers,
/// metrics logs).
final class JSONSupportTests: XCTestCase {
  func testJSONValues() throws {
    let text = #"{"a": [1, -2.5e3, true, false, null, 9007199254740993, 1.0], "s": "x\u00e9\ud83d\ude00\n\"", "e": {}}"#
    let value = try JSONValue.parse(text)
    guard case let .object(o) = value else { return XCTFail("not an object") }
    // Integers stay exact (2^53 + 1 is not a Double); numbers with a fraction or exponent are doubles.
    XCTAssertEqual(
      o["a"],
      .array([.int(1), .double(-2500), .bool(true), .bool(false), .null, .int(9_007_199_254_740_993), .double(1)]))
    XCTAssertEqual(o["s"], .string("xé😀\n\""))
    XCTAssertEqual(o["e"], .object([:]))
    XCTAssertEqual(try JSONValue.parse(value.serialized), value)
  }

  func testJSONErrors() {
    for (text, problem) in [
      ("{\"a\": 1", "truncated"), ("[1, 2,]", "unexpected character"), ("\"\\ud800\"", "unpaired surrogate"),
      ("{} x", "trailing"), ("01", "invalid number"), ("[\"a\nb\"]", "control character"), ("", "truncated")
    ] {
      XCTAssertThrowsError(try JSONValue.parse(text), text) { error in
        XCTAssertTrue("\(error)".hasPrefix("malformed JSON at line"), "\(error)")
        XCTAssertTrue("\(error)".contains(problem), "\(text): \(error)")
      }
    }
    XCTAssertThrowsError(try JSONValue.parse("{\n  \"a\": tru\n}")) { error in
      XCTAssertEqual((error as? JSONSyntaxError)?.line, 2)
    }
  }

  /// Every control character, quotes, backslashes, `/` and non-ASCII, against Python's
  /// `json.dumps(s, ensure_ascii=False)` (what serde_json also writes).
  func testStringEscapesMatchPython() throws {
    let text = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\"\\/ é😀\u{7f}"
    let ours = JSONText.string(text)
    // Python parses ours back, then writes its own.
    let program = "import json, sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read()), ensure_ascii=False))"
    let theirs = String(decoding: try ReferenceTools.runPython(["-c", program], input: Data(ours.utf8)), as: UTF8.self)
    XCTAssertEqual(ours, theirs)
    XCTAssertEqual(try JSONValue.parse(ours), .string(text))
  }

  func testNumbers() {
    XCTAssertEqual(JSONText.number(3), "3")
    XCTAssertEqual(JSONText.number(-0.25), "-0.25")
    XCTAssertEqual(JSONText.number(1e20), "1e+20")
    XCTAssertEqual(JSONText.number(.nan), "null")
    XCTAssertEqual(JSONText.number(-.infinity), "null")
  }
}
