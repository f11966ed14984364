import ArgumentParser
import ChatTemplates
import FileIO
import Foundation
import Generation

/// `torchswift generate`: text from a decoder-only model (Llama, Mistral, Qwen2, Qwen3, GPT-2).
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Generate text with a decoder-only model: one prompt (optionally streamed) or a file of prompts (JSONL out).",
    discussion: """
      Prefill and decode speeds (tokens/s) go to stderr. With --chat the prompt is the user's message, rendered \
      with the model's chat template (and --system). With --prompts FILE every line is a prompt; they run in \
      batches of --batch-size and each line of the output is a JSON object.
      """)

  @OptionGroup var options: GenerationOptions
  @Option(help: "The prompt.") var prompt: String?
  @Option(help: "A file with one prompt per line (batched; JSONL output).") var prompts: String?
  @Option(help: "With --prompts: where to write the JSONL (default: stdout).") var output: String?
  @Option(name: .customLong("batch-size"), help: "With --prompts: prompts per batch.") var batchSize = 8
  @Flag(help: "Treat the prompt as a user message and apply the model's chat template.") var chat = false
  @Option(help: "With --chat: a system message.") var system: String?
  @Flag(help: "Print the text as it is generated.") var stream = false

  func validate() throws {
    guard (prompt == nil) != (prompts == nil) else {
      throw ValidationError("give either --prompt TEXT or --prompts FILE")
    }
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    if system != nil && !chat { throw ValidationError("--system needs --chat") }
    if output != nil && prompts == nil { throw ValidationError("--output goes with --prompts FILE") }
    if stream && prompts != nil { throw ValidationError("--stream goes with --prompt, not --prompts") }
    _ = try options.dtypeValue()
    _ = try options.cacheKind()
  }

  func promptTokens(_ lm: CausalLM, _ text: String) throws -> [Int] {
    guard chat else { return try lm.encode(text) }
    var messages: [ChatMessage] = []
    if let system { messages.append(.system(system)) }
    messages.append(.user(text))
    return try lm.chatPromptTokens(messages)
  }

  func run() throws {
    let lm = try options.load()
    let config = try options.config(base: lm.generationConfig)
    let cache = try options.cacheKind()
    if let prompt {
      let tokens = try promptTokens(lm, prompt)
      if stream {
        var streamer = StoppingTextStreamer(tokenizer: lm.tokenizer, stopStrings: config.stopStrings)
        let stdout = FileHandle.standardOutput
        let (_, r) = try lm.generate(prompts: [tokens], config: config, cache: cache) { step in
          if let t = step[0] { stdout.write(Data(streamer.push(t).utf8)) }
          return true
        }
        let rest = streamer.finish(stoppedBy: r.stopStringIndex[0].map { config.stopStrings[$0] })
        stdout.write(Data((rest + "\n").utf8))
        report(r)
      } else {
        let (completions, r) = try lm.generate(prompts: [tokens], config: config, cache: cache)
        print(completions[0].text)
        report(r)
      }
      return
    }
    guard let data = FileManager.default.contents(atPath: prompts!) else {
      throw ValidationError("cannot read --prompts '\(prompts!)': no such file or not readable")
    }
    var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    lines = lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    var out = ""
    var index = 0
    while index < lines.count {
      let batch = Array(lines[index..<min(index + batchSize, lines.count)])
      let tokens = try batch.map { try promptTokens(lm, $0) }
      let (completions, r) = try lm.generate(prompts: tokens, config: config, cache: cache)
      for (text, c) in zip(batch, completions) {
        let line =
          "{\"prompt\": \(jsonString(text)), \"completion\": \(jsonString(c.text)), \"prompt_tokens\": \(c.promptTokens), "
          + "\"completion_tokens\": \(c.tokens.count), \"finish_reason\": \"\(c.finishReason.rawValue)\"}\n"
        if output == nil { FileHandle.standardOutput.write(Data(line.utf8)) } else { out += line }
      }
      report(r, batch: index / batchSize)
      index += batchSize
    }
    if let output { try AtomicFile.write(out, to: output) }
  }

  func report(_ r: GenerationResult, batch: Int? = nil) {
    let label = batch.map { "batch \($0): " } ?? ""
    let line = String(
      format: "%@prefill %d tokens in %.3f s (%.1f tokens/s), decode %d steps in %.3f s (%.1f tokens/s)\n",
      label, r.promptTokenCounts.reduce(0, +), r.prefillSeconds, r.prefillTokensPerSecond, r.decodeSteps,
      r.decodeSeconds, r.decodeTokensPerSecond)
    FileHandle.standardError.write(Data(line.utf8))
  }
}
