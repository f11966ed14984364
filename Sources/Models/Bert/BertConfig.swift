import Foundation
import Torch

/// A BERT configuration read from a Hugging Face `config.json` (same field names as `transformers.BertConfig`).
/// Fields TorchSwift does not use are kept and written back by `save(to:)`.
public struct BertConfig {
  public var vocabSize = 30522
  public var hiddenSize = 768
  public var numHiddenLayers = 12
  public var numAttentionHeads = 12
  public var intermediateSize = 3072
  public var hiddenAct = "gelu"
  public var hiddenDropoutProb = 0.1
  public var attentionProbsDropoutProb = 0.1
  public var maxPositionEmbeddings = 512
  public var typeVocabSize = 2
  public var initializerRange = 0.02
  public var layerNormEps = 1e-12
  public var padTokenId = 0
  public var positionEmbeddingType = "absolute"
  public var classifierDropout: Double? = nil
  /// Class names by id (`id2label`); its count is `num_labels`.
  public var id2label: [Int: String] = [0: "LABEL_0", 1: "LABEL_1"]
  public var problemType: String? = nil
  public var architectures: [String]? = nil
  /// Every field of the original file (unknown ones included).
  public var raw: [String: Any] = [:]

  public var numLabels: Int { id2label.count }
  public var label2id: [String: Int] {
    Dictionary(id2label.map { ($0.value, $0.key) }, uniquingKeysWith: { a, _ in a })
  }

  public init() {}

  /// Reads `config.json`; errors name the file and the field.
  public init(contentsOf path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ModelConfigError("cannot read BERT config '\(path)': no such file")
    }
    guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw ModelConfigError("'\(path)' is not a JSON object")
    }
    try self.init(json: obj, path: path)
  }

  public init(json obj: [String: Any], path: String = "config.json") throws {
    raw = obj
    func int(_ k: String, _ d: Int) throws -> Int {
      guard let v = obj[k], !(v is NSNull) else { return d }
      guard let n = v as? NSNumber, Double(n.intValue) == n.doubleValue else {
        throw ModelConfigError("\(path): field '\(k)' must be an integer, got \(v)")
      }
      return n.intValue
    }
    func double(_ k: String, _ d: Double) throws -> Double {
      guard let v = obj[k], !(v is NSNull) else { return d }
      guard let n = v as? NSNumber else { throw ModelConfigError("\(path): field '\(k)' must be a number, got \(v)") }
      return n.doubleValue
    }
    func string(_ k: String, _ d: String) throws -> String {
      guard let v = obj[k], !(v is NSNull) else { return d }
      guard let s = v as? String else { throw ModelConfigError("\(path): field '\(k)' must be a string, got \(v)") }
      return s
    }
    if let mt = obj["model_type"] as? String, mt != "bert" {
      throw ModelConfigError(
        "\(path): model_type is '\(mt)'; TorchSwift loads BERT-family checkpoints (model_type \"bert\")")
    }
    vocabSize = try int("vocab_size", vocabSize)
    hiddenSize = try int("hidden_size", hiddenSize)
    numHiddenLayers = try int("num_hidden_layers", numHiddenLayers)
    numAttentionHeads = try int("num_attention_heads", numAttentionHeads)
    intermediateSize = try int("intermediate_size", intermediateSize)
    hiddenAct = try string("hidden_act", hiddenAct)
    hiddenDropoutProb = try double("hidden_dropout_prob", hiddenDropoutProb)
    attentionProbsDropoutProb = try double("attention_probs_dropout_prob", attentionProbsDropoutProb)
    maxPositionEmbeddings = try int("max_position_embeddings", maxPositionEmbeddings)
    typeVocabSize = try int("type_vocab_size", typeVocabSize)
    initializerRange = try double("initializer_range", initializerRange)
    layerNormEps = try double("layer_norm_eps", layerNormEps)
    padTokenId = try int("pad_token_id", padTokenId)
    positionEmbeddingType = try string("position_embedding_type", positionEmbeddingType)
    if let v = obj["classifier_dropout"], !(v is NSNull) { classifierDropout = try double("classifier_dropout", 0) }
    problemType = obj["problem_type"] as? String
    architectures = obj["architectures"] as? [String]
    if let m = obj["id2label"] as? [String: Any] {
      var labels: [Int: String] = [:]
      for (k, v) in m {
        guard let i = Int(k), let name = v as? String else {
          throw ModelConfigError("\(path): id2label entry \(k): \(v) must map an integer id to a string")
        }
        labels[i] = name
      }
      guard Set(labels.keys) == Set(0..<labels.count) else {
        throw ModelConfigError("\(path): id2label ids must be 0..<\(labels.count), got \(labels.keys.sorted())")
      }
      id2label = labels
    } else if obj["num_labels"] != nil {
      let n = try int("num_labels", 2)
      id2label = Dictionary(uniqueKeysWithValues: (0..<n).map { ($0, "LABEL_\($0)") })
    }
    try validate(path: path)
  }

  /// Checks the values make a valid model.
  public func validate(path: String = "config") throws {
    guard hiddenSize > 0, numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
      throw ModelConfigError(
        "\(path): hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
    }
    guard numHiddenLayers >= 0, vocabSize > 0, intermediateSize > 0, maxPositionEmbeddings > 0, typeVocabSize > 0 else {
      throw ModelConfigError("\(path): sizes must be positive")
    }
    guard ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh", "gelu_fast"].contains(hiddenAct)
    else {
      throw ModelConfigError(
        "\(path): hidden_act '\(hiddenAct)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, tanh)"
      )
    }
    guard positionEmbeddingType == "absolute" else {
      throw ModelConfigError(
        "\(path): position_embedding_type '\(positionEmbeddingType)' is not supported (absolute only)")
    }
  }

  /// The JSON written by `save(to:)`: the original fields updated with this configuration.
  public func json(architecture: String?) -> [String: Any] {
    var o = raw
    o["model_type"] = "bert"
    o["vocab_size"] = vocabSize
    o["hidden_size"] = hiddenSize
    o["num_hidden_layers"] = numHiddenLayers
    o["num_attention_heads"] = numAttentionHeads
    o["intermediate_size"] = intermediateSize
    o["hidden_act"] = hiddenAct
    o["hidden_dropout_prob"] = hiddenDropoutProb
    o["attention_probs_dropout_prob"] = attentionProbsDropoutProb
    o["max_position_embeddings"] = maxPositionEmbeddings
    o["type_vocab_size"] = typeVocabSize
    o["initializer_range"] = initializerRange
    o["layer_norm_eps"] = layerNormEps
    o["pad_token_id"] = padTokenId
    o["position_embedding_type"] = positionEmbeddingType
    o["classifier_dropout"] = classifierDropout.map { $0 as Any } ?? NSNull()
    o["id2label"] = Dictionary(uniqueKeysWithValues: id2label.map { (String($0.key), $0.value) })
    o["label2id"] = label2id
    if let problemType { o["problem_type"] = problemType }
    if let architecture { o["architectures"] = [architecture] }
    o["torch_dtype"] = o["torch_dtype"] ?? "float32"
    return o
  }

  /// Applies the activation named by `hidden_act`.
  func activation(_ x: Tensor) throws -> Tensor {
    switch hiddenAct {
    case "gelu": return try x.gelu()
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return try x.gelu(approximate: "tanh")
    case "relu": return try x.relu()
    case "silu", "swish": return try x.silu()
    default: return try x.tanh()
    }
  }
}
