import Foundation
import Models
import ReferenceTesting
import XCTest

@testable import Torch

/// `torchswift serve` end to end, on loopback: the official `openai` Python client (Fixtures/openai_client.py)
/// against servers on the tiny random decoder fixture (with its byte-level tokenizer and ChatML template), the
/// bundled MiniLM and a tiny random classifier, compared with `torchswift generate`, `embed` and `predict`. Every
/// server a test starts is stopped by it.
final class ServeTests: XCTestCase {
  static let client = ReferenceTools.packageRoot.appendingPathComponent("Tests/ServeTests/Fixtures/openai_client.py")
    .path

  static func binary() throws -> String {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    return runner.deletingLastPathComponent().appendingPathComponent("torchswift").path
  }

  static func environment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["LD_LIBRARY_PATH"] =
      ReferenceTools.packageRoot.path + "/.torchswift/lib" + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    return env
  }

  /// A running server: its process and base URL.
  final class Server {
    let process = Process()
    let logPath = NSTemporaryDirectory() + "torchswift-serve-\(UUID().uuidString).log"
    var base = ""

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }
      try? FileManager.default.removeItem(atPath: logPath)
    }
  }

  /// Starts `torchswift serve ARGS --port 0` and waits (at most 60 s) for it to listen.
  func serve(_ args: [String]) throws -> Server {
    let s = Server()
    _ = FileManager.default.createFile(atPath: s.logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: s.logPath))
    s.process.executableURL = URL(fileURLWithPath: try Self.binary())
    s.process.arguments = ["serve", "--port", "0"] + args
    s.process.environment = Self.environment()
    s.process.standardError = log
    s.process.standardOutput = log
    try s.process.run()
    addTeardownBlock { s.stop() }
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      if let r = s.log.range(of: #"on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
        s.base = "http://" + s.log[r].dropFirst(10)
        return s
      }
      guard s.process.isRunning else { break }
      Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("the server did not start:\n\(s.log)")
    throw XCTSkip("no server")
  }

  /// Runs a scenario of the client script; its JSON answer.
  func client(_ scenario: String, _ server: Server, _ args: [String] = []) throws -> [String: Any] {
    let out = try ReferenceTools.runPython([Self.client, scenario, server.base] + args)
    return try XCTUnwrap(JSONSerialization.jsonObject(with: out) as? [String: Any])
  }

  /// `torchswift ARGS`'s standard output.
  func torchswift(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try Self.binary())
    p.arguments = args
    p.environment = Self.environment()
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, "torchswift \(args)")
    return String(decoding: data, as: UTF8.self)
  }

  static var decoder: String {
    get throws {
      let dir = ReferenceTools.packageRoot.appendingPathComponent(".build/test-fixtures").path
      // The generation tests' fixture (made by their script, shared through .build/test-fixtures).
      let script = ReferenceTools.packageRoot.appendingPathComponent(
        "Tests/GenerationTests/Fixtures/causal_lm_reference.py"
      ).path
      let source = try Data(contentsOf: URL(fileURLWithPath: script))
      var hash: UInt64 = 1_469_598_103_934_665_603
      for byte in source { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
      let root = dir + "/causal-lm-\(String(hash, radix: 16))"
      if !FileManager.default.fileExists(atPath: root + "/versions.json") {
        try? FileManager.default.removeItem(atPath: root)
        _ = try ReferenceTools.runPython([script, root])
      }
      return root + "/qwen2"
    }
  }

  func errorType(_ e: Any?) -> String? { ((e as? [String: Any])?["body"] as? [String: Any])?["type"] as? String }

  func testChatCompletionsStreamingBatchingAndErrorsWithTheOpenAIClient() throws {
    let dir = try Self.decoder
    let server = try serve(["--model", dir, "--max-batch-size", "4", "--model-name", "tiny"])
    let r = try client("generate", server)
    XCTAssertEqual(r["models"] as? [String], ["tiny"])
    // The same text as `torchswift generate` (greedy, 12 tokens), chat and plain.
    let genChat = try torchswift([
      "generate", "--model", dir, "--chat", "--prompt", "Hello there", "--max-new-tokens", "12", "--temperature", "0"
    ])
    let genPlain = try torchswift([
      "generate", "--model", dir, "--prompt", "Once upon a time", "--max-new-tokens", "12", "--temperature", "0"
    ])
    let chat = try XCTUnwrap(r["chat"] as? [String: Any])
    XCTAssertEqual((chat["text"] as? String).map { $0 + "\n" }, genChat)
    XCTAssertEqual(chat["object"] as? String, "chat.completion")
    let usage = try XCTUnwrap(chat["usage"] as? [String: Any])
    XCTAssertEqual(
      (usage["prompt_tokens"] as? Int ?? 0) + (usage["completion_tokens"] as? Int ?? 0), usage["total_tokens"] as? Int)
    XCTAssertGreaterThan(usage["prompt_tokens"] as? Int ?? 0, 0)
    let completion = try XCTUnwrap(r["completion"] as? [String: Any])
    XCTAssertEqual((completion["text"] as? String).map { $0 + "\n" }, genPlain)
    XCTAssertTrue(["stop", "length"].contains(completion["finish_reason"] as? String ?? ""))
    // Streaming: the pieces concatenate to the non-streamed text; usage in the last chunk.
    let stream = try XCTUnwrap(r["chat_stream"] as? [String: Any])
    XCTAssertEqual((stream["pieces"] as? [String])?.joined(), chat["text"] as? String)
    XCTAssertEqual(stream["finish_reason"] as? String, chat["finish_reason"] as? String)
    XCTAssertEqual((stream["usage"] as? [String: Any])?["total_tokens"] as? Int, usage["total_tokens"] as? Int)
    XCTAssertEqual((r["completion_stream"] as? [String])?.joined(), completion["text"] as? String)
    // 8 concurrent greedy requests over 4 slots (half join mid-batch): each the same text as alone.
    XCTAssertEqual(r["together_errors"] as? [String], [])
    XCTAssertEqual(r["together"] as? [String], r["alone"] as? [String])
    XCTAssertEqual((r["alone"] as? [String])?.count, 8)
    // A stop string from the text itself cuts it there.
    let text = completion["text"] as? String ?? ""
    if text.count >= 5 {
      let stop = String(text.dropFirst(3).prefix(2))
      XCTAssertEqual(r["stop"] as? String, String(text[..<text.range(of: stop)!.lowerBound]))
    }
    // Errors in OpenAI's shape.
    let errors = try XCTUnwrap(r["errors"] as? [String: Any])
    for name in ["no_messages", "wrong_type", "too_long", "too_many_tokens", "n2"] {
      let e = errors[name] as? [String: Any]
      XCTAssertEqual(e?["status"] as? Int, 400, name)
      XCTAssertEqual(errorType(e), "invalid_request_error", name)
    }
    XCTAssertEqual(
      (((errors["too_long"] as? [String: Any])?["body"] as? [String: Any])?["code"] as? String),
      "context_length_exceeded")
  }

  func testAPIKey() throws {
    let keyFile = try ReferenceTools.temporaryDirectory(self).appendingPathComponent("key").path
    try "s3cret-key\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
    let server = try serve(["--model", try Self.decoder, "--api-key-file", keyFile, "--model-name", "tiny"])
    let r = try client("auth", server, ["s3cret-key"])
    XCTAssertEqual((r["wrong"] as? [String: Any])?["status"] as? Int, 401)
    XCTAssertEqual(errorType(r["wrong"]), "invalid_request_error")
    XCTAssertEqual(r["missing"] as? Int, 401)
    XCTAssertEqual(r["right"] as? [String], ["tiny"])
    XCTAssertEqual(r["health"] as? Int, 200)
  }

  func testEmbeddingsEqualTorchswiftEmbed() throws {
    let texts = [
      "The weather is lovely today.", "A man is playing a guitar.", "I love pizza", "Stocks fell sharply on Monday."
    ]
    let server = try serve(["--task", "embed", "--max-batch-size", "16"])
    let r = try client(
      "embed", server, [String(decoding: try JSONSerialization.data(withJSONObject: texts), as: UTF8.self)])
    let reference = try torchswift(["embed"] + texts).split(separator: "\n").map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Double])
    }
    func close(_ a: [Double]?, _ b: [Double], _ what: String) {
      guard let a, a.count == b.count else { return XCTFail("\(what): \(a?.count ?? -1) vs \(b.count) values") }
      let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
      XCTAssertLessThan(worst, 1e-5, what)
    }
    let floats = r["float"] as? [[Double]] ?? []
    let base64 = r["base64"] as? [[Double]] ?? []
    XCTAssertEqual(floats.count, texts.count)
    XCTAssertEqual(base64.count, texts.count)
    for i in 0..<min(texts.count, floats.count, base64.count) {
      close(floats[i], reference[i], "float \(i)")
      close(base64[i], reference[i], "base64 \(i)")
    }
    close(r["single"] as? [Double], reference[0], "single")
    XCTAssertEqual(r["together_errors"] as? [String], [])
    for (i, v) in (r["together"] as? [[Double]] ?? []).enumerated() {
      close(v, reference[i % texts.count], "batched \(i)")
    }
    XCTAssertGreaterThan(((r["usage"] as? [String: Any])?["prompt_tokens"] as? Int) ?? 0, 0)
    XCTAssertEqual((r["bad_format"] as? [String: Any])?["status"] as? Int, 400)
    XCTAssertEqual(r["no_input"] as? Int, 400)
  }

  func testClassifyEqualsTorchswiftPredict() throws {
    let dir = try ReferenceTools.temporaryDirectory(self).path
    var cfg = BertConfig()
    cfg.hiddenSize = 32
    cfg.numHiddenLayers = 2
    cfg.numAttentionHeads = 2
    cfg.intermediateSize = 64
    cfg.maxPositionEmbeddings = 128
    cfg.id2label = [0: "negative", 1: "neutral", 2: "positive"]
    Torch.manualSeed(7)
    let path = dir + "/classifier"
    try BertForSequenceClassification(cfg).save(to: path, tokenizerDir: try BundledModel.directory())
    let texts = ["I love this!", "This is terrible.", "It is a table.", "Meh, fine I guess, nothing special at all."]
    let server = try serve(["--model", path, "--max-batch-size", "8"])
    let r = try client(
      "classify", server, [String(decoding: try JSONSerialization.data(withJSONObject: texts), as: UTF8.self)])
    XCTAssertEqual(r["status"] as? Int, 200)
    let data = ((r["body"] as? [String: Any])?["data"] as? [[String: Any]]) ?? []
    let reference = try torchswift(["predict", "--model", path, "--json"] + texts).split(separator: "\n").map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    XCTAssertEqual(data.count, texts.count)
    for (got, want) in zip(data, reference) {
      XCTAssertEqual(got["label"] as? String, want["label"] as? String)
      let scores = got["scores"] as? [String: Double] ?? [:]
      for (label, p) in want["probabilities"] as? [String: Double] ?? [:] {
        XCTAssertEqual(scores[label] ?? -1, p, accuracy: 1e-5, label)
      }
    }
  }

  func testQueueLimitDisconnectAndFuzz() throws {
    let dir = try Self.decoder
    var server = try serve(["--model", dir, "--max-batch-size", "1", "--max-queue", "1"])
    let q = try client("queue", server)
    let results = q["results"] as? [Any] ?? []
    let limited = results.compactMap { $0 as? [String: Any] }
    XCTAssertEqual(q["errors"] as? [String], [])
    XCTAssertFalse(limited.isEmpty, "no request was answered 429: \(results)")
    XCTAssertTrue(results.contains { ($0 as? Int) == 200 })
    for l in limited { XCTAssertEqual(((l["body"] as? [String: Any])?["type"] as? String), "rate_limit_error") }
    // A client that disconnects mid-stream frees the only slot: the next request completes.
    let d = try client("disconnect", server)
    XCTAssertTrue((d["first"] as? String ?? "").hasPrefix("data: "))
    XCTAssertTrue(["stop", "length"].contains(d["after"] as? String ?? ""))
    let metrics = d["metrics"] as? String ?? ""
    for name in [
      "torchswift_requests_total", "torchswift_queue_length", "torchswift_batch_size_bucket",
      "torchswift_request_duration_seconds_bucket", "torchswift_generated_tokens_total",
      "torchswift_time_to_first_token_seconds", "torchswift_request_errors_total"
    ] {
      XCTAssertTrue(metrics.contains(name), "/metrics lacks \(name)")
    }
    server.stop()
    // Fuzz: a small body limit, 150 mutated requests plus hand-made malformed ones.
    server = try serve(["--model", dir, "--max-body-bytes", "65536"])
    let f = try client("fuzz", server, ["150"])
    XCTAssertEqual((f["bad"] as? [Any])?.count, 0, "\(f["bad"] ?? "")")
    XCTAssertEqual(f["health"] as? Int, 200)
    XCTAssertEqual(f["unknown"] as? Int, 404)
    XCTAssertNotNil((f["statuses"] as? [String: Int])?["413"], "the huge body was not refused with 413")
    XCTAssertFalse(server.log.contains("Hello"), "the server logged prompt text")
  }

  func testSIGTERMFinishesRequestsAndExitsZero() throws {
    let server = try serve(["--model", try Self.decoder, "--max-batch-size", "2", "--shutdown-timeout", "20"])
    let r = try client("sigterm", server, [String(server.process.processIdentifier)])
    XCTAssertEqual(r["errors"] as? [String], [])
    XCTAssertEqual(r["count"] as? Int, 4)
    XCTAssertTrue((r["finished"] as? [String] ?? []).allSatisfy { ["stop", "length"].contains($0) })
    let deadline = Date().addingTimeInterval(30)
    while server.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    XCTAssertFalse(server.process.isRunning)
    if !server.process.isRunning {
      XCTAssertEqual(server.process.terminationReason, .exit)
      XCTAssertEqual(server.process.terminationStatus, 0, server.log)
    }
  }
}
