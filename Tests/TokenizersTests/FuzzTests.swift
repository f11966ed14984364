import Foundation
import Tokenizers
import XCTest

/// Random Unicode input: no crash, invariants hold, and a sample agrees with HF.
final class FuzzTests: XCTestCase {
  func testFuzzInvariants() throws {
    let tokenizer = try TestEnvironment.tokenizer()
    var fuzzer = TokenizerFuzzer(seed: UInt64(Date().timeIntervalSince1970))
    let report = fuzzer.run(tokenizer: tokenizer, seconds: 5)
    XCTAssertGreaterThan(report.iterations, 100)
    XCTAssertTrue(report.failures.isEmpty, report.summary)
  }

  func testFuzzSampleAgainstHF() throws {
    let tokenizer = try TestEnvironment.plainTokenizer()
    var fuzzer = TokenizerFuzzer(seed: UInt64(TestEnvironment.environment["TORCHSWIFT_FUZZ_SEED"] ?? "") ?? 42)
    let samples = Int(TestEnvironment.environment["TORCHSWIFT_FUZZ_SAMPLES"] ?? "") ?? 1500
    let texts = (0..<samples).map { i in fuzzer.randomString(maxLength: i % 10 == 0 ? 200 : 30) }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-fuzz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.json")
    let output = dir.appendingPathComponent("out.json")
    try JSONSerialization.data(withJSONObject: texts).write(to: input)
    let script = """
      import json, sys
      from tokenizers import Tokenizer
      tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
      tok.no_truncation(); tok.no_padding()
      texts = json.load(open(sys.argv[2], encoding="utf-8"))
      out = [{"ids": e.ids, "offsets": [list(o) for o in e.offsets], "decoded": tok.decode(e.ids)} for e in tok.encode_batch(texts)]
      json.dump(out, open(sys.argv[3], "w", encoding="utf-8"))
      """
    try TestEnvironment.runPython(["-c", script, try TestEnvironment.modelDir.get(), input.path, output.path])
    let data = try XCTUnwrap(FileManager.default.contents(atPath: output.path))
    let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    XCTAssertEqual(expected.count, texts.count)
    var failures = 0
    for (text, x) in zip(texts, expected) {
      let e = try tokenizer.encode(text)
      let problems = Fixture.differences(e, x)
      if !problems.isEmpty || tokenizer.decode(e.ids) != x["decoded"] as? String {
        failures += 1
        if failures <= 3 {
          XCTFail(
            "\(Fixture.show(text)): \(problems) decode \(Fixture.show(tokenizer.decode(e.ids))) vs \(Fixture.show(x["decoded"] as? String))"
          )
        }
      }
    }
    XCTAssertEqual(failures, 0)
  }
}

/// Random Unicode input against HF with other `BertNormalizer` settings (tokenizer.json edited on both sides).
final class NormalizerVariantFuzzTests: XCTestCase {
  func testNormalizerVariantsAgainstHF() throws {
    let model = try TestEnvironment.modelDir.get()
    let source = try XCTUnwrap(FileManager.default.contents(atPath: model + "/tokenizer.json"))
    var json = try XCTUnwrap(JSONSerialization.jsonObject(with: source) as? [String: Any])
    json["truncation"] = NSNull()
    json["padding"] = NSNull()
    var fuzzer = TokenizerFuzzer(seed: UInt64(TestEnvironment.environment["TORCHSWIFT_FUZZ_SEED"] ?? "") ?? 7)
    let samples = (Int(TestEnvironment.environment["TORCHSWIFT_FUZZ_SAMPLES"] ?? "") ?? 1500) / 2
    let texts = (0..<samples).map { i in fuzzer.randomString(maxLength: i % 10 == 0 ? 120 : 30) }
    let variants: [[String: Any]] = [
      ["lowercase": false, "strip_accents": NSNull(), "clean_text": true, "handle_chinese_chars": true],
      ["lowercase": true, "strip_accents": false, "clean_text": true, "handle_chinese_chars": true],
      ["lowercase": false, "strip_accents": true, "clean_text": true, "handle_chinese_chars": true],
      ["lowercase": true, "strip_accents": NSNull(), "clean_text": false, "handle_chinese_chars": false]
    ]
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-variants-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.json")
    try JSONSerialization.data(withJSONObject: texts).write(to: input)
    let script = """
      import json, sys
      from tokenizers import Tokenizer
      tok = Tokenizer.from_file(sys.argv[1])
      texts = json.load(open(sys.argv[2], encoding="utf-8"))
      out = [{"ids": e.ids, "offsets": [list(o) for o in e.offsets], "decoded": tok.decode(e.ids)} for e in tok.encode_batch(texts)]
      json.dump(out, open(sys.argv[3], "w", encoding="utf-8"))
      """
    for (v, variant) in variants.enumerated() {
      json["normalizer"] = variant.merging(["type": "BertNormalizer"]) { a, _ in a }
      let file = dir.appendingPathComponent("tokenizer-\(v).json")
      try JSONSerialization.data(withJSONObject: json).write(to: file)
      let output = dir.appendingPathComponent("out-\(v).json")
      try TestEnvironment.runPython(["-c", script, file.path, input.path, output.path])
      let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: try Data(contentsOf: output)) as? [[String: Any]])
      let tokenizer = try Tokenizer(tokenizerJSON: file.path)
      var failures = 0
      for (text, x) in zip(texts, expected) {
        let e = try tokenizer.encode(text)
        let problems = Fixture.differences(e, x)
        if !problems.isEmpty || tokenizer.decode(e.ids) != x["decoded"] as? String {
          failures += 1
          if failures <= 2 { XCTFail("normalizer \(variant) \(Fixture.show(text)): \(problems)") }
        }
      }
      XCTAssertEqual(failures, 0, "normalizer \(variant)")
    }
  }
}
