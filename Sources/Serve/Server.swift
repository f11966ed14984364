import ChatTemplates
import Foundation
import Generation
import HTTPTypes
import Hummingbird
import Logging
import Models
import NIOCore
import ServiceLifecycle
import Torch
import Training

/// What `torchswift serve` serves: one model, for one task.
public enum ServeBackend: @unchecked Sendable {
  /// A decoder-only model (chat and text completions), with continuous batching.
  case generate(CausalLM)
  /// A sentence-transformers model (`/v1/embeddings`).
  case embed(SentenceTransformer)
  /// A sequence classifier (`/v1/classify`).
  case classify(TextClassifier)
}

/// The server's settings (the flags of `torchswift serve`).
public struct ServeConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8000
  /// The model's id in responses and `/v1/models`.
  public var modelName = "model"
  /// Sequences decoded together (generation) or texts per model pass (embeddings, classification).
  public var maxBatchSize = 8
  /// Requests waiting for the model at most; more are answered 429.
  public var maxQueue = 64
  /// Bearer token every `/v1` request must send (nil: no authentication).
  public var apiKey: String?
  /// Largest request body in bytes (413 beyond).
  public var maxBodyBytes = 4 << 20
  /// Seconds a request may take before it is cancelled (504).
  public var requestTimeout = 600.0
  /// Seconds an embedding/classification batch waits for more requests to join.
  public var batchWindow = 0.005
  /// Positions per generated sequence (prompt + completion), clipped to the model's context.
  public var maxSequenceLength = 4096
  /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
  public var shutdownGrace = 30.0
  /// Log prompt and completion text (off: the server never logs them).
  public var logPrompts = false

  public init() {}
}

/// The OpenAI-compatible HTTP server: `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
/// `/v1/classify`, `/v1/models`, `/health`, `/metrics`.
public final class OpenAIServer: @unchecked Sendable {
  let configuration: ServeConfiguration
  let backend: ServeBackend
  let metrics = ServeMetrics()
  var logger: Logger
  let batcher: ContinuousBatcher?
  let embedder: BatchWorker<String, [Float]>?
  let classifier: BatchWorker<String, Prediction>?
  let chatTemplate: ChatTemplate?

  public init(configuration: ServeConfiguration, backend: ServeBackend, logger: Logger) throws {
    self.configuration = configuration
    self.backend = backend
    self.logger = logger
    let metrics = self.metrics
    switch backend {
    case .generate(let lm):
      let b = try ContinuousBatcher(
        model: lm.model, tokenizer: lm.tokenizer, slots: configuration.maxBatchSize,
        capacity: configuration.maxSequenceLength)
      b.maxQueue = configuration.maxQueue
      b.onStep = { step in
        metrics.batchSizes.record(Double(step.batchSize))
        metrics.generated(step.tokens)
      }
      batcher = b
      chatTemplate = try lm.chatTemplate()
      embedder = nil
      classifier = nil
    case .embed(let st):
      batcher = nil
      chatTemplate = nil
      classifier = nil
      embedder = BatchWorker(
        maxBatchSize: configuration.maxBatchSize, maxQueue: configuration.maxQueue, window: configuration.batchWindow
      ) { texts in
        let emb = try st.encode(texts, batchSize: max(texts.count, 1)).float().cpu().contiguous()  // [N, D]
        let values = try emb.floats()
        let dim = texts.isEmpty ? 0 : values.count / texts.count
        return (0..<texts.count).map { Array(values[($0 * dim)..<(($0 + 1) * dim)]) }
      }
    case .classify(let tc):
      batcher = nil
      chatTemplate = nil
      embedder = nil
      classifier = BatchWorker(
        maxBatchSize: configuration.maxBatchSize, maxQueue: configuration.maxQueue, window: configuration.batchWindow
      ) { texts in try tc.predict(texts) }
    }
    embedder?.onBatch = { n, _ in metrics.batchSizes.record(Double(n)) }
    classifier?.onBatch = { n, _ in metrics.batchSizes.record(Double(n)) }
  }

