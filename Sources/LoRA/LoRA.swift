import FileIO
import Foundation
import Models
import NN
import SafeTensors
import Torch

/// Low-rank adaptation of a model, in PEFT's format: wrap the layers a `LoRAConfig` names, train only the
/// adapters (and `modules_to_save`, and biases as `bias` says), save and load `adapter_config.json` +
/// `adapter_model.safetensors` that `peft` reads and writes, merge the adapters into the base weights for export.
public enum LoRA {
  /// PEFT's key prefix in `adapter_model.safetensors`.
  public static let keyPrefix = "base_model.model."
  /// Output layers `all-linear` leaves alone (PEFT excludes the output embedding layer).
  static let outputLayers = ["lm_head", "classifier", "score"]

  /// Whether the module at `path` is a target (PEFT's `check_target_module_exists`).
  static func isTarget(_ path: String, _ config: LoRAConfig) -> Bool {
    switch config.targetModules {
    case .names(let names): return names.contains { path == $0 || path.hasSuffix("." + $0) }
    case .regex(let pattern):
      guard let re = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else { return false }
      return re.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    case .allLinear:
      let last = path.split(separator: ".").last.map(String.init) ?? path
      return !outputLayers.contains(last)
    }
  }

  static func isModuleToSave(_ path: String, _ config: LoRAConfig) -> Bool {
    config.modulesToSave.contains { path == $0 || path.hasSuffix("." + $0) }
  }

  /// The adapter layers of a model, by path.
  public static func layers(of model: Module) -> [(path: String, layer: LoRALayer)] {
    model.namedModules().compactMap { path, m in (m as? LoRALayer).map { (path, $0) } }
  }

  /// Wraps every target `Linear`/`Conv1D` of `model` with a LoRA adapter and freezes the rest (except
  /// `modules_to_save` and the biases `bias` selects). Returns the wrapped paths; throws when nothing matches.
  @discardableResult
  public static func apply(_ config: LoRAConfig, to model: Module) throws -> [String] {
    try config.validate()
    var wrapped: [String] = []
    let saved = model.namedModules().filter { isModuleToSave($0.0, config) }.map(\.0)
    for (path, module) in model.namedModules() where !path.isEmpty {
      guard !(module is LoRALayer), isTarget(path, config) else { continue }
      guard !saved.contains(where: { path == $0 || path.hasPrefix($0 + ".") }) else { continue }
      let adapter: Module
      if let linear = module as? Linear {
        adapter = try LoRALinear(wrapping: linear, r: config.r, scaling: config.scaling, dropout: config.loraDropout)
      } else if let conv = module as? Conv1D {
        adapter = try LoRAConv1D(wrapping: conv, r: config.r, scaling: config.scaling, dropout: config.loraDropout)
      } else {
        if case .names = config.targetModules {
          throw LoRAError("target module '\(path)' is a \(module.typeName): LoRA wraps Linear and Conv1D layers")
        }
        continue
      }
      let parentPath = path.split(separator: ".").dropLast().joined(separator: ".")
      let name = String(path.split(separator: ".").last!)
      guard let parent = model.module(at: parentPath) else { continue }
      try parent.replaceChild(named: name, with: adapter)
      wrapped.append(path)
    }
    guard !wrapped.isEmpty else {
      throw LoRAError(
        "target_modules \(describe(config.targetModules)) match no Linear or Conv1D layer of \(model.typeName)")
    }
    if case .names(let names) = config.targetModules {
      let unused = names.filter { n in !wrapped.contains { $0 == n || $0.hasSuffix("." + n) } }
      if unused.count == names.count {
        throw LoRAError("target_modules \(names) match no layer of \(model.typeName)")
      }
    }
    try setTrainable(model, config)
    return wrapped
  }

  static func describe(_ t: LoRAConfig.Targets) -> String {
    switch t {
    case .names(let n): return "\(n)"
    case .regex(let r): return "'\(r)'"
    case .allLinear: return "all-linear"
    }
  }

  /// Freezes the base model; adapters, `modules_to_save` and the selected biases train.
  static func setTrainable(_ model: Module, _ config: LoRAConfig) throws {
    for p in model.parameters() { try p.requiresGrad_(false) }
    for (path, m) in model.namedModules() {
      if let l = m as? LoRALayer {
        try l.loraA.weight.requiresGrad_(true)
        try l.loraB.weight.requiresGrad_(true)
        if config.bias == "lora_only" {
          for (name, p) in m.namedParameters(recurse: false) where name == "bias" { try p.requiresGrad_(true) }
        }
      }
      if isModuleToSave(path, config) { for p in m.parameters() { try p.requiresGrad_(true) } }
    }
    if config.bias == "all" {
      for (name, p) in model.namedParameters() where name.hasSuffix("bias") { try p.requiresGrad_(true) }
    }
  }

  /// Trainable and total parameter counts, as PEFT's `print_trainable_parameters` (which counts a module in
  /// `modules_to_save` twice in the total: PEFT keeps the original beside the trained copy).
  public static func parameterCounts(_ model: Module, config: LoRAConfig) -> (trainable: Int, all: Int) {
    let trainable = model.parameters().filter(\.requiresGrad).reduce(0) { $0 + $1.numel }
    var all = model.parameterCount
    for (path, m) in model.namedModules() where isModuleToSave(path, config) { all += m.parameterCount }
    return (trainable, all)
  }

