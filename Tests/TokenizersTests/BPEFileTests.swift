import Foundation
import Tokenizers
import XCTest

/// Small hand-written BPE tokenizer.json files: both merge formats, the model options, and malformed or
/// unsupported files, which must fail with a `TokenizerError` naming the file and the construct.
final class BPEFileTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-bpe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// A character-level BPE: a b c d ab abc cd, merges a+b, ab+c, c+d.
  func tokenizerJSON(
    model: [String: Any] = [:], preTokenizer: Any = NSNull(), normalizer: Any = NSNull(), decoder: Any = NSNull(),
    merges: Any = ["a b", "ab c", "c d"]
  ) -> [String: Any] {
    var m: [String: Any] = [
      "type": "BPE", "dropout": NSNull(), "unk_token": "<unk>", "fuse_unk": false, "byte_fallback": false,
      "vocab": ["<unk>": 0, "a": 1, "b": 2, "c": 3, "d": 4, "ab": 5, "abc": 6, "cd": 7, "▁": 8], "merges": merges
    ]
    for (k, v) in model { m[k] = v }
    return [
      "version": "1.0",
      "added_tokens": [
        [
          "id": 0, "content": "<unk>", "special": true, "normalized": false, "lstrip": false, "rstrip": false,
          "single_word": false
        ]
      ],
      "normalizer": normalizer, "pre_tokenizer": preTokenizer, "post_processor": NSNull(), "decoder": decoder,
      "model": m
    ]
  }

  func write(_ object: Any) throws -> String {
    let path = directory.appendingPathComponent("tokenizer.json").path
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    return path
  }

  func load(_ object: Any) throws -> Tokenizer {
    try Tokenizer(tokenizerJSON: try write(object))
  }

  func assertLoadFails(_ object: Any, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    let path = try write(object)
    XCTAssertThrowsError(try Tokenizer(tokenizerJSON: path), file: file, line: line) { error in
      XCTAssertTrue(error is TokenizerError, "\(error) should be a TokenizerError", file: file, line: line)
      let message = "\(error)"
      for fragment in [path] + fragments {
        XCTAssertTrue(
          message.contains(fragment), "\"\(message)\" should mention \"\(fragment)\"", file: file, line: line)
      }
    }
  }

  func testMergesAsStringsOrPairs() throws {
    for merges: Any in [["a b", "ab c", "c d"], [["a", "b"], ["ab", "c"], ["c", "d"]]] {
      let tokenizer = try load(tokenizerJSON(merges: merges))
      XCTAssertEqual(try tokenizer.encode("abcd").ids, [6, 4])
      XCTAssertEqual(try tokenizer.encode("acd").ids, [1, 7])
      XCTAssertEqual(try tokenizer.encode("xaxx").ids, [0, 1, 0, 0], "unknown characters, not fused")
      XCTAssertEqual(tokenizer.vocabularySize, 9)
    }
  }

  func testFuseUnkIgnoreMergesAndByteFallback() throws {
    let fused = try load(tokenizerJSON(model: ["fuse_unk": true]))
    XCTAssertEqual(try fused.encode("xyzab").ids, [0, 5])
    let ignoring = try load(tokenizerJSON(model: ["ignore_merges": true], merges: ["a b"]))
    XCTAssertEqual(try ignoring.encode("abc").ids, [6], "the word is in the vocabulary: no merges")
    XCTAssertEqual(try ignoring.encode("abd").ids, [5, 4])
    var json = tokenizerJSON(model: ["byte_fallback": true])
    var model = json["model"] as! [String: Any]
    var vocab = model["vocab"] as! [String: Int]
    for b in 0..<256 { vocab[String(format: "<0x%02X>", b)] = 9 + b }
    model["vocab"] = vocab
    json["model"] = model
    json["decoder"] = ["type": "Sequence", "decoders": [["type": "ByteFallback"], ["type": "Fuse"]]]
    let fallback = try load(json)
    let ids = try fallback.encode("aé").ids
    XCTAssertEqual(ids, [1, 9 + 0xC3, 9 + 0xA9])
    XCTAssertEqual(fallback.decode(ids), "aé")
    XCTAssertEqual(fallback.decode([1, 9 + 0xC3]), "a\u{FFFD}")
  }

  func testMetaspaceAndStreaming() throws {
    let tokenizer = try load(
      tokenizerJSON(
        preTokenizer: ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true],
        decoder: ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true]))
    let ids = try tokenizer.encode("ab cd").ids
    XCTAssertEqual(ids, [8, 5, 8, 7])
    XCTAssertEqual(tokenizer.decode(ids), "ab cd")
    var stream = StreamingDecoder(tokenizer: tokenizer)
    XCTAssertEqual(ids.compactMap { stream.step($0) }.joined(), "ab cd")
  }

  func testUnknownModelType() throws {
    try assertLoadFails(tokenizerJSON(model: ["type": "Unigram"]), ["unsupported model type \"Unigram\""])
  }

  func testMergeWithUnknownToken() throws {
    try assertLoadFails(tokenizerJSON(merges: ["a b", "ab zz"]), ["model.merges[1]", "\"zz\"", "not in the vocabulary"])
    try assertLoadFails(tokenizerJSON(merges: ["a d"]), ["model.merges[0]", "\"ad\"", "not in the vocabulary"])
    try assertLoadFails(tokenizerJSON(merges: ["a b c"]), ["model.merges[0]", "two tokens"])
    try assertLoadFails(tokenizerJSON(merges: [["a"]]), ["model.merges[0]"])
  }

  func testBadVocabularyIds() throws {
    var json = tokenizerJSON()
    var model = json["model"] as! [String: Any]
    model["vocab"] = ["a": 1.5, "b": 2]
    json["model"] = model
    try assertLoadFails(json, ["model.vocab[\"a\"]", "expected an integer"])
    model["vocab"] = ["a": -1, "b": 2]
    json["model"] = model
    try assertLoadFails(json, ["model.vocab[\"a\"]", "non-negative"])
  }

  func testUnsupportedComponents() throws {
    try assertLoadFails(
      tokenizerJSON(preTokenizer: ["type": "UnicodeScripts"]), ["unsupported pre_tokenizer type \"UnicodeScripts\""])
    try assertLoadFails(
      tokenizerJSON(preTokenizer: ["type": "Sequence", "pretokenizers": [["type": "Punctuation"]]]),
      ["pre_tokenizer.pretokenizers[0]", "\"Punctuation\""])
    try assertLoadFails(tokenizerJSON(normalizer: ["type": "Precompiled"]), ["normalizer", "\"Precompiled\""])
    try assertLoadFails(tokenizerJSON(decoder: ["type": "CTC"]), ["decoder", "\"CTC\""])
    try assertLoadFails(tokenizerJSON(model: ["dropout": 0.1]), ["model.dropout", "not supported"])
    try assertLoadFails(tokenizerJSON(model: ["unk_token": "<nope>"]), ["model.unk_token", "<nope>"])
    try assertLoadFails(
      tokenizerJSON(preTokenizer: [
        "type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated", "invert": false
      ]), ["pre_tokenizer", "cannot compile"])
    try assertLoadFails(
      tokenizerJSON(preTokenizer: [
        "type": "Split", "pattern": ["String": " "], "behavior": "Sideways", "invert": false
      ]), ["pre_tokenizer.behavior", "Sideways"])
    try assertLoadFails(
      tokenizerJSON(preTokenizer: [
        "type": "Sequence",
        "pretokenizers": [
          ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true], ["type": "Digits"]
        ]
      ]), ["pre_tokenizer", "ByteLevel must be the last"])
  }
}
