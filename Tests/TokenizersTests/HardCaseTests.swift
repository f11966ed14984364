import Foundation
import Tokenizers
import XCTest

/// Compares the Swift tokenizer with HF `tokenizers` on the committed hand-written cases.
final class HardCaseTests: XCTestCase {
  func testEncodeCases() throws {
    let fixture = try TestEnvironment.hardCases()
    let base = try TestEnvironment.plainTokenizer()
    let cases = fixture["cases"] as? [[String: Any]] ?? []
    XCTAssertGreaterThan(cases.count, 400)
    var failures = 0
    for (i, c) in cases.enumerated() {
      var tokenizer = base
      tokenizer.truncation = Fixture.truncation(c["truncation"])
      tokenizer.padding = Fixture.padding(c["padding"])
      let text = c["text"] as? String ?? ""
      let pair = c["pair"] as? String
      let addSpecial = (c["add_special_tokens"] as? Bool) ?? true
      let label =
        "case \(i) text=\(Fixture.show(text)) pair=\(Fixture.show(pair)) special=\(addSpecial) trunc=\(String(describing: c["truncation"] ?? "nil")) pad=\(String(describing: c["padding"] ?? "nil"))"
      do {
        let e = try tokenizer.encode(text, pair: pair, addSpecialTokens: addSpecial)
        if let error = c["error"] as? String {
          XCTFail("\(label): expected error \(error), got \(e.ids)")
          failures += 1
          continue
        }
        let problems = Fixture.differences(e, c["expected"] as? [String: Any] ?? [:])
        if !problems.isEmpty {
          XCTFail("\(label): \(problems.joined(separator: "; "))")
          failures += 1
        }
        XCTAssertEqual(tokenizer.decode(e.ids), c["decoded"] as? String, label)
        XCTAssertEqual(tokenizer.decode(e.ids, skipSpecialTokens: false), c["decoded_keep"] as? String, label)
      } catch {
        if let expected = c["error"] as? String {
          XCTAssertEqual("\(error)", expected, label)
        } else {
          XCTFail("\(label): unexpected error \(error)")
          failures += 1
        }
      }
      if failures > 20 { break }
    }
  }

  func testBatches() throws {
    let fixture = try TestEnvironment.hardCases()
    let base = try TestEnvironment.plainTokenizer()
    for (i, batch) in (fixture["batches"] as? [[String: Any]] ?? []).enumerated() {
      var tokenizer = base
      tokenizer.truncation = Fixture.truncation(batch["truncation"])
      tokenizer.padding = Fixture.padding(batch["padding"])
      let encodings: [Encoding]
      if let texts = batch["texts"] as? [String] {
        encodings = try tokenizer.encodeBatch(texts)
      } else {
        let pairs = (batch["pairs"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
        encodings = try tokenizer.encodeBatch(pairs: pairs)
      }
      let expected = batch["expected"] as? [[String: Any]] ?? []
      XCTAssertEqual(encodings.count, expected.count)
      for (k, (e, x)) in zip(encodings, expected).enumerated() {
        let problems = Fixture.differences(e, x)
        XCTAssertTrue(problems.isEmpty, "batch \(i) item \(k) pad=\(String(describing: batch["padding"])): \(problems)")
      }
    }
  }

  func testDecode() throws {
    let fixture = try TestEnvironment.hardCases()
    let tokenizer = try TestEnvironment.plainTokenizer()
    for d in fixture["decodes"] as? [[String: Any]] ?? [] {
      let ids = Fixture.ints(d["ids"])
      XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), d["skip"] as? String, "\(ids)")
      XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: false), d["keep"] as? String, "\(ids)")
    }
  }

  func testAddedTokens() throws {
    let fixture = try TestEnvironment.hardCases()
    let added = fixture["added"] as? [String: Any] ?? [:]
    var tokenizer = try TestEnvironment.plainTokenizer()
    let tokens = (added["tokens"] as? [[String: Any]] ?? []).map { t in
      AddedToken(
        t["content"] as? String ?? "", special: t["special"] as? Bool ?? false,
        singleWord: t["single_word"] as? Bool ?? false, lstrip: t["lstrip"] as? Bool ?? false,
        rstrip: t["rstrip"] as? Bool ?? false, normalized: t["normalized"] as? Bool ?? true)
    }
    XCTAssertEqual(tokenizer.addTokens(tokens), tokens.count)
    XCTAssertEqual(tokenizer.vocabularySize, (added["vocab_size"] as? NSNumber)?.intValue)
    for c in added["cases"] as? [[String: Any]] ?? [] {
      let text = c["text"] as? String ?? ""
      let e = try tokenizer.encode(text)
      let problems = Fixture.differences(e, c["expected"] as? [String: Any] ?? [:])
      XCTAssertTrue(problems.isEmpty, "\(Fixture.show(text)): \(problems)")
      XCTAssertEqual(tokenizer.decode(e.ids), c["decoded"] as? String, Fixture.show(text))
      XCTAssertEqual(
        tokenizer.decode(e.ids, skipSpecialTokens: false), c["decoded_keep"] as? String, Fixture.show(text))
    }
  }

  func testVocabularySizeAndLookups() throws {
    let fixture = try TestEnvironment.hardCases()
    let tokenizer = try TestEnvironment.tokenizer()
    XCTAssertEqual(tokenizer.vocabularySize, (fixture["vocab_size"] as? NSNumber)?.intValue)
    XCTAssertEqual(tokenizer.tokenToId("[CLS]"), 101)
    XCTAssertEqual(tokenizer.idToToken(102), "[SEP]")
    XCTAssertEqual(tokenizer.tokenToId("##ing"), 2075)
    XCTAssertNil(tokenizer.idToToken(1_000_000))
    XCTAssertEqual(tokenizer.truncation, Truncation(maxLength: 128))
    XCTAssertEqual(tokenizer.padding, Padding(strategy: .fixed(128)))
  }
}
