import ArgumentParser
import FileIO
import Foundation
import Models
import NN
import Torch

/// `torchswift quantize`: writes a quantized copy of a model folder that every command loads directly.
struct Quantize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Quantize a model folder (BERT family or decoder-only LLM) into a new Hugging Face-style folder.",
    discussion: """
      The new folder holds the quantized tensors in model.safetensors and a quantization_config in config.json \
      (scheme, group size, the quantized layers); generate, chat, predict, eval and embed load it as any folder. \
      Prints the model's size before and after.
      """)

  @Option(help: "The model folder (config.json + safetensors).") var model: String
  @Option(help: "int8, int4 or dynamic-int8.") var scheme: String
  @Option(name: .customLong("group-size"), help: "int4: input features per scale (32, 64, 128, 256).")
  var groupSize = 128
  @Option(help: "The folder to write (created; must not be the input folder).") var output: String
  @Option(name: .customLong("skip"), help: "Also keep this layer unquantized (a name or name component; repeatable).")
  var skip: [String] = []

  func run() throws {
    guard let s = QuantizationScheme(rawValue: scheme) else {
      throw ValidationError("--scheme must be int8, int4 or dynamic-int8, got '\(scheme)'")
    }
    if s == .int4, !QuantizationScheme.int4GroupSizes.contains(groupSize) {
      throw ValidationError("--group-size must be 32, 64, 128 or 256, got \(groupSize)")
    }
    let src = (model as NSString).standardizingPath
    let dst = (output as NSString).standardizingPath
    guard src != dst else { throw ValidationError("--output must differ from --model") }
    let configPath = src + "/config.json"
    guard let data = FileManager.default.contents(atPath: configPath),
      var config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    else { throw ValidationError("\(configPath): missing or not JSON") }
    if config["quantization_config"] != nil { throw ValidationError("\(src) is already quantized") }
    let modelType = config["model_type"] as? String ?? ""
    let net: Module
    if modelType == "bert" {
      let archs = config["architectures"] as? [String] ?? []
      if archs.contains("BertForSequenceClassification") {
        net = try BertForSequenceClassification.fromPretrained(src).model
      } else {
        net = try BertModel.fromPretrained(src).model
      }
    } else {
      let dtype = AutoModelForCausalLM.storedDType(configAt: configPath) ?? .float32
      net = try AutoModelForCausalLM.fromPretrained(src, dtype: dtype).model
    }
    let report = try NN.quantize(net, scheme: s, groupSize: groupSize, skip: defaultQuantizationSkip + skip)
    guard !report.quantized.isEmpty else {
      throw ValidationError("\(src): no linear layer to quantize (GPT-2's Conv1D layers are not supported)")
    }
    print(report.description)
    try FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
    // Every other file of the folder (tokenizer, generation config, sentence-transformers modules) as it is.
    for name in try FileManager.default.contentsOfDirectory(atPath: src) {
      let weights =
        name.hasSuffix(".safetensors") || name.hasSuffix(".bin") || name == "model.safetensors.index.json"
        || name == "config.json" || name.hasPrefix(".")
      guard !weights else { continue }
      try? FileManager.default.removeItem(atPath: dst + "/" + name)
      try FileManager.default.copyItem(atPath: src + "/" + name, toPath: dst + "/" + name)
    }
    config["quantization_config"] = QuantizationConfig(report).json
    let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(json, to: dst + "/config.json")
    try Torch.saveSafetensors(
      try net.stateDict(), to: dst + "/model.safetensors",
      metadata: ["format": "pt", "quantization": s.rawValue])
    let bytes = (try? FileManager.default.attributesOfItem(atPath: dst + "/model.safetensors")[.size] as? Int) ?? 0
    print("quantize: wrote \(dst) (model.safetensors: \(bytes) bytes)")
  }
}
