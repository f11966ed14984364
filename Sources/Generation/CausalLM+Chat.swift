import ChatTemplates
import Foundation
import LoRA

extension CausalLM {
  /// Applies a LoRA adapter folder (PEFT's format, saved by `peft` or TorchSwift) to the model; `merge` adds it
  /// into the base weights so generation runs at the base model's speed.
  @discardableResult
  public func loadAdapter(_ directory: String, merge: Bool = true) throws -> LoRAConfig {
    let config = try LoRA.load(adapter: directory, into: model)
    if merge { try LoRA.merge(model) }
    model.eval()
    return config
  }

  /// The folder's chat template (`chat_template.jinja`, else `tokenizer_config.json`'s), or nil when it has none.
  public func chatTemplate() throws -> ChatTemplate? {
    let fm = FileManager.default
    let hasJinja = fm.fileExists(atPath: directory + "/chat_template.jinja")
    var hasConfigTemplate = false
    if let data = fm.contents(atPath: directory + "/tokenizer_config.json"),
      let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    {
      hasConfigTemplate = obj["chat_template"] != nil && !(obj["chat_template"] is NSNull)
    }
    guard hasJinja || hasConfigTemplate else { return nil }
    return try ChatTemplate(directory: directory)
  }

  /// The prompt tokens of a conversation: the chat template rendered with the generation prompt, encoded
  /// without adding special tokens again (the template writes its own BOS), as `apply_chat_template(…,
  /// add_generation_prompt=True, tokenize=True)` does.
  public func chatPromptTokens(_ messages: [ChatMessage], template: ChatTemplate? = nil) throws -> [Int] {
    guard let template = try template ?? chatTemplate() else {
      throw GenerationError(
        "\(directory) has no chat template (chat_template.jinja or tokenizer_config.json's chat_template)")
    }
    let text = try template.apply(messages, addGenerationPrompt: true)
    return try encode(text, addSpecialTokens: false)
  }

  /// The assistant's reply to a conversation.
  public func chat(_ messages: [ChatMessage], config: GenerationConfig? = nil) throws -> Completion {
    try generate(prompts: [chatPromptTokens(messages)], config: config).completions[0]
  }

  /// The assistant's reply as text pieces.
  public func streamChat(_ messages: [ChatMessage], config: GenerationConfig? = nil) throws
    -> AsyncThrowingStream<String, Error>
  {
    stream(promptTokens: try chatPromptTokens(messages), config: config)
  }
}
