import Foundation
import Models

/// How to generate: transformers' `GenerationConfig` fields, read from `generation_config.json` and overridden by
/// the caller. Defaults are transformers' (greedy unless `doSample`; when sampling, top-k 50).
public struct GenerationConfig: Decodable, Sendable {
  public var maxNewTokens: Int = 20
  public var doSample: Bool = false
  public var temperature: Double = 1.0
  public var topK: Int = 50
  public var topP: Double = 1.0
  public var minP: Double?
  public var repetitionPenalty: Double = 1.0
  /// Generation of a row stops at any of these.
  public var eosTokenIds: [Int] = []
  public var bosTokenId: Int?
  public var padTokenId: Int?
  /// Generation of a row stops once its text contains one of these; the returned text ends before it.
  public var stopStrings: [String] = []
  /// Seeds libtorch's generator before sampling, so the same seed gives the same tokens.
  public var seed: UInt64?

  public init() {}

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    func value<T: Decodable>(_ k: String, _ fallback: T) throws -> T {
      try c.decodeIfPresent(T.self, forKey: Key(k)) ?? fallback
    }
    let d = GenerationConfig()
    maxNewTokens = try value("max_new_tokens", d.maxNewTokens)
    doSample = try value("do_sample", d.doSample)
    temperature = try value("temperature", d.temperature)
    topK = try value("top_k", d.topK)
    topP = try value("top_p", d.topP)
    minP = try c.decodeIfPresent(Double.self, forKey: Key("min_p"))
    repetitionPenalty = try value("repetition_penalty", d.repetitionPenalty)
    eosTokenIds = try c.decodeIfPresent(TokenIdList.self, forKey: Key("eos_token_id"))?.ids ?? []
    bosTokenId = try c.decodeIfPresent(TokenIdList.self, forKey: Key("bos_token_id"))?.first
    padTokenId = try c.decodeIfPresent(TokenIdList.self, forKey: Key("pad_token_id"))?.first
    if let one = try? c.decodeIfPresent(String.self, forKey: Key("stop_strings")) {
      stopStrings = [one]
    } else {
      stopStrings = (try? c.decodeIfPresent([String].self, forKey: Key("stop_strings"))) ?? []
    }
  }

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// `generation_config.json` of a model folder, falling back to config.json's token ids, else the defaults.
  public static func load(directory: String) throws -> GenerationConfig {
    let path = directory + "/generation_config.json"
    var config = GenerationConfig()
    if let data = FileManager.default.contents(atPath: path) {
      do {
        config = try JSONDecoder().decode(GenerationConfig.self, from: data)
      } catch {
        throw ModelConfigError("\(path): \(error)")
      }
    }
    // config.json's ids fill what generation_config.json leaves out (transformers does the same).
    if let data = FileManager.default.contents(atPath: directory + "/config.json"),
      let ids = try? JSONDecoder().decode(ModelTokenIds.self, from: data)
    {
      if config.eosTokenIds.isEmpty { config.eosTokenIds = ids.eos?.ids ?? [] }
      if config.bosTokenId == nil { config.bosTokenId = ids.bos?.first }
      if config.padTokenId == nil { config.padTokenId = ids.pad?.first }
    }
    return config
  }

  /// Checks the values a caller may set, naming the flag-like field that is wrong.
  public func validate() throws {
    guard maxNewTokens >= 0 else { throw GenerationError("max_new_tokens must be ≥ 0, got \(maxNewTokens)") }
    guard temperature > 0 || !doSample else {
      throw GenerationError("temperature must be > 0 when sampling, got \(temperature) (use greedy decoding instead)")
    }
    guard topK >= 0 else { throw GenerationError("top_k must be ≥ 0, got \(topK)") }
    guard topP > 0, topP <= 1 else { throw GenerationError("top_p must be in (0, 1], got \(topP)") }
    if let minP, !(0...1).contains(minP) { throw GenerationError("min_p must be in [0, 1], got \(minP)") }
    guard repetitionPenalty > 0 else {
      throw GenerationError("repetition_penalty must be > 0, got \(repetitionPenalty)")
    }
  }
}

private struct ModelTokenIds: Decodable {
  var eos: TokenIdList?
  var bos: TokenIdList?
  var pad: TokenIdList?
  enum CodingKeys: String, CodingKey {
    case eos = "eos_token_id", bos = "bos_token_id", pad = "pad_token_id"
  }
}

/// A generation request that cannot be carried out (a bad parameter, a prompt longer than the context).
public struct GenerationError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ message: String) { description = message }
}
