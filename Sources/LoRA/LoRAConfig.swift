import Foundation

/// PEFT's `LoraConfig`, as written to `adapter_config.json` (the fields TorchSwift reads and writes; others
/// PEFT writes are kept when a loaded config is saved again).
public struct LoRAConfig: Sendable, Equatable {
  /// How `target_modules` names layers: a list matched as PEFT does (a module whose path equals a name or ends in
  /// `.name`), a regular expression that must match the whole path, or `all-linear`.
  public enum Targets: Sendable, Equatable {
    case names([String])
    case regex(String)
    case allLinear
  }

  public var r: Int
  public var loraAlpha: Double
  public var loraDropout: Double
  public var targetModules: Targets
  /// Modules trained and saved in full (a classifier head), matched like PEFT (a path component sequence).
  public var modulesToSave: [String]
  /// `none`, `all` or `lora_only`.
  public var bias: String
  /// `alpha / sqrt(r)` instead of `alpha / r`.
  public var useRSLoRA: Bool
  /// The wrapped layer stores its weight `[in, out]` (GPT-2's Conv1D).
  public var fanInFanOut: Bool
  /// `CAUSAL_LM`, `SEQ_CLS`, …
  public var taskType: String?
  public var baseModelNameOrPath: String?
  /// Every field of a loaded `adapter_config.json`, written back by `json()`.
  public var extra: [String: Any] = [:]

  public init(
    r: Int = 8, loraAlpha: Double = 8, loraDropout: Double = 0, targetModules: Targets = .names(["q_proj", "v_proj"]),
    modulesToSave: [String] = [], bias: String = "none", useRSLoRA: Bool = false, fanInFanOut: Bool = false,
    taskType: String? = nil, baseModelNameOrPath: String? = nil
  ) {
    self.r = r
    self.loraAlpha = loraAlpha
    self.loraDropout = loraDropout
    self.targetModules = targetModules
    self.modulesToSave = modulesToSave
    self.bias = bias
    self.useRSLoRA = useRSLoRA
    self.fanInFanOut = fanInFanOut
    self.taskType = taskType
    self.baseModelNameOrPath = baseModelNameOrPath
  }

  public static func == (a: LoRAConfig, b: LoRAConfig) -> Bool {
    a.r == b.r && a.loraAlpha == b.loraAlpha && a.loraDropout == b.loraDropout && a.targetModules == b.targetModules
      && a.modulesToSave == b.modulesToSave && a.bias == b.bias && a.useRSLoRA == b.useRSLoRA
      && a.fanInFanOut == b.fanInFanOut && a.taskType == b.taskType
  }

  /// The factor on `B(A(x))`.
  public var scaling: Double { useRSLoRA ? loraAlpha / Double(r).squareRoot() : loraAlpha / Double(r) }

  public func validate() throws {
    guard r > 0 else { throw LoRAError("LoRA rank r must be positive, got \(r)") }
    guard (0..<1).contains(loraDropout) else { throw LoRAError("lora_dropout must be in [0, 1), got \(loraDropout)") }
    guard ["none", "all", "lora_only"].contains(bias) else {
      throw LoRAError("bias must be none, all or lora_only, got '\(bias)'")
    }
    if case .regex(let pattern) = targetModules, (try? NSRegularExpression(pattern: pattern)) == nil {
      throw LoRAError("target_modules '\(pattern)' is not a valid regular expression")
    }
  }

  /// Reads `adapter_config.json`.
  public init(contentsOf path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw LoRAError("cannot read '\(path)': no such file (an adapter folder needs adapter_config.json)")
    }
    guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw LoRAError("'\(path)' is not a JSON object")
    }
    guard (obj["peft_type"] as? String)?.uppercased() == "LORA" else {
      throw LoRAError("\(path): peft_type is \(obj["peft_type"] ?? "missing"); TorchSwift loads LORA adapters")
    }
    func number(_ k: String) throws -> Double? {
      guard let v = obj[k], !(v is NSNull) else { return nil }
      guard let n = v as? NSNumber else { throw LoRAError("\(path): \(k) must be a number, got \(v)") }
      return n.doubleValue
    }
    self.init()
    extra = obj
    guard let rank = try number("r") else { throw LoRAError("\(path): r is missing") }
    r = Int(rank)
    loraAlpha = try number("lora_alpha") ?? 8
    loraDropout = try number("lora_dropout") ?? 0
    switch obj["target_modules"] {
    case let s as String: targetModules = s == "all-linear" ? .allLinear : .regex(s)
    case let list as [String]: targetModules = .names(list)
    default: throw LoRAError("\(path): target_modules must be a list of names or a string")
    }
    modulesToSave = (obj["modules_to_save"] as? [String]) ?? []
    bias = (obj["bias"] as? String) ?? "none"
    useRSLoRA = (obj["use_rslora"] as? Bool) ?? false
    fanInFanOut = (obj["fan_in_fan_out"] as? Bool) ?? false
    taskType = obj["task_type"] as? String
    baseModelNameOrPath = obj["base_model_name_or_path"] as? String
    for unsupported in ["use_dora", "use_qalora", "lora_bias"] where (obj[unsupported] as? Bool) == true {
      throw LoRAError("\(path): \(unsupported) is not supported by TorchSwift")
    }
    if let pattern = obj["rank_pattern"] as? [String: Any], !pattern.isEmpty {
      throw LoRAError("\(path): rank_pattern is not supported by TorchSwift")
    }
    if let pattern = obj["alpha_pattern"] as? [String: Any], !pattern.isEmpty {
      throw LoRAError("\(path): alpha_pattern is not supported by TorchSwift")
    }
    try validate()
  }

  /// `adapter_config.json`'s object.
  public func json() -> [String: Any] {
    var o = extra
    o["peft_type"] = "LORA"
    o["r"] = r
    o["lora_alpha"] = loraAlpha == loraAlpha.rounded() ? Int(loraAlpha) as Any : loraAlpha as Any
    o["lora_dropout"] = loraDropout
    switch targetModules {
    case .names(let names): o["target_modules"] = names
    case .regex(let pattern): o["target_modules"] = pattern
    case .allLinear: o["target_modules"] = "all-linear"
    }
    o["modules_to_save"] = modulesToSave.isEmpty ? NSNull() : modulesToSave
    o["bias"] = bias
    o["use_rslora"] = useRSLoRA
    o["fan_in_fan_out"] = fanInFanOut
    o["task_type"] = taskType ?? NSNull()
    o["base_model_name_or_path"] = baseModelNameOrPath ?? NSNull()
    o["init_lora_weights"] = o["init_lora_weights"] ?? true
    o["inference_mode"] = o["inference_mode"] ?? true
    o["use_dora"] = false
    o["layers_to_transform"] = o["layers_to_transform"] ?? NSNull()
    o["layers_pattern"] = o["layers_pattern"] ?? NSNull()
    o["rank_pattern"] = o["rank_pattern"] ?? [String: Any]()
    o["alpha_pattern"] = o["alpha_pattern"] ?? [String: Any]()
    return o
  }
}

/// A LoRA adapter or configuration TorchSwift cannot use, naming the file, module or field.
public struct LoRAError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ message: String) { description = message }
}
