import Foundation
import ReferenceTesting
import XCTest

/// `torchswift generate` and `torchswift chat` end to end on the fixture models with their tokenizer: the text
/// printed is transformers' `generate` + `decode`; errors exit 1 with a message and leave no output file.
final class GenerateCLITests: XCTestCase {
  func torchswift(_ args: [String], stdin: String? = nil) throws -> TorchSwiftBinary.Run {
    try TorchSwiftBinary.run(args, stdin: stdin)
  }

  func textReference(_ variant: String) throws -> (dir: String, ref: [String: Any]) {
    let dir = try CausalLMFixtures.directory() + "/" + variant
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/text_reference.json"))
    return (dir, try JSONSerialization.jsonObject(with: data) as! [String: Any])
  }

  func testGenerateMatchesTransformers() throws {
    for variant in ["qwen2", "gpt2"] {
      let (dir, ref) = try textReference(variant)
      for i in 0..<2 {
        let prompt = ref["prompt_\(i)"] as! String
        let want = ref["completion_\(i)"] as! String
        let plain = try torchswift([
          "generate", "--model", dir, "--prompt", prompt, "--max-new-tokens", "16", "--greedy"
        ])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.stdout, want + "\n", "\(variant) prompt \(i)")
        XCTAssertTrue(plain.stderr.contains("tokens/s"), plain.stderr)
        let streamed = try torchswift([
          "generate", "--model", dir, "--prompt", prompt, "--max-new-tokens", "16", "--greedy", "--stream"
        ])
        XCTAssertEqual(streamed.stdout, want + "\n", "\(variant) prompt \(i), streamed")
      }
    }
  }

  func testPromptsFileBatchedJSONL() throws {
    let (dir, ref) = try textReference("qwen2")
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    let input = tmp + "/prompts.txt"
    try "\(ref["prompt_0"] as! String)\n\(ref["prompt_1"] as! String)\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let out = tmp + "/out.jsonl"
    let r = try torchswift([
      "generate", "--model", dir, "--prompts", input, "--output", out, "--max-new-tokens", "16", "--greedy"
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.count, 2)
    for (i, line) in lines.enumerated() {
      let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      XCTAssertEqual(obj["prompt"] as? String, ref["prompt_\(i)"] as? String)
      XCTAssertEqual(obj["completion"] as? String, ref["completion_\(i)"] as? String, "batched prompt \(i)")
      XCTAssertEqual(obj["completion_tokens"] as? Int, 16)
      XCTAssertEqual(obj["finish_reason"] as? String, "length")
    }
  }

  func testChatTemplateAndInteractiveChat() throws {
    let (dir, ref) = try textReference("qwen2")
    let want = ref["chat_completion"] as! String
    let one = try torchswift([
      "generate", "--model", dir, "--chat", "--system", "Be brief.", "--prompt", "Hello there", "--max-new-tokens",
      "16", "--greedy"
    ])
    XCTAssertEqual(one.status, 0, one.stderr)
    XCTAssertEqual(one.stdout, want + "\n")
    let chat = try torchswift(
      ["chat", "--model", dir, "--system", "Be brief.", "--max-new-tokens", "16", "--greedy"],
      stdin: "Hello there\n/exit\n")
    XCTAssertEqual(chat.status, 0, chat.stderr)
    XCTAssertEqual(chat.stdout, want + "\n")
  }

  func testDoctorListsFamilies() throws {
    let r = try torchswift(["doctor"])
    let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("decoder-only models") }.map(String.init) ?? ""
    for arch in ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "GPT2LMHeadModel"] {
      XCTAssertTrue(line.contains(arch), "doctor: \(line)")
    }
  }

  func testErrorsExitOneAndWriteNothing() throws {
    let tmp = try ReferenceTools.temporaryDirectory(self).path
    let broken = tmp + "/broken"
    try FileManager.default.copyItem(atPath: CausalLMFixtures.directory() + "/qwen2", toPath: broken)
    try FileManager.default.removeItem(atPath: broken + "/model.safetensors")
    var r = try torchswift(["generate", "--model", broken, "--prompt", "hi"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("no model weights") && r.stderr.contains(broken), r.stderr)
    // The second batch's prompt is longer than GPT-2's 128 positions: exit 1, and the output file is not written.
    let (dir, _) = try textReference("gpt2")
    let input = tmp + "/prompts.txt"
    try "a short one\n\(String(repeating: "tensor ", count: 300))\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let out = tmp + "/out.jsonl"
    r = try torchswift(["generate", "--model", dir, "--prompts", input, "--output", out, "--batch-size", "1"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("longer than the model's context of 128 tokens"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    r = try torchswift(["generate", "--model", dir, "--prompt", "x", "--top-p", "1.5"])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(r.stderr.contains("--top-p"), r.stderr)
  }

  /// Loading bfloat16 weights as bfloat16 never holds two copies: peak resident memory while loading ≤ 1.25× the
  /// weights' size.
  func testBFloat16LoadingPeakMemory() throws {
    let dir = ReferenceTools.packageRoot.path + "/.build/test-fixtures/large-bf16-v1"
    if !FileManager.default.fileExists(atPath: dir + "/tokenizer.json") {
      try? FileManager.default.removeItem(atPath: dir)
      _ = try ReferenceTools.runPython([CausalLMFixtures.script, "--large", dir])
    }
    let r = try torchswift([
      "generate", "--model", dir, "--dtype", "bfloat16", "--prompt", "hi", "--max-new-tokens", "1", "--verbose"
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    func number(after marker: String) -> Double? {
      guard let range = r.stderr.range(of: marker) else { return nil }
      let digits = r.stderr[range.upperBound...].prefix { $0.isNumber }
      return Double(digits)
    }
    let weights = try XCTUnwrap(number(after: "parameters, "), r.stderr)
    let peak = try XCTUnwrap(number(after: "peak resident memory +"), r.stderr)
    XCTAssertGreaterThan(weights, 150e6)
    XCTAssertLessThanOrEqual(peak, 1.25 * weights, "peak +\(peak) bytes for \(weights) bytes of weights")
  }
}
