import ArgumentParser
import CLISupport
import Foundation
import Generation
import Logging
import Models
import Serve
import Torch
import Training

/// `torchswift serve`: an OpenAI-compatible HTTP server for one model.
struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve a model over an OpenAI-compatible HTTP API (chat/completions, embeddings, classification).",
    discussion: """
      Endpoints: POST /v1/chat/completions, /v1/completions (--task generate), /v1/embeddings (--task embed), \
      /v1/classify (--task classify); GET /v1/models, /health, /metrics (Prometheus). Generation uses continuous \
      batching over --max-batch-size slots; embedding and classification requests arriving together are batched. \
      SIGTERM or SIGINT stops accepting connections, lets running requests finish and exits 0.
      """)

  @Option(help: "Model folder (default with --task embed: the bundled all-MiniLM-L6-v2).") var model: String?
  @Option(
    help: "generate, embed or classify (default: from the folder: a causal LM, sentence-transformers or a classifier).")
  var task: String?
  @Option(help: "Address to listen on.") var host = "127.0.0.1"
  @Option(help: "Port (0: any free port, printed on start).") var port = 8000
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: "Generation: float32, bfloat16 or float16 (default: float32 on the CPU, the model's dtype on CUDA).")
  var dtype: String?
  @Option(name: .customLong("max-batch-size"), help: "Sequences decoded together / texts per model pass.")
  var maxBatchSize = 8
  @Option(name: .customLong("max-queue"), help: "Requests waiting for the model at most (more get 429).")
  var maxQueue = 64
  @Option(name: .customLong("max-seq-len"), help: "Generation: prompt + completion tokens per request at most.")
  var maxSeqLen = 4096
  @Option(name: .customLong("api-key-file"), help: "Require 'Authorization: Bearer KEY' with the key in FILE.")
  var apiKeyFile: String?
  @Option(name: .customLong("max-body-bytes"), help: "Largest request body (413 beyond).") var maxBodyBytes = 4 << 20
  @Option(name: .customLong("request-timeout"), help: "Seconds a request may take (then cancelled).")
  var requestTimeout = 600.0
  @Option(
    name: .customLong("shutdown-timeout"),
    help: "Seconds running requests get to finish after SIGTERM/SIGINT before the server stops anyway.")
  var shutdownTimeout = 30.0
  @Option(name: .customLong("model-name"), help: "The model id the API reports (default: the folder's name).")
  var modelName: String?
  @Flag(name: .customLong("log-prompts"), help: "Log prompt and completion text (never logged otherwise).")
  var logPrompts = false

  func validate() throws {
    if let task, !["generate", "embed", "classify"].contains(task) {
      throw ValidationError("--task must be generate, embed or classify, got '\(task)'")
    }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
    guard maxBatchSize > 0 else { throw ValidationError("--max-batch-size must be positive, got \(maxBatchSize)") }
    guard maxQueue > 0 else { throw ValidationError("--max-queue must be positive, got \(maxQueue)") }
    guard maxSeqLen > 1 else { throw ValidationError("--max-seq-len must be at least 2, got \(maxSeqLen)") }
    guard requestTimeout > 0 else { throw ValidationError("--request-timeout must be positive") }
  }

  /// The task a folder is for: its config's architectures, or sentence-transformers' modules.json.
  static func detectTask(_ dir: String) -> String {
    if FileManager.default.fileExists(atPath: dir + "/modules.json") { return "embed" }
    if let data = FileManager.default.contents(atPath: dir + "/config.json"),
      let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let archs = obj["architectures"] as? [String]
    {
      if archs.contains(where: { $0.hasSuffix("ForCausalLM") || $0.hasSuffix("LMHeadModel") }) { return "generate" }
      if archs.contains(where: { $0.hasSuffix("ForSequenceClassification") }) { return "classify" }
    }
    return "generate"
  }

  func run() throws {
    let dev = try deviceOption(device)
    let dir: String
    if let model {
      dir = model
    } else if task == "embed" {
      dir = try BundledModel.directory()
    } else {
      throw ValidationError("--model DIR is needed (only --task embed has a default)")
    }
    let task = task ?? Self.detectTask(dir)
    var config = ServeConfiguration()
    config.host = host
    config.port = port
    config.maxBatchSize = maxBatchSize
    config.maxQueue = maxQueue
    config.maxSequenceLength = maxSeqLen
    config.maxBodyBytes = maxBodyBytes
    config.requestTimeout = requestTimeout
    config.logPrompts = logPrompts
    config.shutdownGrace = shutdownTimeout
    config.modelName = modelName ?? URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
    if let apiKeyFile {
      guard let data = FileManager.default.contents(atPath: apiKeyFile) else {
        throw ValidationError("cannot read --api-key-file '\(apiKeyFile)'")
      }
      let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      guard !key.isEmpty else { throw ValidationError("--api-key-file '\(apiKeyFile)' is empty") }
      config.apiKey = key
    }
    let backend: ServeBackend
    switch task {
    case "embed": backend = .embed(try SentenceTransformer(directory: dir, device: dev))
    case "classify": backend = .classify(try TextClassifier.fromPretrained(dir, device: dev, batchSize: maxBatchSize))
    default:
      var dtypeValue: DType?
      switch dtype {
      case nil: dtypeValue = nil
      case "float32", "fp32": dtypeValue = .float32
      case "bfloat16", "bf16": dtypeValue = .bfloat16
      case "float16", "fp16", "half": dtypeValue = .float16
      default: throw ValidationError("--dtype must be float32, bfloat16 or float16, got '\(dtype!)'")
      }
      backend = .generate(try CausalLM(contentsOf: dir, device: dev, dtype: dtypeValue))
    }
    var logger = Logger(label: "torchswift.serve")
    logger.logLevel = .notice
    let server = try OpenAIServer(configuration: config, backend: backend, logger: logger)
    let host = self.host
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var failure: Error?
    Task {
      do {
        try await server.run { port in
          FileHandle.standardError.write(Data("torchswift serve: \(task) on http://\(host):\(port)\n".utf8))
        }
      } catch {
        failure = error
      }
      done.signal()
    }
    done.wait()
    if let failure { throw failure }
    FileHandle.standardError.write(Data("torchswift serve: stopped\n".utf8))
  }
}
