import ArgumentParser
import CLISupport
import Foundation
import Generation
import Torch

/// The options `generate` and `chat` share: the model folder, device, dtype and sampling.
struct GenerationOptions: ParsableArguments {
  @Option(help: "A Hugging Face folder of a decoder-only model (config.json, safetensors, tokenizer.json).")
  var model: String
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(
    help: "Compute dtype: float32, bfloat16 or float16 (default: float32 on the CPU, the model's 16-bit dtype on CUDA)."
  )
  var dtype: String?
  @Option(
    name: .customLong("max-new-tokens"), help: "Most tokens to generate (default: generation_config.json's, else 256).")
  var maxNewTokens: Int?
  @Option(help: "Sampling temperature; 0 means greedy (default: generation_config.json's do_sample/temperature).")
  var temperature: Double?
  @Option(name: .customLong("top-k"), help: "Sample from the K most likely tokens (0: no limit).") var topK: Int?
  @Option(name: .customLong("top-p"), help: "Nucleus sampling: the smallest set of tokens with probability > P.")
  var topP: Double?
  @Option(name: .customLong("min-p"), help: "Drop tokens less likely than P × the most likely one.") var minP: Double?
  @Option(name: .customLong("repetition-penalty"), help: "Penalise tokens already seen (1: off).")
  var repetitionPenalty: Double?
  @Flag(help: "Greedy decoding (the most likely token every step), whatever generation_config.json says.")
  var greedy = false
  @Option(help: "Seed for sampling: the same seed gives the same text.") var seed: UInt64?
  @Option(name: .customLong("stop"), help: "Stop when the text contains this string (repeatable).")
  var stop: [String] = []
  @Option(help: "KV cache: static (preallocated, default), dynamic (grows) or none.") var cache = "static"
  @Flag(help: "Report loading: weights' size, time and peak resident memory (stderr).") var verbose = false
  @Option(help: "A LoRA adapter folder (adapter_config.json + adapter_model.safetensors, as peft saves) for the model.")
  var adapter: String?
  @OptionGroup var quantization: QuantizeOptions

  func deviceValue() throws -> Device { try deviceOption(device) }

  func dtypeValue() throws -> DType? {
    guard let dtype else { return nil }
    switch dtype {
    case "float32", "fp32": return .float32
    case "bfloat16", "bf16": return .bfloat16
    case "float16", "fp16", "half": return .float16
    default: throw ValidationError("--dtype must be float32, bfloat16 or float16, got '\(dtype)'")
    }
  }

  func cacheKind() throws -> KVCacheKind {
    guard let kind = KVCacheKind(rawValue: cache) else {
      throw ValidationError("--cache must be static, dynamic or none, got '\(cache)'")
    }
    return kind
  }

  /// The folder's generation config with the flags applied.
  func config(base: GenerationConfig) throws -> GenerationConfig {
    var c = base
    if let maxNewTokens {
      guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be ≥ 0, got \(maxNewTokens)") }
      c.maxNewTokens = maxNewTokens
    } else if c.maxNewTokens == GenerationConfig().maxNewTokens {
      c.maxNewTokens = 256
    }
    if let temperature {
      guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0, got \(temperature)") }
      if temperature == 0 {
        c.doSample = false
      } else {
        c.doSample = true
        c.temperature = temperature
      }
    }
    if let topK {
      guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0, got \(topK)") }
      c.topK = topK
      c.doSample = c.doSample || temperature == nil
    }
    if let topP {
      guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
      c.topP = topP
      c.doSample = c.doSample || temperature == nil
    }
    if let minP {
      guard (0...1).contains(minP) else { throw ValidationError("--min-p must be in [0, 1], got \(minP)") }
      c.minP = minP
      c.doSample = c.doSample || temperature == nil
    }
    if let repetitionPenalty {
      guard repetitionPenalty > 0 else {
        throw ValidationError("--repetition-penalty must be > 0, got \(repetitionPenalty)")
      }
      c.repetitionPenalty = repetitionPenalty
    }
    if greedy { c.doSample = false }
    if temperature == 0 { c.doSample = false }
    if let seed { c.seed = seed }
    c.stopStrings += stop
    return c
  }

  func load() throws -> CausalLM {
    let device = try deviceValue()
    let dtype = try dtypeValue()
    ResidentMemory.resetPeak()
    let before = ResidentMemory.current()
    let start = Date()
    let lm = try CausalLM(contentsOf: model, device: device, dtype: dtype)
    try quantization.apply(to: lm.model)
    if verbose {
      let weights = lm.model.parameters().reduce(0) { $0 + $1.numel * $1.dtype.byteSize }
      var line = String(
        format: "loaded %@ (%@, %d parameters, %d bytes of weights as %@) in %.2f s", model, lm.model.modelType,
        lm.model.parameterCount, weights, "\(lm.model.dtype)", Date().timeIntervalSince(start))
      if let before, let after = ResidentMemory.current() {
        line += String(format: "; peak resident memory +%d bytes while loading", after.peak - before.resident)
      }
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    if let adapter {
      let config = try lm.loadAdapter(adapter)
      if verbose {
        FileHandle.standardError.write(Data("adapter \(adapter): LoRA r=\(config.r), merged into the weights\n".utf8))
      }
    }
    if !lm.loadReport.unexpectedKeys.isEmpty {
      FileHandle.standardError.write(Data((lm.loadReport.description + "\n").utf8))
    }
    return lm
  }
}
