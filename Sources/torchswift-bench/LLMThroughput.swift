import CLISupport
import ArgumentParser
import Foundation
import Generation
import Models
import LoRA
import NN
import Torch
import Training

extension Bench {
  /// Decoder-only generation speed, measured as `bench/llm_generate.py` measures transformers: a seeded random
  /// prompt, greedy, no EOS; prefill = prompt tokens / time of a 1-token generate; decode = (N - 1) new tokens /
  /// (time of an N-token generate - time of the 1-token one). Best of `repeats`.
  struct LLMThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "llm", abstract: "Prefill and decode tokens/s of a decoder-only model (greedy); prints JSON.")
    @Option var model: String
    @Option(name: .customLong("prompt-tokens")) var promptTokens = 128
    @Option(name: .customLong("new-tokens")) var newTokens = 64
    @Option(name: .customLong("batch-size")) var batchSize = 1
    @Option var repeats = 3
    @Option var device = "cpu"
    @Option var dtype = "float32"
    @Option var cache = "static"
    @Option(help: "Quantize the linear layers first: int8, int4 or dynamic-int8.") var quantize: String?

    func run() throws {
      let dev = try Device(parsing: device)
      let dt: DType = dtype == "bfloat16" ? .bfloat16 : dtype == "float16" ? .float16 : .float32
      let lm = try AutoModelForCausalLM.fromPretrained(model, device: dev, dtype: dt).model
      if let quantize {
        guard let scheme = QuantizationScheme(rawValue: quantize) else {
          throw ValidationError("--quantize int8|int4|dynamic-int8")
        }
        try NN.quantize(lm, scheme: scheme)
      }
      guard let kind = KVCacheKind(rawValue: cache) else { throw ValidationError("--cache static|dynamic|none") }
      // The same prompt ids as the Python twin: a linear congruential sequence over the vocabulary.
      var state: UInt64 = 12345
      let prompts = (0..<batchSize).map { _ in
        (0..<promptTokens).map { _ -> Int in
          state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          return Int((state >> 33) % UInt64(lm.vocabularySize))
        }
      }
      var config = GenerationConfig()
      config.eosTokenIds = []
      config.doSample = false
      let generator = TokenGenerator(model: lm)
      func timed(_ n: Int) throws -> Double {
        config.maxNewTokens = n
        let start = DispatchTime.now().uptimeNanoseconds
        let r = try generator.generate(prompts: prompts, config: config, cache: kind)
        precondition(r.tokens[0].count == n)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      }
      _ = try timed(2)  // warm-up
      var one = Double.infinity
      var many = Double.infinity
      for _ in 0..<repeats {
        one = min(one, try timed(1))
        many = min(many, try timed(newTokens))
      }
      let prefill = Double(promptTokens * batchSize) / one
      let decode = Double((newTokens - 1) * batchSize) / max(many - one, 1e-9)
      let variant =
        "\(lm.modelType) \(dtype)\(quantize.map { " " + $0 } ?? "") batch \(batchSize), \(promptTokens)+\(newTokens) tokens, \(device)"
      print(
        #"{"benchmark": "llm_prefill", "variant": "\#(variant)", "impl": "swift", "tokens_per_s": \#(prefill)}"#)
      let weightBytes = lm.parameters().reduce(0) { $0 + $1.numel * $1.dtype.byteSize }
      print(
        #"{"benchmark": "llm_decode", "variant": "\#(variant)", "impl": "swift", "tokens_per_s": \#(decode), "weight_bytes": \#(weightBytes), "cuda_graph": \#(generator.graphFallback == nil && dev.isCUDA)}"#
      )
    }
  }
}

extension Bench {
  /// LoRA fine-tuning speed (the twin of `bench/sft_peft.py`): random token batches, LoRA on q/v, AdamW steps.
  struct SFTThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sft", abstract: "LoRA fine-tuning steps/s of a decoder-only model on random tokens; prints JSON.")
    @Option var model: String
    @Option(name: .customLong("batch-size")) var batchSize = 4
    @Option(name: .customLong("seq-len")) var seqLen = 256
    @Option var steps = 5
    @Option(name: .customLong("lora-r")) var loraR = 16

    func run() throws {
      let lm = try AutoModelForCausalLM.fromPretrained(model).model
      Torch.manualSeed(0)
      try LoRA.apply(
        LoRAConfig(r: loraR, loraAlpha: Double(2 * loraR), targetModules: .names(["q_proj", "v_proj"])), to: lm)
      var config = CausalLMTrainingConfig()
      config.batchSize = batchSize
      config.learningRate = 1e-4
      let trainer = try CausalLMTrainer(model: lm, config: config)
      var state: UInt64 = 12345
      func batch() -> [CausalLMExample] {
        (0..<batchSize).map { _ in
          let ids = (0..<seqLen).map { _ -> Int in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(lm.vocabularySize))
          }
          return CausalLMExample(inputIds: ids, labels: ids)
        }
      }
      _ = try trainer.step([batch()])  // warm-up
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<steps { _ = try trainer.step([batch()]) }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      let peak = ResidentMemory.current()?.peak ?? 0
      print(
        #"{"benchmark": "sft_lora", "variant": "\#(lm.modelType) r=\#(loraR) q,v, batch \#(batchSize) x \#(seqLen), cpu", "impl": "swift", "steps_per_s": \#(Double(steps) / seconds), "peak_rss_bytes": \#(peak)}"#
      )
    }
  }
}