  /// Serves until SIGTERM or SIGINT, then stops accepting connections, lets in-flight requests finish (up to
  /// `shutdownGrace` seconds) and returns. `onListening` gets the bound port (useful with port 0).
  public func run(onListening: (@Sendable (Int) -> Void)? = nil) async throws {
    batcher?.start()
    embedder?.start()
    classifier?.start()
    let router = Router()
    router.middlewares.add(ServeMiddleware(server: self))
    addRoutes(router)
    let app = Application(
      router: router,
      configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "torchswift"),
      onServerRunning: { channel in onListening?(channel.localAddress?.port ?? 0) },
      logger: logger)
    var groupConfig = ServiceGroupConfiguration(
      services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    groupConfig.maximumGracefulShutdownDuration = .seconds(configuration.shutdownGrace)
    let group = ServiceGroup(configuration: groupConfig)
    try await group.run()
    batcher?.shutdown()
    embedder?.shutdown()
    classifier?.shutdown()
  }

  // MARK: Routes

  func addRoutes(_ router: Router<BasicRequestContext>) {
    router.get("/health") { _, _ in jsonResponse(["status": "ok"]) }
    router.get("/metrics") { [self] _, _ in
      batcher.map { metrics.queueLength.set(Double($0.queued)) }
      batcher.map { metrics.activeSequences.set(Double($0.active)) }
      embedder.map { metrics.queueLength.set(Double($0.queued)) }
      classifier.map { metrics.queueLength.set(Double($0.queued)) }
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
    }
    router.get("/v1/models") { [self] _, _ in
      jsonResponse([
        "object": "list",
        "data": [["id": configuration.modelName, "object": "model", "created": 0, "owned_by": "torchswift"]]
      ])
    }
    router.post("/v1/chat/completions") { [self] request, _ in
      try await answer { try await completion(request, chat: true) }
    }
    router.post("/v1/completions") { [self] request, _ in
      try await answer { try await completion(request, chat: false) }
    }
    router.post("/v1/embeddings") { [self] request, _ in try await answer { try await embeddings(request) } }
    router.post("/v1/classify") { [self] request, _ in try await answer { try await classify(request) } }
  }

  /// Runs a handler, answering its `APIError`s (and any other error as a 500) in OpenAI's shape.
  func answer(_ body: () async throws -> Response) async throws -> Response {
    do {
      return try await body()
    } catch let e as APIError {
      return e.response
    } catch {
      logger.error("request failed: \(error)")
      return APIError(status: .internalServerError, message: "\(error)", type: "server_error").response
    }
  }

  func body(_ request: Request) async throws -> JSONBody {
    var request = request
    let buffer: ByteBuffer
    do {
      buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
    } catch {
      throw APIError(
        status: .contentTooLarge, message: "the request body is larger than \(configuration.maxBodyBytes) bytes",
        type: "invalid_request_error")
    }
    return try JSONBody(buffer)
  }

  func checkModel(_ json: JSONBody) throws {
    _ = try json.string("model")  // any id is accepted (one model is served), but it must be a string
  }

  // MARK: Generation

  struct GenerationJob {
    var request: SequenceRequest
    var stream: Bool
    var includeUsage: Bool
  }

