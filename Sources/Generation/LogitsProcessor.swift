import Torch

/// Changes next-token scores `[B, V]` (float32) given the ids so far `[B, L]`, as transformers'
/// `LogitsProcessor`s do; applied in a chain (`LogitsProcessorList`).
public protocol LogitsProcessor {
  func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor
}

/// `RepetitionPenaltyLogitsProcessor`: scores of tokens already in `inputIds` (the prompt, its padding and the
/// tokens generated) are divided by the penalty when positive and multiplied by it when negative.
public struct RepetitionPenaltyLogitsProcessor: LogitsProcessor {
  public let penalty: Double
  public init(penalty: Double) { self.penalty = penalty }

  public func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor {
    let seen = try scores.gather(dim: 1, index: inputIds)  // [B, L]
    let penalised = try ATen.where_self(
      seen.lt(.int(0)), self: seen.mul(.double(penalty)), other: seen.div(.double(penalty)))
    return try scores.scatter(dim: 1, index: inputIds, src: penalised)  // [B, V]
  }
}

/// `TemperatureLogitsWarper`: scores / temperature.
public struct TemperatureLogitsWarper: LogitsProcessor {
  public let temperature: Double
  public init(temperature: Double) { self.temperature = temperature }
  public func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor {
    try scores.div(.double(temperature))
  }
}

/// `TopKLogitsWarper`: scores below the k-th largest become -inf.
public struct TopKLogitsWarper: LogitsProcessor {
  public let topK: Int
  public init(topK: Int) { self.topK = topK }
  public func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor {
    let k = min(topK, try scores.size(-1))
    let kth = try scores.topk(k).values.narrow(dim: -1, start: k - 1, length: 1)  // [B, 1]
    return try scores.maskedFill(scores.lt(kth), .double(-Double.infinity))
  }
}

/// `TopPLogitsWarper`: keeps the smallest set of most likely tokens whose probabilities add up to more than
/// `topP` (nucleus sampling); the rest become -inf.
public struct TopPLogitsWarper: LogitsProcessor {
  public let topP: Double
  public let minTokensToKeep: Int
  public init(topP: Double, minTokensToKeep: Int = 1) {
    self.topP = topP
    self.minTokensToKeep = minTokensToKeep
  }
  public func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor {
    let (sorted, indices) = try scores.sort(dim: -1, descending: false)  // ascending, [B, V]
    let cumulative = try sorted.softmax(dim: -1).cumsum(dim: -1)  // [B, V]
    let v = try scores.size(-1)
    var remove = try cumulative.le(.double(1 - topP))  // [B, V]
    let keep = min(minTokensToKeep, v)
    try remove.narrow(dim: -1, start: v - keep, length: keep).fill_(.bool(false))
    remove = try remove.scatter(dim: 1, index: indices, src: remove)  // back to vocabulary order
    return try scores.maskedFill(remove, .double(-Double.infinity))
  }
}

/// `MinPLogitsWarper`: tokens whose probability is below `minP` × the top token's probability become -inf.
public struct MinPLogitsWarper: LogitsProcessor {
  public let minP: Double
  public let minTokensToKeep: Int
  public init(minP: Double, minTokensToKeep: Int = 1) {
    self.minP = minP
    self.minTokensToKeep = minTokensToKeep
  }
  public func callAsFunction(inputIds: Tensor, scores: Tensor) throws -> Tensor {
    let probs = try scores.softmax(dim: -1)  // [B, V]
    let top = try probs.max(dim: -1, keepdim: true).values  // [B, 1]
    let remove = try probs.lt(top.mul(.double(minP)))  // [B, V]
    let order = try scores.argsort(dim: -1, descending: true)  // [B, V]
    let sortedRemove = try remove.gather(dim: -1, index: order)
    let keep = min(minTokensToKeep, try scores.size(-1))
    try sortedRemove.narrow(dim: -1, start: 0, length: keep).fill_(.bool(false))
    let back = try sortedRemove.scatter(dim: 1, index: order, src: sortedRemove)
    return try scores.maskedFill(back, .double(-Double.infinity))
  }
}

/// The processors transformers' `generate` builds for a config, in its order: repetition penalty; then, when
/// sampling, temperature, top-k, top-p and min-p.
public func logitsProcessors(for config: GenerationConfig) -> [LogitsProcessor] {
  var chain: [LogitsProcessor] = []
  if config.repetitionPenalty != 1 { chain.append(RepetitionPenaltyLogitsProcessor(penalty: config.repetitionPenalty)) }
  guard config.doSample else { return chain }
  if config.temperature != 1 { chain.append(TemperatureLogitsWarper(temperature: config.temperature)) }
  if config.topK != 0 { chain.append(TopKLogitsWarper(topK: config.topK)) }
  if config.topP < 1 { chain.append(TopPLogitsWarper(topP: config.topP)) }
  if let minP = config.minP { chain.append(MinPLogitsWarper(minP: minP)) }
  return chain
}
