import ArgumentParser
import CLISupport
import ChatTemplates
import Foundation
import Generation
import LoRA
import Models
import Tokenizers
import Torch
import Training
import TrainingSupport

/// `torchswift sft`: supervised fine-tuning of a decoder-only model, in full or with LoRA adapters.
struct SFT: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sft",
    abstract: "Fine-tune a decoder-only model on text (.txt, packed into blocks) or chat data (.jsonl with messages).",
    discussion: """
      Plain text: every line is tokenized, all lines are concatenated and cut into --block-size blocks (the \
      run_clm recipe). Chat JSONL: {"messages": [{"role": "user", "content": "…"}, …]} per line, rendered with the \
      model's chat template, the loss on the assistant's tokens only. With --lora-r the base model is frozen and \
      LoRA adapters train; the output is then a PEFT adapter folder (or, with --merge, a merged model folder).
      """)

  @Option(help: "A Hugging Face folder of a decoder-only model (with tokenizer.json).") var model: String
  @Option(help: "Training data: a .txt file or a .jsonl file of chat conversations.") var data: String
  @Option(
    name: .customLong("eval-data"), help: "Held-out data in the same format (default: the last --eval-ratio of --data)."
  )
  var evalData: String?
  @Option(name: .customLong("eval-ratio"), help: "Fraction of --data held out when no --eval-data is given.")
  var evalRatio = 0.1
  @Option(name: .customLong("block-size"), help: "Tokens per block (text) or the most tokens per conversation (chat).")
  var blockSize = 512
  @Option var epochs = 1
  @Option(name: .customLong("max-steps"), help: "Stop after this many optimizer steps.") var maxSteps: Int?
  @Option(name: .customLong("batch-size"), help: "Sequences per micro-batch.") var batchSize = 4
  @Option(name: .customLong("grad-accumulation"), help: "Micro-batches per optimizer step.") var gradAccumulation = 1
  @Option(help: "Peak learning rate.") var lr = 2e-4
  @Option(name: .customLong("weight-decay"), help: "AdamW weight decay (matrices only).") var weightDecay = 0.0
  @Option(name: .customLong("warmup-steps"), help: "Linear warmup steps.") var warmupSteps = 0
  @Option(name: .customLong("lr-schedule"), help: "constant, constant_with_warmup, linear or cosine.")
  var lrSchedule = "linear"
  @Option(name: .customLong("max-grad-norm"), help: "Clip the gradient norm (0: off).") var maxGradNorm = 1.0
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: "fp32, or bf16/fp16 autocast.") var precision = "fp32"
  @Option(help: "Seed for LoRA's initial weights and the data order.") var seed: UInt64 = 42
  @Option(name: .customLong("lora-r"), help: "Train LoRA adapters of this rank (the base model frozen).") var loraR:
    Int?
  @Option(name: .customLong("lora-alpha"), help: "LoRA alpha (scaling alpha / r).") var loraAlpha = 16.0
  @Option(name: .customLong("lora-dropout"), help: "Dropout on the adapters' input.") var loraDropout = 0.0
  @Option(
    name: .customLong("lora-targets"),
    help: "Comma-separated layer names (PEFT's target_modules), or all-linear.")
  var loraTargets = "q_proj,v_proj"
  @Flag(help: "With LoRA: export the merged model instead of the adapter.") var merge = false
  @Option(name: .customLong("eval-every"), help: "Evaluate every N optimizer steps (0: at the end only).")
  var evalEvery = 0
  @Option(help: "Where to write the result (an adapter folder with LoRA, else a model folder).")
  var output = "runs/sft/model"
  @Option(help: "TensorBoard logs (train/loss, train/learning_rate, eval/loss, eval/perplexity); '' for none.")
  var logdir = "runs/sft/logs"

  func validate() throws {
    guard data.hasSuffix(".txt") || data.hasSuffix(".jsonl") else {
      throw ValidationError("--data must be a .txt (plain text) or .jsonl (chat) file, got '\(data)'")
    }
    guard ["fp32", "bf16", "fp16"].contains(precision) else {
      throw ValidationError("--precision must be fp32, bf16 or fp16, got '\(precision)'")
    }
    guard (0..<1).contains(evalRatio) else { throw ValidationError("--eval-ratio must be in [0, 1), got \(evalRatio)") }
    if let loraR, loraR <= 0 { throw ValidationError("--lora-r must be positive, got \(loraR)") }
    if merge && loraR == nil { throw ValidationError("--merge goes with --lora-r") }
  }

  func examples(_ path: String, tokenizer: Tokenizer) throws -> [CausalLMExample] {
    if path.hasSuffix(".jsonl") {
      let template = try ChatTemplate(directory: model)
      return try CausalLMData.chatJSONL(path, template: template, tokenizer: tokenizer, maxLength: blockSize)
    }
    guard let text = FileManager.default.contents(atPath: path) else {
      throw ValidationError("cannot read '\(path)': no such file")
    }
    let lines = String(decoding: text, as: UTF8.self).components(separatedBy: "\n")
    return try CausalLMData.packedText(lines, tokenizer: tokenizer, blockSize: blockSize)
  }

  func say(_ line: String) {
    print(line)
    fflush(stdout)
  }

  func run() throws {
    let dev = try deviceOption(device)
    let tokenizer = try Tokenizer(directory: model)
    var train = try examples(data, tokenizer: tokenizer)
    var held: [CausalLMExample] = []
    if let evalData {
      held = try examples(evalData, tokenizer: tokenizer)
    } else if evalRatio > 0 && train.count > 1 {
      let n = max(1, Int(Double(train.count) * evalRatio))
      held = Array(train.suffix(n))
      train.removeLast(n)
    }
    let lm = try AutoModelForCausalLM.fromPretrained(model, device: dev, dtype: .float32).model
    var lora: LoRAConfig?
    if let loraR {
      Torch.manualSeed(seed)
      let targets: LoRAConfig.Targets =
        loraTargets == "all-linear"
        ? .allLinear : .names(loraTargets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      var config = LoRAConfig(
        r: loraR, loraAlpha: loraAlpha, loraDropout: loraDropout, targetModules: targets, taskType: "CAUSAL_LM",
        baseModelNameOrPath: model)
      config.fanInFanOut = lm is GPT2LMHeadModel
      let wrapped = try LoRA.apply(config, to: lm)
      let counts = LoRA.parameterCounts(lm, config: config)
      say(
        "LoRA r=\(loraR) alpha=\(loraAlpha) on \(wrapped.count) layers: trainable params: \(counts.trainable) || all params: \(counts.all) || trainable%: \(String(format: "%.4f", 100 * Double(counts.trainable) / Double(counts.all)))"
      )
      lora = config
    }
    var config = CausalLMTrainingConfig()
    config.learningRate = lr
    config.weightDecay = weightDecay
    config.warmupSteps = warmupSteps
    config.lrSchedule = lrSchedule
    config.batchSize = batchSize
    config.gradientAccumulation = gradAccumulation
    config.maxGradNorm = maxGradNorm
    config.epochs = epochs
    config.maxSteps = maxSteps
    config.seed = seed
    config.autocast = precision == "bf16" ? .bfloat16 : precision == "fp16" ? .float16 : nil
    config.padTokenId = tokenizer.tokenToId("<|pad|>") ?? tokenizer.tokenToId("<pad>") ?? 0
    let trainer = try CausalLMTrainer(model: lm, config: config)
    let board = logdir.isEmpty ? nil : try TensorBoardWriter(logdir: URL(fileURLWithPath: logdir))
    defer { try? board?.close() }
    func evaluate(at step: Int, final: Bool) throws {
      let (l, ppl) = try trainer.evaluate(held)
      let at = final ? "" : "at step \(step): "
      say("eval \(at)" + String(format: "loss %.4f  perplexity %.3f", l, ppl))
      board?.addScalars(["eval/loss": l, "eval/perplexity": ppl], step: step)
    }
    say("training on \(train.count) sequences, evaluating on \(held.count) (\(data))")
    let start = Date()
    _ = try trainer.train(train) { step, loss, rate in
      say(String(format: "step %d  loss %.4f  lr %.3g  (%.1f s)", step, loss, rate, Date().timeIntervalSince(start)))
      board?.addScalars(["train/loss": loss, "train/learning_rate": rate], step: step)
      if evalEvery > 0, step % evalEvery == 0, !held.isEmpty { try evaluate(at: step, final: false) }
    }
    if !held.isEmpty { try evaluate(at: trainer.globalStep, final: true) }
    lm.eval()
    if let lora, !merge {
      try LoRA.save(lm, config: lora, to: output)
      say("adapter (PEFT format): \(output)")
    } else {
      if lora != nil { try LoRA.mergeAndUnload(lm) }
      try CausalLMExport.save(lm, to: output, configFrom: model)
      say("model (HF layout): \(output)")
    }
  }
}