  func parseGeneration(_ json: JSONBody, chat: Bool, lm: CausalLM, batcher: ContinuousBatcher) throws -> GenerationJob {
    try checkModel(json)
    let prompt: [Int]
    if chat {
      guard let raw = json.object["messages"] as? [Any], !raw.isEmpty else {
        throw APIError.invalid("'messages' must be a non-empty list of messages", param: "messages")
      }
      var messages: [ChatMessage] = []
      for (i, m) in raw.enumerated() {
        guard let m = m as? [String: Any], let role = m["role"] as? String else {
          throw APIError.invalid("messages[\(i)] must be an object with a string 'role'", param: "messages")
        }
        var content: String?
        if let s = m["content"] as? String {
          content = s
        } else if let parts = m["content"] as? [Any] {
          content = try parts.map { part -> String in
            guard let p = part as? [String: Any], p["type"] as? String == "text", let t = p["text"] as? String else {
              throw APIError.invalid("messages[\(i)].content: only text parts are supported", param: "messages")
            }
            return t
          }.joined()
        } else if m["content"] != nil && !(m["content"] is NSNull) {
          throw APIError.invalid("messages[\(i)].content must be a string or a list of text parts", param: "messages")
        }
        messages.append(ChatMessage(role: role, content: content))
      }
      guard let template = chatTemplate else {
        throw APIError.invalid("this model has no chat template: use /v1/completions")
      }
      do {
        prompt = try lm.encode(try template.apply(messages, addGenerationPrompt: true), addSpecialTokens: false)
      } catch {
        throw APIError.invalid("the chat template failed on these messages: \(error)", param: "messages")
      }
    } else {
      guard let p = try json.strings("prompt"), p.count == 1 else {
        throw APIError.invalid("'prompt' must be a string (one prompt per request)", param: "prompt")
      }
      prompt = try lm.encode(p[0])
    }
    if let n = try json.integer("n"), n != 1 { throw APIError.invalid("only n = 1 is supported", param: "n") }
    if try json.bool("logprobs") == true || json.has("logprobs") && !chat {
      throw APIError.invalid("logprobs are not supported", param: "logprobs")
    }
    var config = lm.generationConfig
    config.stopStrings = []
    let room = batcher.capacity - prompt.count
    if room < 1 {
      throw APIError(
        status: .badRequest,
        message:
          "This model's maximum context length is \(batcher.capacity) tokens, but the prompt is \(prompt.count) tokens",
        type: "invalid_request_error", param: chat ? "messages" : "prompt", code: "context_length_exceeded")
    }
    let maxTokens = try json.integer("max_completion_tokens") ?? json.integer("max_tokens")
    if let maxTokens {
      guard maxTokens >= 1 else { throw APIError.invalid("'max_tokens' must be at least 1", param: "max_tokens") }
      guard maxTokens <= room else {
        throw APIError(
          status: .badRequest,
          message:
            "This model's maximum context length is \(batcher.capacity) tokens. However, you requested "
            + "\(prompt.count + maxTokens) tokens (\(prompt.count) in the prompt, \(maxTokens) for the completion)",
          type: "invalid_request_error", param: "max_tokens", code: "context_length_exceeded")
      }
      config.maxNewTokens = maxTokens
    } else {
      config.maxNewTokens = chat ? room : min(16, room)
    }
    if let t = try json.number("temperature") {
      guard t >= 0, t <= 2 else { throw APIError.invalid("'temperature' must be in [0, 2]", param: "temperature") }
      if t == 0 {
        config.doSample = false
      } else {
        config.doSample = true
        config.temperature = t
      }
    }
    if let p = try json.number("top_p") {
      guard p > 0, p <= 1 else { throw APIError.invalid("'top_p' must be in (0, 1]", param: "top_p") }
      config.topP = p
      if p < 1 && !json.has("temperature") { config.doSample = true }
    }
    if let k = try json.integer("top_k") {
      guard k >= 0 else { throw APIError.invalid("'top_k' must be at least 0", param: "top_k") }
      config.topK = k
    } else if config.doSample {
      config.topK = 0  // OpenAI's sampling has no top-k
    }
    if let seed = try json.integer("seed") { config.seed = UInt64(bitPattern: Int64(seed)) }
    if let stops = try json.strings("stop") {
      guard stops.count <= 4 else { throw APIError.invalid("'stop' holds at most 4 strings", param: "stop") }
      config.stopStrings = stops.filter { !$0.isEmpty }
    }
    let stream = try json.bool("stream") ?? false
    var includeUsage = false
    if json.has("stream_options") {
      guard let o = json.object["stream_options"] as? [String: Any] else {
        throw APIError.invalid("'stream_options' must be an object", param: "stream_options")
      }
      includeUsage = (o["include_usage"] as? Bool) ?? false
    }
    let request = SequenceRequest(prompt: prompt, config: config)
    do {
      try batcher.check(request)
    } catch {
      throw APIError.invalid("\(error)")
    }
    return GenerationJob(request: request, stream: stream, includeUsage: includeUsage)
  }

