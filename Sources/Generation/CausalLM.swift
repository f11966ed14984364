import Foundation
import Models
import Tokenizers
import Torch

/// A decoder-only model with its tokenizer and generation defaults, loaded from a Hugging Face folder:
///
/// ```swift
/// let lm = try CausalLM(contentsOf: dir)
/// let text = try lm.generate(prompt: "Once upon a time", parameters: .init(maxNewTokens: 64)).text
/// for try await piece in lm.stream(prompt: "Once upon a time") { print(piece, terminator: "") }
/// ```
public final class CausalLM: @unchecked Sendable {
  public let directory: String
  public let model: any CausalLanguageModel
  public let tokenizer: Tokenizer
  /// `generation_config.json` (with config.json's token ids), the defaults of every call.
  public var generationConfig: GenerationConfig
  public let loadReport: LoadReport
  /// One generation at a time: the model's KV caches and libtorch's RNG are not shared safely.
  private let lock = NSLock()

  /// Loads the model (see `AutoModelForCausalLM.fromPretrained`), `tokenizer.json` and `generation_config.json`.
  public init(contentsOf directory: String, device: Device = .cpu, dtype: DType? = nil) throws {
    self.directory = directory
    tokenizer = try Tokenizer(directory: directory)
    generationConfig = try GenerationConfig.load(directory: directory)
    (model, loadReport) = try AutoModelForCausalLM.fromPretrained(directory, device: device, dtype: dtype)
  }

  public convenience init(contentsOf url: URL, device: Device = .cpu, dtype: DType? = nil) throws {
    try self.init(contentsOf: url.path, device: device, dtype: dtype)
  }

  /// One generated text.
  public struct Completion: Sendable {
    public var text: String
    public var tokens: [Int]
    public var promptTokens: Int
    public var finishReason: FinishReason
  }

  /// Token ids of a prompt, with the tokenizer's special tokens (BOS) unless `addSpecialTokens` is false (for
  /// text already rendered by a chat template, which holds its own).
  public func encode(_ prompt: String, addSpecialTokens: Bool = true) throws -> [Int] {
    try tokenizer.encode(prompt, addSpecialTokens: addSpecialTokens).ids
  }

  /// The decoded text of `tokens`, cut before the stop string that ended it.
  func text(of tokens: [Int], stopString: String?) -> String {
    let full = tokenizer.decode(tokens, skipSpecialTokens: true)
    guard let stopString, let r = full.range(of: stopString) else { return full }
    return String(full[..<r.lowerBound])
  }

  /// Generates for each prompt (batched, left-padded; each row stops on its own).
  public func generate(
    prompts: [[Int]], config: GenerationConfig? = nil, cache: KVCacheKind = .static,
    onStep: (([Int?]) throws -> Bool)? = nil
  ) throws -> (completions: [Completion], result: GenerationResult) {
    lock.lock()
    defer { lock.unlock() }
    let config = config ?? generationConfig
    let result = try TokenGenerator(model: model).generate(
      prompts: prompts, config: config, cache: cache,
      stopText: { [tokenizer] in tokenizer.decode($0, skipSpecialTokens: true) }, onStep: onStep)
    let completions = (0..<prompts.count).map { r in
      Completion(
        text: text(of: result.tokens[r], stopString: result.stopStringIndex[r].map { config.stopStrings[$0] }),
        tokens: result.tokens[r], promptTokens: prompts[r].count, finishReason: result.finishReasons[r])
    }
    return (completions, result)
  }

  /// Generates a continuation of `prompt`.
  public func generate(prompt: String, config: GenerationConfig? = nil) throws -> Completion {
    try generate(prompts: [encode(prompt)], config: config).completions[0]
  }

  /// Generates continuations of several prompts in one batch.
  public func generate(prompts: [String], config: GenerationConfig? = nil) throws -> [Completion] {
    try generate(prompts: prompts.map { try encode($0) }, config: config).completions
  }

  /// The continuation of `promptTokens` as text pieces, as they are generated: concatenated, they are the
  /// completion's text. Generation runs on its own thread; cancelling the consuming task stops it.
  public func stream(promptTokens: [Int], config: GenerationConfig? = nil) -> AsyncThrowingStream<String, Error> {
    let config = config ?? generationConfig
    return AsyncThrowingStream { continuation in
      let cancelled = ManagedAtomicFlag()
      continuation.onTermination = { _ in cancelled.set() }
      let thread = Thread { [self] in
        var streamer = StoppingTextStreamer(tokenizer: tokenizer, stopStrings: config.stopStrings)
        do {
          let result = try generate(prompts: [promptTokens], config: config) { tokens in
            if let t = tokens[0] {
              let piece = streamer.push(t)
              if !piece.isEmpty { continuation.yield(piece) }
            }
            return !cancelled.isSet
          }.result
          let rest = streamer.finish(stoppedBy: result.stopStringIndex[0].map { config.stopStrings[$0] })
          if !rest.isEmpty { continuation.yield(rest) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
  }

  /// The continuation of `prompt` as text pieces (see `stream(promptTokens:config:)`).
  public func stream(prompt: String, config: GenerationConfig? = nil) throws -> AsyncThrowingStream<String, Error> {
    stream(promptTokens: try encode(prompt), config: config)
  }
}

/// A flag set from one thread and read from another.
final class ManagedAtomicFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() {
    lock.lock()
    value = true
    lock.unlock()
  }
  var isSet: Bool {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
}
