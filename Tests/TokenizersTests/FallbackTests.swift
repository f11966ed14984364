import Foundation
import Tokenizers
import XCTest

/// The vocab.txt + tokenizer_config.json path against transformers' `BertTokenizerFast`.
final class FallbackTests: XCTestCase {
  func testVocabFallbackMatchesBertTokenizerFast() throws {
    let fixture = try TestEnvironment.hardCases()
    let model = try TestEnvironment.modelDir.get()
    let variants = fixture["fallback"] as? [[String: Any]] ?? []
    XCTAssertEqual(variants.count, 5)
    for variant in variants {
      let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "tokenizers-fallback-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: dir) }
      for file in ["vocab.txt", "special_tokens_map.json"] {
        try FileManager.default.copyItem(atPath: model + "/" + file, toPath: dir.appendingPathComponent(file).path)
      }
      let config = variant["tokenizer_config"] as? [String: Any] ?? [:]
      try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("tokenizer_config.json"))
      let tokenizer = try Tokenizer(directory: dir.path)
      XCTAssertNil(tokenizer.truncation)
      XCTAssertNil(tokenizer.padding)
      for c in variant["cases"] as? [[String: Any]] ?? [] {
        let text = c["text"] as? String ?? ""
        let pair = c["pair"] as? String
        let e = try tokenizer.encode(text, pair: pair)
        let problems = Fixture.differences(e, c["expected"] as? [String: Any] ?? [:])
        XCTAssertTrue(
          problems.isEmpty,
          "config \(config.filter { $0.key != "name_or_path" }) text=\(Fixture.show(text)) pair=\(Fixture.show(pair)): \(problems)"
        )
      }
    }
  }

  func testDirectoryPrefersTokenizerJSON() throws {
    let model = try TestEnvironment.modelDir.get()
    var fromJSON = try Tokenizer(directory: model)
    XCTAssertNotNil(fromJSON.truncation)
    fromJSON.padding = nil
    let fromVocab = try Tokenizer(bertVocabularyDirectory: model)
    let text = "Héllo [MASK], 世界! unaffable"
    XCTAssertEqual(try fromJSON.encode(text), try fromVocab.encode(text))
    XCTAssertNil(fromVocab.truncation)
  }
}
