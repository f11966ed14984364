import Foundation
import Models
import Torch

/// Which KV cache the decode loop keeps.
public enum KVCacheKind: String, CaseIterable, Sendable {
  /// Preallocated for prompt + new tokens, written in place (the default).
  case `static`
  /// Grows by concatenation every step.
  case dynamic
  /// No cache: every step runs the whole sequence again (slow; the reference for the cached paths).
  case none
}

/// Why a sequence stopped.
public enum FinishReason: String, Sendable, Equatable {
  /// An end-of-sequence token or a stop string.
  case stop
  /// `max_new_tokens` (or the model's position limit) reached.
  case length
}

/// The tokens of one generate call, and how long it took.
public struct GenerationResult: Sendable {
  /// Per row, the generated tokens up to and including the one that stopped it (an EOS token is kept, as
  /// transformers keeps it).
  public var tokens: [[Int]]
  /// Per row, `tokens` padded with the pad id to the number of steps run: transformers' `generate` output
  /// without the prompt.
  public var paddedTokens: [[Int]]
  public var finishReasons: [FinishReason]
  /// Per row, the index in `stopStrings` of the stop string that ended it, if one did.
  public var stopStringIndex: [Int?]
  public var promptTokenCounts: [Int]
  /// Seconds for the prompt pass (prefill) including choosing the first token.
  public var prefillSeconds: Double
  /// Seconds for the remaining steps.
  public var decodeSeconds: Double
  /// Steps after the first (each one new token per unfinished row).
  public var decodeSteps: Int

  public var prefillTokensPerSecond: Double {
    prefillSeconds > 0 ? Double(promptTokenCounts.reduce(0, +)) / prefillSeconds : 0
  }
  /// New tokens per second over the decode steps, all rows together.
  public var decodeTokensPerSecond: Double {
    decodeSeconds > 0 ? Double(decodeSteps * max(tokens.count, 1)) / decodeSeconds : 0
  }
}

/// The decode loop over a `CausalLanguageModel`: prefill the (left-padded) prompts, then one token per step
/// with the KV cache, logits processors and greedy or seeded sampling, stopping each row on its own (EOS ids,
/// stop strings via `stopText`) — transformers' `generate` for `num_beams = 1`.
public final class TokenGenerator {
  public let model: any CausalLanguageModel

  /// Why the last `generate` on CUDA ran its decode steps eagerly instead of as a captured graph (nil: it did not).
  public private(set) var graphFallback: String?

  public init(model: any CausalLanguageModel) { self.model = model }

