import ArgumentParser
import ChatTemplates
import Foundation
import Generation

/// `torchswift chat`: an interactive conversation that keeps its history.
struct Chat: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Chat with a model: each line you type is a user message; the reply streams back.",
    discussion: "Commands: /reset forgets the conversation, /exit (or end of input) quits.")

  @OptionGroup var options: GenerationOptions
  @Option(help: "A system message that starts the conversation.") var system: String?

  func run() throws {
    _ = try options.cacheKind()
    let lm = try options.load()
    let config = try options.config(base: lm.generationConfig)
    guard let template = try lm.chatTemplate() else {
      throw ValidationError("\(options.model) has no chat template: use `torchswift generate` for plain completion")
    }
    let interactive = isatty(0) != 0
    var messages: [ChatMessage] = system.map { [.system($0)] } ?? []
    let stdout = FileHandle.standardOutput
    while true {
      if interactive { stdout.write(Data("> ".utf8)) }
      guard let line = readLine(strippingNewline: true) else { break }
      let text = line.trimmingCharacters(in: .whitespaces)
      if text.isEmpty { continue }
      if text == "/exit" || text == "/quit" { break }
      if text == "/reset" {
        messages = system.map { [.system($0)] } ?? []
        stdout.write(Data("(conversation cleared)\n".utf8))
        continue
      }
      messages.append(.user(line))
      let tokens = try lm.chatPromptTokens(messages, template: template)
      var streamer = StoppingTextStreamer(tokenizer: lm.tokenizer, stopStrings: config.stopStrings)
      let (completions, result) = try lm.generate(prompts: [tokens], config: config, cache: try options.cacheKind()) {
        step in
        if let t = step[0] { stdout.write(Data(streamer.push(t).utf8)) }
        return true
      }
      let rest = streamer.finish(stoppedBy: result.stopStringIndex[0].map { config.stopStrings[$0] })
      stdout.write(Data((rest + "\n").utf8))
      messages.append(.assistant(completions[0].text))
      let stats = String(
        format: "[%d prompt tokens, %d new; %.1f tokens/s decode]\n", tokens.count, completions[0].tokens.count,
        result.decodeTokensPerSecond)
      FileHandle.standardError.write(Data(stats.utf8))
    }
  }
}
