import Foundation
import Tokenizers
import XCTest

/// The JSON parser used for tokenizer.json.
final class ParserTests: XCTestCase {
    func testJSONValues() throws {
        let text = #"{"a": [1, -2.5e3, true, false, null], "s": "x\u00e9\ud83d\ude00\n\"", "e": {}}"#
        let value = try JSONValue.parse(Array(text.utf8), file: "t.json")
        guard case let .object(o) = value else { return XCTFail("not an object") }
        XCTAssertEqual(o["a"], .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]))
        XCTAssertEqual(o["s"], .string("xé😀\n\""))
        XCTAssertEqual(o["e"], .object([:]))
        XCTAssertEqual(try JSONValue.parse(Array(value.serialized.utf8), file: "t.json"), value)
    }

    func testJSONErrors() {
        for (text, problem) in [("{\"a\": 1", "truncated"), ("[1, 2,]", "unexpected character"), ("\"\\ud800\"", "unpaired surrogate"),
                                ("{} x", "trailing"), ("01", "invalid number"), ("[\"a\nb\"]", "control character"), ("", "truncated")] {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8), file: "bad.json"), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("bad.json: malformed JSON at line"), "\(error)")
                XCTAssertTrue("\(error)".contains(problem), "\(text): \(error)")
            }
        }
    }

}
