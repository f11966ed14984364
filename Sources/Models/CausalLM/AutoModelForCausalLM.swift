import Foundation
import NN
import SafeTensors
import Torch

/// Loads any supported decoder-only model from a Hugging Face folder by its `config.json`
/// (`architectures`, else `model_type`), as transformers' `AutoModelForCausalLM.from_pretrained`.
public enum AutoModelForCausalLM {
  /// architecture → model_type, for every family TorchSwift implements.
  public static let supportedArchitectures: [(architecture: String, modelType: String)] = [
    ("LlamaForCausalLM", "llama"), ("MistralForCausalLM", "mistral"), ("Qwen2ForCausalLM", "qwen2"),
    ("Qwen3ForCausalLM", "qwen3"), ("GPT2LMHeadModel", "gpt2")
  ]

  static var supportedList: String {
    supportedArchitectures.map { "\($0.architecture) (\($0.modelType))" }.joined(separator: ", ")
  }

  /// The family of a `config.json`: its first `architectures` entry when present, else its `model_type`.
  public static func modelType(configAt path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ModelConfigError("cannot read '\(path)': no such file (a Hugging Face model folder needs config.json)")
    }
    guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw ModelConfigError("'\(path)' is not a JSON object")
    }
    if let archs = obj["architectures"] as? [String], let arch = archs.first {
      guard let match = supportedArchitectures.first(where: { $0.architecture == arch }) else {
        throw ModelConfigError(
          "\(path): architecture '\(arch)' is not supported; TorchSwift's decoder-only models are \(supportedList)")
      }
      return match.modelType
    }
    guard let type = obj["model_type"] as? String else {
      throw ModelConfigError("\(path): neither architectures nor model_type says which model this is")
    }
    guard supportedArchitectures.contains(where: { $0.modelType == type }) else {
      throw ModelConfigError(
        "\(path): model_type '\(type)' is not supported; TorchSwift's decoder-only models are \(supportedList)")
    }
    return type
  }

  static func decode<C: Decodable>(_ type: C.Type, _ path: String) throws -> C {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ModelConfigError("cannot read '\(path)': no such file")
    }
    do {
      return try JSONDecoder().decode(C.self, from: data)
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
      let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
    {
      let field = context.codingPath.map(\.stringValue).joined(separator: ".")
      throw ModelConfigError("\(path): field '\(field)': \(context.debugDescription)")
    }
  }

  /// An uninitialised model of the folder's family, built from its config.
  public static func model(configAt path: String) throws -> any CausalLanguageModel {
    switch try modelType(configAt: path) {
    case "llama": return try LlamaForCausalLM(decode(LlamaConfig.self, path).spec(file: path), modelType: "llama")
    case "mistral":
      return try MistralForCausalLM(decode(MistralConfig.self, path).spec(file: path), modelType: "mistral")
    case "qwen2": return try Qwen2ForCausalLM(decode(Qwen2Config.self, path).spec(file: path), modelType: "qwen2")
    case "qwen3": return try Qwen3ForCausalLM(decode(Qwen3Config.self, path).spec(file: path), modelType: "qwen3")
    case "gpt2":
      let config = try decode(GPT2Config.self, path)
      try config.validate(file: path)
      return try GPT2LMHeadModel(config)
    default: throw ModelConfigError("\(path): unsupported model")
    }
  }

  /// The dtype the folder's weights are stored in (`torch_dtype`/`dtype` of config.json), if it says.
  public static func storedDType(configAt path: String) -> DType? {
    guard let data = FileManager.default.contents(atPath: path),
      let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let name = (obj["torch_dtype"] ?? obj["dtype"]) as? String
    else { return nil }
    switch name {
    case "float32": return .float32
    case "float16": return .float16
    case "bfloat16": return .bfloat16
    default: return nil
    }
  }

  /// Loads the folder's model onto `device` with floating-point weights in `dtype` (default: float32 on the CPU;
  /// on CUDA, the folder's own 16-bit dtype or bfloat16).
  ///
  /// Each tensor is copied from the memory-mapped file straight into its parameter and the file's pages are
  /// released after it, so loading never holds two full copies of the weights. Errors name the file and tensor:
  /// a missing shard, a tensor the checkpoint lacks, a shape that differs from what config.json implies.
  public static func fromPretrained(_ directory: String, device: Device = .cpu, dtype: DType? = nil) throws
    -> (model: any CausalLanguageModel, report: LoadReport)
  {
    let configPath = directory + "/config.json"
    let model = try self.model(configAt: configPath)
    try QuantizationConfig.read(configAt: configPath)?.prepare(model)  // a folder `torchswift quantize` wrote
    let target: DType
    if let dtype {
      guard dtype.isFloatingPoint else {
        throw ModelConfigError("--dtype must be a floating-point dtype, got \(dtype)")
      }
      target = dtype
    } else if device == .cpu {
      target = .float32
    } else {
      let stored = storedDType(configAt: configPath)
      target = stored == .float16 ? .float16 : .bfloat16
    }
    let shards = try CheckpointShards(directory: directory)
    let report = try load(shards, into: model, device: device, dtype: target)
    model.eval()
    return (model, report)
  }

  /// Keys checkpoints carry that are not weights (buffers older transformers saved).
  static func isIgnorable(_ key: String) -> Bool {
    key.hasSuffix(".rotary_emb.inv_freq") || key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias")
  }

  /// Copies every parameter of `model` from `shards`, replacing each parameter's storage with a fresh tensor of
  /// the target dtype and device (the never-touched initial storage is freed without being read).
  public static func load(_ shards: CheckpointShards, into model: Module, device: Device, dtype: DType) throws
    -> LoadReport
  {
    var report = LoadReport(checkpoint: shards.directory, modelName: model.typeName)
    var used = Set<String>()
    var missing: [String] = []
    let entries = model.namedParameters() + model.namedBuffers()
    // Check every name and shape before copying anything.
    var plan: [(key: String, source: String, tensor: Tensor)] = []
    for (key, tensor) in entries {
      var source = key
      if shards.location[source] == nil, key.hasPrefix("transformer.") {
        source = String(key.dropFirst("transformer.".count))  // original GPT-2 checkpoints have no prefix
      }
      guard let file = shards.location[source] else {
        missing.append(key)
        continue
      }
      let info = try file.info(source)
      guard info.shape == tensor.shape else {
        throw ModelConfigError(
          "\(file.path): tensor '\(source)' has shape \(info.shape), but config.json implies \(tensor.shape)")
      }
      guard DType(safetensors: info.dtype) != nil else {
        throw ModelConfigError(
          "\(file.path): tensor '\(source)' has dtype \(info.dtype.rawValue), which TorchSwift cannot load")
      }
      plan.append((key, source, tensor))
      used.insert(source)
    }
    guard missing.isEmpty else {
      let files = shards.files.map { ($0.path as NSString).lastPathComponent }.joined(separator: ", ")
      throw ModelConfigError(
        "\(shards.directory): the checkpoint (\(files)) lacks \(missing.count) tensor(s) the model needs: "
          + missing.prefix(8).joined(separator: ", ") + (missing.count > 8 ? ", …" : ""))
    }
    try withNoGrad {
      for (_, source, tensor) in plan {
        let file = shards.location[source]!
        let stored = DType(safetensors: try file.info(source).dtype)!
        let want = tensor.dtype.isFloatingPoint && stored.isFloatingPoint ? dtype : stored
        let fresh = try Tensor.empty(tensor.shape, dtype: want, device: device)
        try file.copy(source, into: fresh)
        try tensor.setData(fresh)
      }
    }
    report.unexpectedKeys = shards.location.keys.filter { !used.contains($0) && !isIgnorable($0) }
      .filter { !($0 == "lm_head.weight" && model.namedParameters().allSatisfy { $0.0 != "lm_head.weight" }) }
      .sorted()
    return report
  }
}
