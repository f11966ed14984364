import Foundation
import Tokenizers
import XCTest

/// Broken or unsupported tokenizer files must produce errors that name the file and the problem.
final class HostileFileTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// The model's tokenizer.json as a mutable JSON object.
  func modelJSON() throws -> [String: Any] {
    let path = try TestEnvironment.modelDir.get() + "/tokenizer.json"
    let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  func write(_ object: Any, name: String = "tokenizer.json") throws -> String {
    let path = directory.appendingPathComponent(name).path
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// Asserts that loading `path` fails with a message containing every fragment.
  func assertLoadFails(_ path: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
      _ = try Tokenizer(tokenizerJSON: path)
      XCTFail("loading \(path) should fail", file: file, line: line)
    } catch {
      let message = "\(error)"
      for fragment in fragments {
        XCTAssertTrue(
          message.contains(fragment), "\"\(message)\" should mention \"\(fragment)\"", file: file, line: line)
      }
    }
  }

  func testTruncatedJSON() throws {
    let source = try TestEnvironment.modelDir.get() + "/tokenizer.json"
    let bytes = try XCTUnwrap(FileManager.default.contents(atPath: source))
    let path = directory.appendingPathComponent("tokenizer.json").path
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
    assertLoadFails(path, [path, "malformed JSON", "truncated"])
  }

  func testSyntaxErrorReportsLineAndColumn() throws {
    let path = directory.appendingPathComponent("tokenizer.json").path
    try Data("{\n  \"model\": {\"type\": \"WordPiece\",, }\n}".utf8).write(to: URL(fileURLWithPath: path))
    assertLoadFails(path, [path, "line 2, column 33", "expected a string key in object"])
  }

  func testMissingModelSection() throws {
    var json = try modelJSON()
    json.removeValue(forKey: "model")
    assertLoadFails(try write(json), ["tokenizer.json", "model", "missing model section"])
  }

  func testUnknownNormalizerType() throws {
    var json = try modelJSON()
    json["normalizer"] = ["type": "Precompiled", "precompiled_charsmap": "AAAA"]
    assertLoadFails(try write(json), ["tokenizer.json", "unsupported normalizer type \"Precompiled\""])
  }

  func testUnknownModelAndPostProcessorTypes() throws {
    var json = try modelJSON()
    json["model"] = ["type": "Unigram", "vocab": [], "unk_id": 0]
    assertLoadFails(try write(json), ["unsupported model type \"Unigram\""])
    json = try modelJSON()
    json["post_processor"] = ["type": "RobertaProcessing"]
    assertLoadFails(
      try write(json, name: "other.json"), ["other.json", "unsupported post_processor type \"RobertaProcessing\""])
    json = try modelJSON()
    json["pre_tokenizer"] = ["type": "Metaspace"]
    assertLoadFails(try write(json, name: "third.json"), ["unsupported pre_tokenizer type \"Metaspace\""])
  }

  func testVocabWithWrongTypes() throws {
    var json = try modelJSON()
    var model = try XCTUnwrap(json["model"] as? [String: Any])
    var vocab = try XCTUnwrap(model["vocab"] as? [String: Any])
    vocab["hello"] = "seven"
    model["vocab"] = vocab
    json["model"] = model
    assertLoadFails(
      try write(json), ["tokenizer.json", "model.vocab[\"hello\"]", "expected an integer, found a string"])
    model["vocab"] = ["a", "b"]
    json["model"] = model
    assertLoadFails(try write(json), ["model.vocab", "expected an object, found an array"])
    vocab["hello"] = -3
    model["vocab"] = vocab
    json["model"] = model
    assertLoadFails(try write(json), ["model.vocab[\"hello\"]", "non-negative"])
  }

  func testWrongTypesElsewhere() throws {
    var json = try modelJSON()
    json["truncation"] = ["max_length": "long", "strategy": "LongestFirst", "stride": 0]
    assertLoadFails(try write(json), ["truncation.max_length", "expected an integer"])
    json = try modelJSON()
    json["added_tokens"] = [["id": 0, "content": 5]]
    assertLoadFails(try write(json), ["added_tokens[0].content", "expected a string"])
    json = try modelJSON()
    json["normalizer"] = ["type": "BertNormalizer", "lowercase": "yes"]
    assertLoadFails(try write(json), ["normalizer.lowercase", "expected a boolean"])
  }

  func testMissingFiles() throws {
    XCTAssertThrowsError(try Tokenizer(directory: directory.path)) { error in
      XCTAssertEqual("\(error)", "\(directory.path): contains neither tokenizer.json nor vocab.txt")
    }
    XCTAssertThrowsError(try Tokenizer(bertVocabularyDirectory: directory.path)) { error in
      XCTAssertTrue("\(error)".contains("vocab.txt"), "\(error)")
      XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
    }
    XCTAssertThrowsError(try Tokenizer(tokenizerJSON: directory.appendingPathComponent("nope.json").path)) { error in
      XCTAssertTrue("\(error)".contains("nope.json: no such file"), "\(error)")
    }
  }

  func testMalformedTokenizerConfigInFallback() throws {
    let model = try TestEnvironment.modelDir.get()
    try FileManager.default.copyItem(
      atPath: model + "/vocab.txt", toPath: directory.appendingPathComponent("vocab.txt").path)
    let config = directory.appendingPathComponent("tokenizer_config.json")
    try Data("{\"do_lower_case\": tru".utf8).write(to: config)
    XCTAssertThrowsError(try Tokenizer(directory: directory.path)) { error in
      XCTAssertTrue("\(error)".contains("tokenizer_config.json: malformed JSON"), "\(error)")
    }
    try Data("{\"do_lower_case\": \"no\"}".utf8).write(to: config)
    XCTAssertThrowsError(try Tokenizer(directory: directory.path)) { error in
      XCTAssertTrue("\(error)".contains("tokenizer_config.json: invalid value at do_lower_case"), "\(error)")
    }
  }

  func testMissingUnknownTokenIsAnErrorNotACrash() throws {
    var json = try modelJSON()
    var model = try XCTUnwrap(json["model"] as? [String: Any])
    model["unk_token"] = "<nope>"
    json["model"] = model
    let tokenizer = try Tokenizer(tokenizerJSON: try write(json))
    XCTAssertNoThrow(try tokenizer.encode("hello world"))
    XCTAssertThrowsError(try tokenizer.encode("hello 🥰")) { error in
      XCTAssertTrue("\(error)".contains("<nope>"), "\(error)")
    }
  }
}