  /// Generates for a batch of prompts (token ids; they need not share a length).
  ///
  /// - `stopText`: the text of a row's generated tokens, when `config.stopStrings` is not empty.
  /// - `onStep`: called after every step with the new token of each row (nil for rows already finished);
  ///   returning false stops generation (the rows still running finish with `.length`).
  ///
  /// With the static cache, decode steps run as one captured CUDA graph (`cudaGraph`: nil = on CUDA devices
  /// whenever the model allows it; true forces the graph path, which on the CPU runs the same step eagerly).
  public func generate(
    prompts: [[Int]], config: GenerationConfig, cache kind: KVCacheKind = .static, cudaGraph: Bool? = nil,
    stopText: (([Int]) -> String)? = nil, onStep: (([Int?]) throws -> Bool)? = nil
  ) throws -> GenerationResult {
    try config.validate()
    graphFallback = nil
    guard !prompts.isEmpty else { throw GenerationError("no prompts to generate from") }
    for (i, p) in prompts.enumerated() where p.isEmpty {
      throw GenerationError("prompt \(i) is empty: generation needs at least one token (a BOS token, say)")
    }
    let vocab = model.vocabularySize
    for (i, p) in prompts.enumerated() {
      if let bad = p.first(where: { $0 < 0 || $0 >= vocab }) {
        throw GenerationError("prompt \(i) holds token id \(bad), outside the model's vocabulary of \(vocab)")
      }
    }
    let limit = model.maxPositionEmbeddings
    let learnedPositions = model is GPT2LMHeadModel
    let dynamicRope = ((model as? LlamaForCausalLM)?.spec.ropeScaling?.ropeType ?? "") == "dynamic"
    let longest = prompts.map(\.count).max()!
    if longest > limit && !dynamicRope {
      throw GenerationError(
        "the prompt is \(longest) tokens long, longer than the model's context of \(limit) tokens (max_position_embeddings)"
      )
    }
    var maxNew = config.maxNewTokens
    if learnedPositions { maxNew = min(maxNew, limit - longest) }  // no positions past n_positions
    if let seed = config.seed { Torch.manualSeed(seed) }

    let b = prompts.count
    let pad = config.padTokenId ?? config.eosTokenIds.first ?? 0
    let device = model.device
    let padded = prompts.map { Array(repeating: pad, count: longest - $0.count) + $0 }
    let hasPadding = prompts.contains { $0.count != longest }
    var mask = prompts.map { Array(repeating: 0, count: longest - $0.count) + Array(repeating: 1, count: $0.count) }
    var positions = mask.map { row -> [Int] in
      var seen = 0
      return row.map { m in
        if m == 1 { seen += 1; return seen - 1 }
        return 1
      }
    }
    var sequences = padded
    let processors = logitsProcessors(for: config)
    let eos = Set(config.eosTokenIds)
    var generated = Array(repeating: [Int](), count: b)
    var paddedOut = Array(repeating: [Int](), count: b)
    var finished = Array(repeating: false, count: b)
    var reasons = Array(repeating: FinishReason.length, count: b)
    var stopIndex: [Int?] = Array(repeating: nil, count: b)

    let cache: KVCache?
    switch kind {
    case .static: cache = maxNew > 0 ? try model.makeStaticCache(batchSize: b, capacity: longest + maxNew) : nil
    case .dynamic: cache = model.makeDynamicCache()
    case .none: cache = nil
    }

    let staticCache = cache as? StaticKVCache
    let useGraph = staticCache != nil && (cudaGraph ?? device.isCUDA) && !model.needsHostSync
    var graphStep: CUDAGraphStep?
    let windows = model.attentionWindows
    /// One decode step through the captured graph: the step's inputs are the tokens, positions, cache position and
    /// masks (device tensors of fixed shapes); its output the float32 scores `[B, V]`.
    func graphDecode(_ input: Tensor, _ positions: Tensor, padding: Tensor?) throws -> Tensor {
      let cache = staticCache!
      let offset = cache.length
      let masks = try windows.map { w in
        try AttentionMask.make(
          padding: padding, queryLength: 1, offset: offset, keyLength: cache.maxLength, window: w, device: device,
          explicit: true
        ).tensor!
      }
      let inputs = [input, positions, try Tensor([Int64(offset)], device: device)] + masks
      if graphStep == nil {
        graphStep = try CUDAGraphStep(example: inputs) { [model] step in
          cache.writeIndex = step[2]
          cache.graphMasks = Dictionary(uniqueKeysWithValues: zip(windows, step[3...]))
          defer {
            cache.writeIndex = nil
            cache.graphMasks = nil
          }
          let logits = try model(
            inputIds: step[0], attentionMask: nil, positionIds: step[1], cache: cache, logitsToKeep: 1)
          return [try logits.select(dim: 1, index: 0).to(dtype: .float32)]  // [B, V]
        }
      }
      let scores = try graphStep!(inputs)[0]
      cache.setLength(offset + 1)
      return scores
    }

    func tensor(_ rows: [[Int]]) throws -> Tensor {
      try Tensor(rows.flatMap { $0 }.map { Int64($0) }, shape: [rows.count, rows[0].count], device: device)
    }

    let start = Date()
    var prefillSeconds = 0.0
    var steps = 0
    try withNoGrad {
      var input = try tensor(padded)  // [B, T]
      var inputPositions = try tensor(positions)
      var inputMask = hasPadding ? try tensor(mask) : nil
      while steps < maxNew {
        var scores: Tensor
        if useGraph && steps > 0 {
          scores = try graphDecode(input, inputPositions, padding: inputMask)  // [B, V]
        } else {
          let logits = try model(
            inputIds: input, attentionMask: inputMask, positionIds: inputPositions, cache: cache, logitsToKeep: 1)
          scores = try logits.select(dim: 1, index: 0).to(dtype: .float32)  // [B, V]
        }
        if !processors.isEmpty {
          let history = try tensor(sequences)  // [B, L]
          for p in processors { scores = try p(inputIds: history, scores: scores) }
        }
        let next: Tensor
        if config.doSample {
          next = try scores.softmax(dim: -1).multinomial(1).squeeze(1)  // [B]
        } else {
          next = try scores.argmax(dim: -1)  // [B]
        }
        let chosen = try next.toArray(Int64.self).map { Int($0) }
        steps += 1
        if steps == 1 { prefillSeconds = Date().timeIntervalSince(start) }
        var stepTokens: [Int?] = Array(repeating: nil, count: b)
        for r in 0..<b {
          let token = finished[r] ? pad : chosen[r]
          sequences[r].append(token)
          paddedOut[r].append(token)
          guard !finished[r] else { continue }
          generated[r].append(token)
          stepTokens[r] = token
          if eos.contains(token) {
            finished[r] = true
            reasons[r] = .stop
          } else if !config.stopStrings.isEmpty, let stopText {
            let text = stopText(generated[r])
            if let i = config.stopStrings.firstIndex(where: { !$0.isEmpty && text.contains($0) }) {
              finished[r] = true
              reasons[r] = .stop
              stopIndex[r] = i
            }
          }
        }
        if let onStep, try !onStep(stepTokens) { break }
        if finished.allSatisfy({ $0 }) || steps == maxNew { break }
        // The next pass: one token per row (or, without a cache, the whole sequence again).
        for r in 0..<b {
          mask[r].append(1)
          positions[r].append(positions[r].last! + 1)
        }
        if cache == nil {
          input = try tensor(sequences)
          inputPositions = try tensor(positions)
          inputMask = hasPadding ? try tensor(mask) : nil
        } else {
          input = try next.to(dtype: .int64).view(b, 1)
          if finished.contains(true) { input = try tensor(sequences.map { [$0.last!] }) }
          inputPositions = try tensor(positions.map { [$0.last!] })
          inputMask = hasPadding ? try tensor(mask) : nil
        }
      }
    }
    let total = Date().timeIntervalSince(start)
    if let graphStep, case .eager(let reason) = graphStep.mode, device.isCUDA {
      graphFallback = reason
    }
    return GenerationResult(
      tokens: generated, paddedTokens: paddedOut, finishReasons: reasons, stopStringIndex: stopIndex,
      promptTokenCounts: prompts.map(\.count), prefillSeconds: prefillSeconds,
      decodeSeconds: max(total - prefillSeconds, 0), decodeSteps: max(steps - 1, 0))
  }
}
