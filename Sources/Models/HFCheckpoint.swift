import FileIO
import Foundation
import NN
import SafeTensors
import Torch

/// What loading a checkpoint into a model found, reported as transformers does.
public struct LoadReport: CustomStringConvertible {
  public var checkpoint: String
  public var modelName: String
  /// Model keys the checkpoint lacked (newly initialised).
  public var missingKeys: [String] = []
  /// Checkpoint keys the model has no place for (ignored).
  public var unexpectedKeys: [String] = []

  public var description: String {
    var lines: [String] = []
    if !unexpectedKeys.isEmpty {
      lines.append(
        "Some weights of the model checkpoint at \(checkpoint) were not used when initializing \(modelName): \(unexpectedKeys)"
      )
    }
    if !missingKeys.isEmpty {
      lines.append(
        "Some weights of \(modelName) were not initialized from the model checkpoint at \(checkpoint) and are newly initialized: \(missingKeys)"
      )
      lines.append(
        "You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference."
      )
    }
    return lines.joined(separator: "\n")
  }
}

/// Reading and writing Hugging Face model folders (config.json + model.safetensors / pytorch_model.bin).
public enum HFCheckpoint {
  /// The weights of a folder: `model.safetensors` (memory-mapped), else `pytorch_model.bin` (torch.save).
  public static func weights(in dir: String, device: Device = .cpu) throws -> [String: Tensor] {
    let st = dir + "/model.safetensors"
    let bin = dir + "/pytorch_model.bin"
    var raw: [String: Tensor]
    if FileManager.default.fileExists(atPath: st) {
      raw = try Torch.loadSafetensors(st, device: device)
    } else if FileManager.default.fileExists(atPath: bin) {
      raw = try Torch.load(bin).mapValues { try $0.to(device: device) }
    } else if FileManager.default.fileExists(atPath: dir + "/model.safetensors.index.json") {
      raw = try shardedWeights(dir, device: device)
    } else {
      throw ModelConfigError("no model weights in '\(dir)': expected model.safetensors or pytorch_model.bin")
    }
    // Old TensorFlow-converted checkpoints name LayerNorm parameters gamma/beta, as transformers renames.
    var out: [String: Tensor] = [:]
    for (k, v) in raw {
      var key = k
      if key.hasSuffix(".gamma") { key = String(key.dropLast(6)) + ".weight" }
      if key.hasSuffix(".beta") { key = String(key.dropLast(5)) + ".bias" }
      out[key] = v
    }
    return out
  }

  static func shardedWeights(_ dir: String, device: Device) throws -> [String: Tensor] {
    let indexPath = dir + "/model.safetensors.index.json"
    guard let data = FileManager.default.contents(atPath: indexPath),
      let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let map = obj["weight_map"] as? [String: String]
    else { throw ModelConfigError("\(indexPath): not a safetensors index (weight_map missing)") }
    var out: [String: Tensor] = [:]
    for file in Set(map.values).sorted() {
      for (k, v) in try Torch.loadSafetensors(dir + "/" + file, device: device) { out[k] = v }
    }
    return out
  }

