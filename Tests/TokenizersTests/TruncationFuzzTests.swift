import Datasets
import Foundation
import Tokenizers
import XCTest

/// Random truncation settings (length, stride, strategy, direction, pairs, special tokens) on random text
/// against HF `tokenizers`: kept windows, every overflowing window (nested as HF nests them) and errors.
final class TruncationFuzzTests: XCTestCase {
  func testRandomTruncationAndOverflowAgainstHF() throws {
    let base = try TestEnvironment.plainTokenizer()
    var fuzzer = TokenizerFuzzer(seed: UInt64(TestEnvironment.environment["TORCHSWIFT_FUZZ_SEED"] ?? "") ?? 11)
    var rng = SeededGenerator(seed: 11)  // Datasets' SplitMix64
    let words = ["the", "quick", "brown", "fox", "世界", "naïve", "[MASK]", "don't", "x", "12,345.6", "unaffable", "🚀"]
    func phrase(_ n: Int) -> String {
      (0..<n).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
    }
    var cases: [[String: Any]] = []
    for i in 0..<300 {
      let text = i % 3 == 0 ? fuzzer.randomString(maxLength: 40) : phrase(Int(rng.next() % 30))
      let pair: Any =
        i % 2 == 0 ? (i % 6 == 0 ? fuzzer.randomString(maxLength: 30) : phrase(Int(rng.next() % 25))) : NSNull()
      let maxLength = Int(rng.next() % 24)
      let stride = maxLength == 0 ? 0 : Int(rng.next() % UInt64(maxLength))
      cases.append([
        "text": text, "pair": pair, "special": rng.next() % 4 != 0,
        "truncation": [
          "max_length": maxLength, "stride": stride,
          "strategy": ["longest_first", "only_first", "only_second"][Int(rng.next() % 3)],
          "direction": rng.next() % 2 == 0 ? "right" : "left"
        ]
      ])
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-trunc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.json"), output = dir.appendingPathComponent("out.json")
    try JSONSerialization.data(withJSONObject: cases).write(to: input)
    let script = """
      import json, sys
      from tokenizers import Tokenizer
      tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
      tok.no_padding()
      def enc(e):
          d = {"ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask,
               "special_tokens_mask": e.special_tokens_mask, "offsets": [list(o) for o in e.offsets],
               "word_ids": [-1 if w is None else w for w in e.word_ids], "tokens": e.tokens}
          if e.overflowing:
              d["overflowing"] = [enc(o) for o in e.overflowing]
          return d
      out = []
      for c in json.load(open(sys.argv[2], encoding="utf-8")):
          try:
              tok.enable_truncation(**c["truncation"])
          except ValueError as err:  # a stride the configuration refuses
              out.append({"config_error": str(err)})
              continue
          try:
              out.append(enc(tok.encode(c["text"], c["pair"], add_special_tokens=c["special"])))
          except (KeyboardInterrupt, SystemExit):
              raise
          except BaseException as err:
              out.append({"error": str(err)})
      json.dump(out, open(sys.argv[3], "w", encoding="utf-8"))
      """
    try TestEnvironment.runPython(["-c", script, try TestEnvironment.modelDir.get(), input.path, output.path])
    let data = try XCTUnwrap(FileManager.default.contents(atPath: output.path))
    let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    XCTAssertEqual(expected.count, cases.count)
    var failures = 0, overflowed = 0, errors = 0, configErrors = 0
    for (c, x) in zip(cases, expected) {
      var tokenizer = base
      let label =
        "\(Fixture.show(c["text"] as? String)) pair \(Fixture.show(c["pair"] as? String)) special \(c["special"]!) \(c["truncation"]!)"
      do {
        try tokenizer.setTruncation(Fixture.truncation(c["truncation"]))
        if let refused = x["config_error"] as? String {
          failures += 1
          if failures <= 3 { XCTFail("\(label): setTruncation accepted what HF refuses: \(refused)") }
          continue
        }
      } catch {
        configErrors += 1
        if "\(error)" != x["config_error"] as? String {
          failures += 1
          if failures <= 3 { XCTFail("\(label): setTruncation error \(error), HF: \(x["config_error"] ?? "none")") }
        }
        continue
      }
      do {
        let e = try tokenizer.encode(
          c["text"] as! String, pair: c["pair"] as? String, addSpecialTokens: c["special"] as! Bool)
        if !e.overflowing.isEmpty { overflowed += 1 }
        let problems = x["error"] != nil ? ["expected error \(x["error"]!)"] : Fixture.differences(e, x)
        if !problems.isEmpty {
          failures += 1
          if failures <= 3 { XCTFail("\(label): \(problems.prefix(3))") }
        }
      } catch {
        errors += 1
        if "\(error)" != x["error"] as? String {
          failures += 1
          if failures <= 3 { XCTFail("\(label): error \(error), HF: \(x["error"] ?? "none")") }
        }
      }
    }
    print(
      "truncation fuzz: \(cases.count) cases, \(overflowed) with overflowing windows, \(errors) encode errors, \(configErrors) refused settings, \(failures) differences"
    )
    XCTAssertEqual(failures, 0)
    XCTAssertGreaterThan(overflowed, 50, "the sample exercises overflowing windows")
  }
}
