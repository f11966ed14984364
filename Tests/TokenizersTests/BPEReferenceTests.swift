import Foundation
import Tokenizers
import XCTest

/// BPE tokenizers (GPT-2, Llama 3, Qwen2, Llama 2, Mistral, ...) against HF `tokenizers` on corpus rows,
/// hard cases and random strings: ids with and without special tokens, decoded text with and without
/// special tokens, `DecodeStream`'s pieces, and streaming decode joined equal to the full decode.
final class BPEReferenceTests: XCTestCase {
  /// Compares every reference row of `name`; reports the first few differences of each kind.
  func check(_ name: String) throws {
    let tokenizer = try BPEFixtures.tokenizer(name)
    let texts = try BPEFixtures.texts.get()
    let rows = try BPEFixtures.rows(name)
    var mismatches: [String: Int] = [:]
    func fail(_ kind: String, _ message: @autoclosure () -> String) {
      if mismatches[kind, default: 0] < 3 { XCTFail("\(name) \(kind): \(message())") }
      mismatches[kind, default: 0] += 1
    }
    func same(_ a: String, _ b: Any?) -> Bool {
      guard let b = b as? String else { return false }
      return a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }
    var encoded = 0
    for row in rows {
      if let ids = row["random_ids"] as? [Int] {
        let decoded = tokenizer.decode(ids, skipSpecialTokens: false)
        if !same(decoded, row["dec"]) { fail("decode(random ids)", "\(ids): \(Fixture.show(decoded))") }
        let skipped = tokenizer.decode(ids, skipSpecialTokens: true)
        if !same(skipped, row["dec_skip"]) { fail("decode(random ids, skip)", "\(ids): \(Fixture.show(skipped))") }
        continue
      }
      guard let i = row["i"] as? Int, i < texts.count else { throw SetupError(description: "bad row \(row)") }
      let text = texts[i]
      let ids = Fixture.ints(row["ids"])
      let encoding = try tokenizer.encode(text)
      encoded += 1
      if encoding.ids != ids {
        fail("ids", "\(Fixture.show(text))\n HF    \(ids)\n Swift \(encoding.ids)")
      }
      let plain = i % 4 == 0 ? try tokenizer.encode(text, addSpecialTokens: false).ids : []  // a subset, for speed
      if i % 4 == 0 && plain != Fixture.ints(row["plain"]) {
        fail(
          "ids without special tokens", "\(Fixture.show(text))\n HF    \(Fixture.ints(row["plain"]))\n Swift \(plain)")
      }
      for skip in [false, true] {
        let decoded = tokenizer.decode(ids, skipSpecialTokens: skip)
        if !same(decoded, row[skip ? "dec_skip" : "dec"]) {
          fail("decode(skip: \(skip))", "\(ids): \(Fixture.show(decoded)) vs \(Fixture.show(row["dec"] as? String))")
        }
        let reference = row[skip ? "stream_skip" : "stream"] as? [Any]
        guard reference != nil || i % 16 == 0 else { continue }  // streaming: a subset, to keep the test fast
        var stream = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: skip)
        let pieces = ids.map { stream.step($0) }
        let joined = pieces.compactMap { $0 }.joined() + (stream.finish() ?? "")
        if !joined.unicodeScalars.elementsEqual(decoded.unicodeScalars) {
          fail("streamed text", "\(ids): \(Fixture.show(joined)) vs \(Fixture.show(decoded))")
        }
        if let reference {
          let hf = reference.map { $0 as? String }
          let equal =
            hf.count == pieces.count
            && zip(hf, pieces).allSatisfy { a, b in
              a.map { Array($0.unicodeScalars) } == b.map { Array($0.unicodeScalars) }
            }
          if !equal { fail("DecodeStream pieces (skip: \(skip))", "\(ids): HF \(hf), Swift \(pieces)") }
        }
      }
    }
    XCTAssertGreaterThan(encoded, 4000, "\(name): too few reference rows")
    XCTAssertEqual(mismatches, [:], "\(name): rows that differ from HF tokenizers")
  }

  func testGPT2() throws { try check("gpt2") }
  func testGPT2WithPrefixSpace() throws { try check("gpt2-prefix") }
  func testLlama3() throws { try check("llama3") }
  func testQwen2() throws { try check("qwen2") }
  func testLlama2() throws { try check("llama2") }
  func testMistral() throws { try check("mistral") }
  func testMetaspace() throws { try check("metaspace") }
  func testMiscellaneous() throws { try check("misc") }

  /// GPT-2's real ids (from the tiktoken ranks) and vocabulary size.
  func testGPT2KnownIds() throws {
    let gpt2 = try BPEFixtures.tokenizer("gpt2")
    XCTAssertEqual(try gpt2.encode("Hello world").ids, [15496, 995])
    XCTAssertEqual(try gpt2.encode("Hello<|endoftext|>").ids, [15496, 50256])
    XCTAssertEqual(gpt2.tokenToId("<|endoftext|>"), 50256)
    XCTAssertEqual(gpt2.tokenToId("Ġworld"), 995)
    XCTAssertEqual(gpt2.idToToken(995), "Ġworld")
    XCTAssertEqual(gpt2.vocabularySize, 50257)
    XCTAssertEqual(gpt2.addedTokens.map(\.id), [50256])
    XCTAssertEqual(gpt2.decode([15496, 50256, 995], skipSpecialTokens: false), "Hello<|endoftext|> world")
    XCTAssertEqual(gpt2.decode([15496, 50256, 995]), "Hello world")
    let batch = try gpt2.encodeBatch(["Hello world", "", " world"])
    XCTAssertEqual(batch.map(\.ids), [[15496, 995], [], [995]])
  }

  /// Llama 3's BOS template, special tokens never split, and the 150k-token vocabulary loads.
  func testSpecialTokensAndLargeVocabulary() throws {
    let llama3 = try BPEFixtures.tokenizer("llama3")
    let bos = try XCTUnwrap(llama3.tokenToId("<|begin_of_text|>"))
    let eot = try XCTUnwrap(llama3.tokenToId("<|eot_id|>"))
    let ids = try llama3.encode("<|begin_of_text|>hi<|eot_id|>").ids
    XCTAssertEqual(ids.first, bos)
    XCTAssertEqual(ids.filter { $0 == bos }.count, 2, "the template's BOS plus the one in the text")
    XCTAssertEqual(ids.last, eot)
    let big = try Tokenizer(directory: try BPEFixtures.directory() + "/big")
    XCTAssertEqual(big.vocabularySize, 150_003)
    XCTAssertEqual(try big.encode("<|im_start|>user").ids.first, big.tokenToId("<|im_start|>"))
  }

  /// The general JSON path (taken when the fast scanner meets something unusual, here an id written `0.0`)
  /// builds the same tokenizer as the fast path.
  func testGeneralParserAgreesWithFastPath() throws {
    let source = try BPEFixtures.directory() + "/gpt2/tokenizer.json"
    let text = try String(contentsOfFile: source, encoding: .utf8)
    XCTAssertTrue(text.contains("\"!\": 0,"))
    let changed = text.replacingOccurrences(of: "\"!\": 0,", with: "\"!\": 0.0,")
    let general = try Tokenizer(tokenizerJSONBytes: Array(changed.utf8))
    let fast = try BPEFixtures.tokenizer("gpt2")
    for sample in try BPEFixtures.texts.get().prefix(300) + ["Hello world!", "a\u{0}b", "¡!"] {
      XCTAssertEqual(try general.encode(sample).ids, try fast.encode(sample).ids, Fixture.show(sample))
    }
    XCTAssertEqual(general.vocabularySize, fast.vocabularySize)
  }

  /// A regex the hand-written matchers do not recognise runs on Swift's `Regex`: Qwen2's pattern wrapped in a
  /// group must split exactly as the matcher of the plain pattern (itself checked against HF above).
  func testGeneralRegexAgreesWithHandWrittenMatcher() throws {
    let source = try BPEFixtures.directory() + "/qwen2/tokenizer.json"
    let text = try String(contentsOfFile: source, encoding: .utf8)
    let pattern = #""Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"#
    XCTAssertTrue(text.contains(pattern), "the fixture's Qwen2 pattern")
    let wrapped = text.replacingOccurrences(of: pattern, with: #""Regex": "(?:"# + pattern.dropFirst(10))
      .replacingOccurrences(of: #"|\\s+(?!\\S)|\\s+""#, with: #"|\\s+(?!\\S)|\\s+)""#)
    XCTAssertTrue(wrapped.contains(#""Regex": "(?:(?i:'s"#) && wrapped.contains(#"|\\s+)""#))
    let general = try Tokenizer(tokenizerJSONBytes: Array(wrapped.utf8))
    let known = try BPEFixtures.tokenizer("qwen2")
    let texts = try BPEFixtures.texts.get()
    for sample in texts.prefix(200) + texts.suffix(1_700).prefix(400) {
      XCTAssertEqual(try general.encode(sample).ids, try known.encode(sample).ids, Fixture.show(sample))
    }
  }
}
