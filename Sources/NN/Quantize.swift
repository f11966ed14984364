import Foundation
import Torch

/// What `quantize(_:scheme:groupSize:skip:)` did: the layers it quantized, those it left in their dtype (and why),
/// and the model's bytes (parameters and buffers) before and after.
public struct QuantizationReport: CustomStringConvertible, Sendable {
  public var scheme: QuantizationScheme
  public var groupSize: Int
  /// Whether weight scales are per output channel (dynamic-int8 may have one per tensor).
  public var perChannel = true
  public var quantized: [String] = []
  public var skipped: [(name: String, reason: String)] = []
  public var bytesBefore = 0
  public var bytesAfter = 0

  public var description: String {
    func mib(_ b: Int) -> String { String(format: "%.1f MiB", Double(b) / 1_048_576) }
    var lines = [
      "quantize: \(scheme.rawValue)\(scheme == .int4 ? " (group size \(groupSize))" : ""): \(quantized.count) linear "
        + "layer(s) quantized; model \(mib(bytesBefore)) -> \(mib(bytesAfter))"
        + (bytesAfter > 0 ? String(format: " (%.2fx smaller)", Double(bytesBefore) / Double(bytesAfter)) : "")
    ]
    for s in skipped.prefix(12) { lines.append("quantize: kept \(s.name) unquantized: \(s.reason)") }
    if skipped.count > 12 { lines.append("quantize: kept \(skipped.count - 12) more layer(s) unquantized") }
    return lines.joined(separator: "\n")
  }
}

/// Layers kept in their dtype by default, as most recipes do (gpt-fast, bitsandbytes, PyTorch's own examples):
/// output heads (`lm_head`, a classifier's `classifier`/`score`), whose errors reach the logits directly.
public let defaultQuantizationSkip = ["lm_head", "classifier", "score"]

/// Bytes of a module's parameters and buffers (each tensor once).
public func moduleBytes(_ model: Module) -> Int {
  var seen = Set<ObjectIdentifier>()
  var total = 0
  for t in model.parameters() + model.buffers() where seen.insert(ObjectIdentifier(t)).inserted {
    total += t.numel * t.dtype.byteSize
  }
  return total
}

/// Whether the layer `name` ("model.layers.0.mlp.up_proj") matches a skip entry: the whole name, one of its
/// components ("lm_head"), or a prefix ("model.layers.0").
func isSkipped(_ name: String, _ skip: [String]) -> Bool {
  let parts = name.split(separator: ".").map(String.init)
  return skip.contains { s in name == s || parts.contains(s) || name.hasPrefix(s + ".") }
}