  func completion(_ request: Request, chat: Bool) async throws -> Response {
    guard case .generate(let lm) = backend, let batcher else {
      throw APIError(
        status: .notFound, message: "this server does not generate text (start it with --task generate)",
        type: "invalid_request_error")
    }
    let json = try await body(request)
    let job = try parseGeneration(json, chat: chat, lm: lm, batcher: batcher)
    if configuration.logPrompts {
      logger.info("prompt: \(lm.tokenizer.decode(job.request.prompt, skipSpecialTokens: false))")
    }
    let (events, continuation) = AsyncStream<SequenceEvent>.makeStream()
    let handle: SequenceHandle
    do {
      handle = try batcher.submit(job.request) { event in
        continuation.yield(event)
        switch event {
        case .finished, .failed: continuation.finish()
        case .text: break
        }
      }
    } catch is QueueFull {
      throw APIError.queueFull(configuration.maxQueue)
    } catch {
      throw APIError.invalid("\(error)")
    }
    let timeout = Task {
      try await Task.sleep(nanoseconds: UInt64(configuration.requestTimeout * 1e9))
      handle.cancel()
      continuation.yield(.failed("the request timed out after \(configuration.requestTimeout) s"))
      continuation.finish()
    }
    let id = (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let created = Int(Date().timeIntervalSince1970)
    let model = configuration.modelName
    let promptCount = job.request.prompt.count
    let metrics = self.metrics
    metrics.promptTokens.increment(by: Int64(promptCount))

    @Sendable func usage(_ completionTokens: Int) -> [String: Any] {
      [
        "prompt_tokens": promptCount, "completion_tokens": completionTokens,
        "total_tokens": promptCount + completionTokens
      ]
    }

    if !job.stream {
      defer { timeout.cancel() }
      let summary: SequenceSummary = try await withTaskCancellationHandler {
        for await event in events {
          switch event {
          case .text: continue
          case .finished(let s): return s
          case .failed(let message):
            throw APIError(status: .gatewayTimeout, message: message, type: "server_error")
          }
        }
        throw APIError(status: .serviceUnavailable, message: "the request was cancelled", type: "server_error")
      } onCancel: {
        handle.cancel()
      }
      metrics.timeToFirstToken.record(.nanoseconds(Int64(summary.timeToFirstToken * 1e9)))
      if configuration.logPrompts { logger.info("completion: \(summary.text)") }
      let choice: [String: Any] =
        chat
        ? [
          "index": 0, "message": ["role": "assistant", "content": summary.text], "logprobs": NSNull(),
          "finish_reason": summary.finishReason.rawValue
        ]
        : ["index": 0, "text": summary.text, "logprobs": NSNull(), "finish_reason": summary.finishReason.rawValue]
      return jsonResponse([
        "id": id, "object": chat ? "chat.completion" : "text_completion", "created": created, "model": model,
        "choices": [choice], "usage": usage(summary.tokens.count)
      ])
    }

    // Server-sent events: one chunk per text piece, a last chunk with the finish reason, then `data: [DONE]`.
    @Sendable func chunk(_ text: String?, finish: String?, role: Bool = false) -> ByteBuffer {
      let choice: [String: Any]
      if chat {
        var delta: [String: Any] = [:]
        if role { delta["role"] = "assistant" }
        if let text { delta["content"] = text }
        choice = ["index": 0, "delta": delta, "logprobs": NSNull(), "finish_reason": finish as Any? ?? NSNull()]
      } else {
        choice = ["index": 0, "text": text ?? "", "logprobs": NSNull(), "finish_reason": finish as Any? ?? NSNull()]
      }
      return sse([
        "id": id, "object": chat ? "chat.completion.chunk" : "text_completion", "created": created, "model": model,
        "choices": [choice]
      ])
    }
    @Sendable func sse(_ object: [String: Any]) -> ByteBuffer {
      let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data()
      var buffer = ByteBuffer(string: "data: ")
      buffer.writeBytes(data)
      buffer.writeString("\n\n")
      return buffer
    }
    let includeUsage = job.includeUsage
    let logger = self.logger
    let body = ResponseBody { writer in
      defer { timeout.cancel() }
      do {
        if chat { try await writer.write(chunk("", finish: nil, role: true)) }
        loop: for await event in events {
          switch event {
          case .text(let piece):
            try await writer.write(chunk(piece, finish: nil))
          case .finished(let s):
            metrics.timeToFirstToken.record(.nanoseconds(Int64(s.timeToFirstToken * 1e9)))
            try await writer.write(chunk(nil, finish: s.finishReason.rawValue))
            if includeUsage {
              try await writer.write(
                sse([
                  "id": id, "object": chat ? "chat.completion.chunk" : "text_completion", "created": created,
                  "model": model, "choices": [Any](), "usage": usage(s.tokens.count)
                ]))
            }
            break loop
          case .failed(let message):
            try await writer.write(sse(APIError(status: .gatewayTimeout, message: message, type: "server_error").json))
            break loop
          }
        }
        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        try await writer.finish(nil)
      } catch {
        // The client went away: free the sequence's slot.
        handle.cancel()
        logger.debug("stream ended early: \(error)")
        throw error
      }
    }
    return Response(
      status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
  }

  // MARK: Embeddings and classification

  func inputs(_ json: JSONBody) throws -> [String] {
    try checkModel(json)
    guard json.has("input") else { throw APIError.invalid("'input' is required", param: "input") }
    guard let texts = try? json.strings("input") else {
      throw APIError.invalid("'input' must be a string or a list of strings", param: "input")
    }
    guard !texts.isEmpty else { throw APIError.invalid("'input' must not be an empty list", param: "input") }
    guard texts.count <= 2048 else { throw APIError.invalid("'input' holds at most 2048 texts", param: "input") }
    return texts
  }

  func embeddings(_ request: Request) async throws -> Response {
    guard case .embed(let st) = backend, let embedder else {
      throw APIError(
        status: .notFound, message: "this server does not embed text (start it with --task embed)",
        type: "invalid_request_error")
    }
    let json = try await body(request)
    let texts = try inputs(json)
    let format = try json.string("encoding_format") ?? "float"
    guard format == "float" || format == "base64" else {
      throw APIError.invalid("'encoding_format' must be 'float' or 'base64'", param: "encoding_format")
    }
    if json.has("dimensions") { throw APIError.invalid("'dimensions' is not supported", param: "dimensions") }
    let vectors = try await withTimeout { try await embedder.submit(texts) }
    var tokens = 0
    for t in texts { tokens += (try? st.tokenizer.encode(t).ids.count) ?? 0 }
    let data: [[String: Any]] = vectors.enumerated().map { i, v in
      let embedding: Any =
        format == "base64"
        ? v.withUnsafeBufferPointer { Data(buffer: $0).base64EncodedString() }
        : v.map { Double($0) }
      return ["object": "embedding", "index": i, "embedding": embedding]
    }
    return jsonResponse([
      "object": "list", "data": data, "model": configuration.modelName,
      "usage": ["prompt_tokens": tokens, "total_tokens": tokens]
    ])
  }

  func classify(_ request: Request) async throws -> Response {
    guard case .classify(let tc) = backend, let classifier else {
      throw APIError(
        status: .notFound, message: "this server does not classify text (start it with --task classify)",
        type: "invalid_request_error")
    }
    let json = try await body(request)
    let texts = try inputs(json)
    let predictions = try await withTimeout { try await classifier.submit(texts) }
    let names = tc.labelNames
    let data: [[String: Any]] = predictions.enumerated().map { i, p in
      [
        "object": "classification", "index": i, "label": p.label,
        "scores": Dictionary(uniqueKeysWithValues: zip(names, p.scores.map { Double($0) })),
        "logits": p.logits.map { Double($0) }
      ]
    }
    return jsonResponse(["object": "list", "data": data, "model": configuration.modelName])
  }

  func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let seconds = configuration.requestTimeout
    return try await withThrowingTaskGroup(of: T.self) { group in
      group.addTask { try await body() }
      group.addTask {
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        throw APIError(
          status: .gatewayTimeout, message: "the request timed out after \(seconds) s", type: "server_error")
      }
      defer { group.cancelAll() }
      return try await group.next()!
    }
  }
}

/// Authentication (bearer token, compared in constant time) and per-request metrics.
struct ServeMiddleware<Context: RequestContext>: RouterMiddleware {
  let server: OpenAIServer

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    let start = Date()
    let path = request.uri.path
    let endpoint =
      ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/classify", "/v1/models", "/health", "/metrics"]
        .contains(path) ? path : "other"
    let counted = path.hasPrefix("/v1/")
    if counted { server.metrics.inFlight.increment() }
    defer { if counted { server.metrics.inFlight.decrement() } }
    var response: Response
    if let key = server.configuration.apiKey, path.hasPrefix("/v1/"),
      !constantTimeEqual(Array((request.headers[.authorization] ?? "").utf8), Array("Bearer \(key)".utf8))
    {
      response = APIError.unauthorized.response
    } else {
      do {
        response = try await next(request, context)
      } catch let error as HTTPResponseError {
        let status = error.status
        response =
          APIError(
            status: status, message: status == .notFound ? "no such endpoint: \(path)" : "\(status)",
            type: "invalid_request_error"
          ).response
      }
    }
    server.metrics.request(endpoint: endpoint, status: response.status.code, seconds: Date().timeIntervalSince(start))
    return response
  }
}