  /// Loads `checkpoint` into `model`, whose keys start with `prefix` for the base model ("bert." in heads):
  /// checkpoint keys with or without the prefix are accepted, as transformers does. Keys listed in
  /// `ignoredUnexpected` (buffers older checkpoints saved, e.g. position_ids) are dropped silently.
  public static func load(
    _ checkpoint: [String: Tensor], into model: Module, basePrefix: String, path: String,
    ignoredUnexpected: [String] = ["embeddings.position_ids"]
  ) throws -> LoadReport {
    let own = Set(try model.stateDict().keys)
    let ckptHasPrefix = !basePrefix.isEmpty && checkpoint.keys.contains { $0.hasPrefix(basePrefix) }
    let modelHasPrefix = !basePrefix.isEmpty && own.contains { $0.hasPrefix(basePrefix) }
    var mapped: [String: Tensor] = [:]
    var unexpected: [String] = []
    for (k, v) in checkpoint {
      var key = k
      if modelHasPrefix && !ckptHasPrefix { key = basePrefix + k }  // base checkpoint into a model with a head
      if !modelHasPrefix && ckptHasPrefix {  // head checkpoint into the base model
        guard k.hasPrefix(basePrefix) else { unexpected.append(k); continue }
        key = String(k.dropFirst(basePrefix.count))
      }
      let bare = key.hasPrefix(basePrefix) ? String(key.dropFirst(basePrefix.count)) : key
      if !own.contains(key) {
        if !ignoredUnexpected.contains(bare) { unexpected.append(k) }
        continue
      }
      mapped[key] = v
    }
    do {
      let r = try model.load(stateDict: mapped, strict: false)
      return LoadReport(
        checkpoint: path, modelName: model.typeName, missingKeys: r.missingKeys.sorted(),
        unexpectedKeys: unexpected.sorted())
    } catch {
      throw TorchError("\(path): \(error)")
    }
  }

  /// Writes `config.json` and `model.safetensors` (and copies the tokenizer files from `tokenizerDir`).
  public static func save(model: Module, config: [String: Any], to dir: String, tokenizerDir: String?) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var cfg = config
    cfg["transformers_version"] = cfg["transformers_version"] ?? "4.57.1"
    let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(json, to: dir + "/config.json")
    try Torch.saveSafetensors(try model.stateDict(), to: dir + "/model.safetensors", metadata: ["format": "pt"])
    if let tokenizerDir {
      for name in ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"] {
        let src = tokenizerDir + "/" + name
        let dst = dir + "/" + name
        guard FileManager.default.fileExists(atPath: src), src != dst else { continue }
        try? FileManager.default.removeItem(atPath: dst)
        try FileManager.default.copyItem(atPath: src, toPath: dst)
      }
    }
  }
}

extension BertModel {
  /// Loads a Hugging Face BERT folder (config.json + weights).
  public static func fromPretrained(_ dir: String, device: Device = .cpu, addPoolingLayer: Bool = true) throws
    -> (model: BertModel, report: LoadReport)
  {
    let config = try BertConfig(contentsOf: dir + "/config.json")
    let model = try BertModel(config, addPoolingLayer: addPoolingLayer)
    try QuantizationConfig.read(configAt: dir + "/config.json")?.prepare(model)  // a folder `torchswift quantize` wrote
    try model.to(device: device)
    let report = try HFCheckpoint.load(
      try HFCheckpoint.weights(in: dir, device: device), into: model, basePrefix: "bert.",
      path: dir,
      ignoredUnexpected: ["embeddings.position_ids"]
        + (addPoolingLayer ? [] : ["pooler.dense.weight", "pooler.dense.bias"]))
    return (model.eval(), report)
  }
}

extension BertForSequenceClassification {
  /// Loads a folder holding a classification model or a base BERT (whose new classifier head is initialised
  /// with N(0, initializer_range), as transformers does). `id2label` overrides the folder's labels.
  public static func fromPretrained(_ dir: String, id2label: [Int: String]? = nil, device: Device = .cpu) throws
    -> (model: BertForSequenceClassification, report: LoadReport)
  {
    var config = try BertConfig(contentsOf: dir + "/config.json")
    if let id2label { config.id2label = id2label }
    let model = try BertForSequenceClassification(config)
    try QuantizationConfig.read(configAt: dir + "/config.json")?.prepare(model)  // a folder `torchswift quantize` wrote
    try model.to(device: device)
    let report = try HFCheckpoint.load(
      try HFCheckpoint.weights(in: dir, device: device), into: model, basePrefix: "bert.",
      path: dir)
    return (model.eval(), report)
  }

  /// Writes an HF-layout folder that `AutoModelForSequenceClassification.from_pretrained` loads.
  public func save(to dir: String, tokenizerDir: String? = nil) throws {
    try HFCheckpoint.save(
      model: self, config: config.json(architecture: "BertForSequenceClassification"), to: dir,
      tokenizerDir: tokenizerDir)
  }
}