/// Replaces every `Linear` of `model` (but those `skip` names) by a `QuantizedLinear` of `scheme`, in place, and puts
/// the model in eval mode. Layers the scheme cannot take (int4: `in_features` not a multiple of the group size) stay
/// in their dtype and are listed in the report with the reason. `perChannel: false` gives dynamic-int8 one weight
/// scale per tensor, exactly as PyTorch's default `quantize_dynamic` (measured on all-MiniLM-L6-v2: sentence
/// embeddings at cosine 0.934 to float32 per tensor, 0.972 per channel, the same as PyTorch's with each qconfig).
@discardableResult
public func quantize(
  _ model: Module, scheme: QuantizationScheme, groupSize: Int = 128, skip: [String] = defaultQuantizationSkip,
  only: Set<String>? = nil, perChannel: Bool = true, dynamicKernel: DynamicInt8Kernel = .fbgemm
) throws -> QuantizationReport {
  if scheme == .int4, !QuantizationScheme.int4GroupSizes.contains(groupSize) {
    throw TorchError(
      "--group-size must be one of \(QuantizationScheme.int4GroupSizes.map(String.init).joined(separator: ", ")), "
        + "got \(groupSize)")
  }
  var report = QuantizationReport(scheme: scheme, groupSize: scheme == .int4 ? groupSize : 0)
  report.perChannel = scheme != .dynamicInt8 || perChannel
  report.bytesBefore = moduleBytes(model)
  let targets = model.namedModules().filter { $0.1 is Linear && !($0.1 is QuantizedLinear) }
  let parents = Dictionary(model.namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
  for (name, module) in targets {
    let linear = module as! Linear
    if let only {
      guard only.contains(name) else { continue }
    } else if isSkipped(name, skip) {
      report.skipped.append((name, "skipped by default (output head)"))
      continue
    }
    let q: QuantizedLinear
    do {
      q = try QuantizedLinear.quantizing(linear, scheme: scheme, groupSize: groupSize, perChannel: perChannel)
      q.dynamicKernel = dynamicKernel
    } catch {
      report.skipped.append((name, "\(error)"))
      continue
    }
    let (parentName, key) = splitName(name)
    guard let parent = parents[parentName] else { continue }
    try parent.replaceChild(named: key, with: q)
    report.quantized.append(name)
  }
  model.eval()
  report.bytesAfter = moduleBytes(model)
  return report
}

/// "a.b.c" → ("a.b", "c"); "c" → ("", "c").
func splitName(_ name: String) -> (String, String) {
  guard let dot = name.lastIndex(of: ".") else { return ("", name) }
  return (String(name[..<dot]), String(name[name.index(after: dot)...]))
}

/// The `quantization_config` of a quantized folder's config.json (written by `torchswift quantize`):
/// `{"quant_method": "torchswift", "scheme": "int4", "group_size": 128, "bits": 4, "per_channel": true,
/// "modules": [names of quantized layers]}`.
public struct QuantizationConfig: Equatable, Sendable {
  public var scheme: QuantizationScheme
  public var groupSize: Int
  public var perChannel: Bool
  public var modules: [String]

  public init(scheme: QuantizationScheme, groupSize: Int, perChannel: Bool = true, modules: [String]) {
    self.scheme = scheme
    self.groupSize = groupSize
    self.perChannel = perChannel
    self.modules = modules
  }

  public init(_ report: QuantizationReport) {
    self.init(
      scheme: report.scheme, groupSize: report.groupSize, perChannel: report.perChannel, modules: report.quantized)
  }

  public var json: [String: Any] {
    [
      "quant_method": "torchswift", "scheme": scheme.rawValue, "group_size": groupSize, "bits": scheme.weightBits,
      "per_channel": perChannel, "modules": modules
    ]
  }

  /// The folder's quantization config, nil when config.json has none; throws when it has one TorchSwift cannot read.
  public static func read(configAt path: String) throws -> QuantizationConfig? {
    guard let data = FileManager.default.contents(atPath: path),
      let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let q = obj["quantization_config"] as? [String: Any]
    else { return nil }
    let method = q["quant_method"] as? String ?? "?"
    guard method == "torchswift", let name = q["scheme"] as? String, let scheme = QuantizationScheme(rawValue: name),
      let modules = q["modules"] as? [String]
    else {
      throw TorchError(
        "\(path): quantization_config with quant_method '\(method)' is not one TorchSwift reads "
          + "(it reads folders written by `torchswift quantize`)")
    }
    return QuantizationConfig(
      scheme: scheme, groupSize: q["group_size"] as? Int ?? 0, perChannel: q["per_channel"] as? Bool ?? true,
      modules: modules)
  }

  /// Replaces the listed `Linear` layers of a freshly built model by empty `QuantizedLinear`s of the right shapes, so
  /// that the folder's tensors load into them.
  public func prepare(_ model: Module, device: Device = .cpu) throws {
    let all = Dictionary(model.namedModules().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    for name in modules {
      // A classifier's folder ("bert.encoder…") loaded as its base model, or the other way round.
      let candidates = [name, String(name.drop(while: { $0 != "." }).dropFirst()), "bert." + name]
      guard let found = candidates.first(where: { all[$0] is Linear }), let linear = all[found] as? Linear else {
        throw TorchError("quantization_config names '\(name)', which is not a linear layer of \(model.typeName)")
      }
      let q = try QuantizedLinear(
        scheme: scheme, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, bias: linear.bias != nil,
        groupSize: groupSize, perChannel: perChannel, device: device)
      let (parentName, key) = splitName(found)
      try all[parentName]!.replaceChild(named: key, with: q)
    }
    model.eval()
  }
}
