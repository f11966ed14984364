import Foundation
import Models
import XCTest

@testable import Torch

/// `torchswift tokenize` and `torchswift embed` against HF tokenizers and sentence-transformers.
final class CLITests: XCTestCase {
  let texts = [
    "Hello, World!", "Ünïcödé façade — 東京 🚀 naïve", "", "[MASK] is special", String(repeating: "word ", count: 200),
    "tab\tand\u{200B}zero-width", "I can't believe it's 2026!!! #swift"
  ]

  func testTokenizeMatchesHFTokenizers() throws {
    let s = try TrainEnv.scratch("cli-tokenize")
    try texts.joined(separator: "\n").write(toFile: s + "/in.txt", atomically: true, encoding: .utf8)
    let r = try TrainEnv.torchswift(["tokenize", "--max-length", "32", "--input", s + "/in.txt"], cache: s)
    XCTAssertEqual(r.status, 0, r.output)
    let swiftLines = r.output.split(separator: "\n").filter { $0.hasPrefix("{") }.map(String.init)
    let ref = try TrainEnv.pythonRun([
      "-c",
      """
      import json, sys
      from tokenizers import Tokenizer
      t = Tokenizer.from_file(sys.argv[1] + '/tokenizer.json'); t.no_padding(); t.enable_truncation(32)
      for line in open(sys.argv[2], encoding='utf-8').read().split('\\n'):
          e = t.encode(line)
          print(json.dumps({'input_ids': e.ids, 'token_type_ids': e.type_ids, 'attention_mask': e.attention_mask}))
      """, try BundledModel.directory(), s + "/in.txt"
    ])
    let refLines = ref.split(separator: "\n").map(String.init)
    XCTAssertEqual(swiftLines.count, texts.count)
    for (a, b) in zip(swiftLines, refLines) {
      let x = try JSONSerialization.jsonObject(with: Data(a.utf8)) as! [String: [Int]]
      let y = try JSONSerialization.jsonObject(with: Data(b.utf8)) as! [String: [Int]]
      XCTAssertEqual(x, y)
    }
    let bad = try TrainEnv.torchswift(["tokenize", "--input", s + "/missing.txt"], cache: s)
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.output.contains("missing.txt"), bad.output)
  }

  func testEmbedJSONLAndNPYMatchSentenceTransformers() throws {
    let s = try TrainEnv.scratch("cli-embed")
    let input = texts.filter { !$0.isEmpty }
    try input.joined(separator: "\n").write(toFile: s + "/in.txt", atomically: true, encoding: .utf8)
    let r = try TrainEnv.torchswift(
      ["embed", "--input", s + "/in.txt", "--output", s + "/out.jsonl", "--batch-size", "3"], cache: s)
    XCTAssertEqual(r.status, 0, r.output)
    let n = try TrainEnv.torchswift(
      ["embed", "--input", s + "/in.txt", "--output", s + "/out.npy", "--batch-size", "3"], cache: s)
    XCTAssertEqual(n.status, 0, n.output)
    let out = try TrainEnv.pythonRun([
      "-c",
      """
      import json, sys, numpy as np, os
      os.environ['HF_HUB_OFFLINE'] = '1'
      from sentence_transformers import SentenceTransformer
      texts = open(sys.argv[2], encoding='utf-8').read().split('\\n')
      ref = SentenceTransformer(sys.argv[1], device='cpu').encode(texts)
      got = np.array([json.loads(l) for l in open(sys.argv[3])], dtype=np.float32)
      npy = np.load(sys.argv[4])
      print(json.dumps({'shape': list(got.shape), 'npy_shape': list(npy.shape),
                        'max_abs': float(np.abs(got - ref).max()), 'npy_equal': bool((npy == got).all())}))
      """, try BundledModel.directory(), s + "/in.txt", s + "/out.jsonl", s + "/out.npy"
    ])
    let obj = try JSONSerialization.jsonObject(with: Data(out.split(separator: "\n").last!.utf8)) as! [String: Any]
    XCTAssertEqual(obj["shape"] as? [Int], [input.count, 384])
    XCTAssertEqual(obj["npy_shape"] as? [Int], [input.count, 384])
    XCTAssertEqual(obj["npy_equal"] as? Bool, true)
    XCTAssertLessThanOrEqual(obj["max_abs"] as! Double, 1e-5, "embeddings (unit vectors) vs sentence-transformers")
  }
}