  /// PEFT's key for one of our state-dict keys, or nil when the adapter file does not hold it.
  static func peftKey(_ key: String, model: Module, config: LoRAConfig, adapterPaths: Set<String>) -> String? {
    let parts = key.split(separator: ".").map(String.init)
    let owner = parts.dropLast().joined(separator: ".")
    let leaf = parts.last ?? ""
    if key.contains(".lora_A.") || key.contains(".lora_B.") { return keyPrefix + key }
    if config.modulesToSave.contains(where: { m in
      owner == m || owner.hasSuffix("." + m) || owner.hasPrefix(m + ".") || owner.contains("." + m + ".")
    }) {
      return keyPrefix + key
    }
    guard leaf == "bias" else { return nil }
    let wrapped = adapterPaths.contains(owner)
    switch config.bias {
    case "all": return keyPrefix + (wrapped ? owner + ".base_layer.bias" : key)
    case "lora_only": return wrapped ? keyPrefix + owner + ".base_layer.bias" : nil
    default: return nil
    }
  }

  /// The adapter's tensors under PEFT's names (`base_model.model.<path>.lora_A.weight`, …).
  public static func adapterStateDict(_ model: Module, config: LoRAConfig) throws -> [String: Tensor] {
    let adapterPaths = Set(layers(of: model).map(\.path))
    var out: [String: Tensor] = [:]
    for (key, tensor) in try model.orderedStateDict() {
      if let k = peftKey(key, model: model, config: config, adapterPaths: adapterPaths) { out[k] = tensor }
    }
    return out
  }

  /// Writes `adapter_config.json` and `adapter_model.safetensors` (atomically) into `directory`.
  public static func save(_ model: Module, config: LoRAConfig, to directory: String) throws {
    guard !layers(of: model).contains(where: \.layer.merged) else {
      throw LoRAError("the adapters are merged into the base weights: unmerge before saving an adapter")
    }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let json = try JSONSerialization.data(withJSONObject: config.json(), options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(json, to: directory + "/adapter_config.json")
    try Torch.saveSafetensors(
      try adapterStateDict(model, config: config), to: directory + "/adapter_model.safetensors",
      metadata: ["format": "pt"])
  }

  /// Reads an adapter folder saved by PEFT or TorchSwift, wraps `model` as its config says and loads the
  /// adapter's tensors. Every tensor must find its place with the right shape (a different base model is named).
  @discardableResult
  public static func load(adapter directory: String, into model: Module) throws -> LoRAConfig {
    let config = try LoRAConfig(contentsOf: directory + "/adapter_config.json")
    let path = directory + "/adapter_model.safetensors"
    guard FileManager.default.fileExists(atPath: path) else {
      throw LoRAError("\(directory) has no adapter_model.safetensors")
    }
    let file = try SafeTensorsFile(path: path)
    try apply(config, to: model)
    let adapterPaths = Set(layers(of: model).map(\.path))
    var byPeft: [String: Tensor] = [:]
    for (key, tensor) in try model.orderedStateDict() {
      if let k = peftKey(key, model: model, config: config, adapterPaths: adapterPaths) { byPeft[k] = tensor }
    }
    // Adapters saved with their adapter name kept (`lora_A.default.weight`) load too.
    var missing = Set(byPeft.keys.filter { $0.contains(".lora_") })
    try withNoGrad {
      for name in file.names {
        let key = name.replacingOccurrences(of: ".lora_A.default.", with: ".lora_A.")
          .replacingOccurrences(of: ".lora_B.default.", with: ".lora_B.")
        guard let target = byPeft[key] else {
          throw LoRAError("\(path): tensor '\(name)' has no place in \(model.typeName) (an adapter for another model?)")
        }
        let info = try file.info(name)
        guard info.shape == target.shape else {
          throw LoRAError(
            "\(path): tensor '\(name)' has shape \(info.shape), the model's is \(target.shape) (an adapter for another base model?)"
          )
        }
        try file.copy(name, into: target)
        missing.remove(key)
      }
    }
    guard missing.isEmpty else {
      throw LoRAError(
        "\(path) lacks \(missing.count) adapter tensor(s): \(missing.sorted().prefix(4).joined(separator: ", "))")
    }
    return config
  }

  /// Adds every adapter into its base weight (outputs unchanged, one GEMM per layer again).
  public static func merge(_ model: Module) throws { for (_, l) in layers(of: model) { try l.merge() } }

  /// Takes merged adapters back out of the base weights.
  public static func unmerge(_ model: Module) throws { for (_, l) in layers(of: model) { try l.unmerge() } }

  /// Merges the adapters and puts plain layers back (PEFT's `merge_and_unload`): the model is then the base
  /// architecture with updated weights, ready to be saved as a plain Hugging Face folder.
  public static func mergeAndUnload(_ model: Module) throws {
    for (path, layer) in layers(of: model) {
      try layer.merge()
      let plain: Module
      if let l = layer as? LoRALinear {
        plain = try Linear(weight: l.weight, bias: l.bias)
      } else if let c = layer as? LoRAConv1D {
        plain = try Conv1D(weight: c.weight, bias: c.bias)
      } else {
        continue
      }
      let parentPath = path.split(separator: ".").dropLast().joined(separator: ".")
      try model.module(at: parentPath)?.replaceChild(named: String(path.split(separator: ".").last!), with: plain)
    }
    for p in model.parameters() { try p.requiresGrad_(true) }
  }
}
