import Foundation
import JSONSupport

/// A Hugging Face chat template (Jinja), parsed once and rendered as transformers' `apply_chat_template(...,
/// tokenize=False)` renders it: jinja2 with `trim_blocks` and `lstrip_blocks`, transformers' `tojson`,
/// `raise_exception` and `strftime_now`, and the special tokens as variables.
///
/// ```swift
/// let template = try ChatTemplate(directory: modelDir)
/// let prompt = try template.apply([.system("Be brief."), .user("Hi!")], addGenerationPrompt: true)
/// ```
/// Anything the renderer does not implement throws `ChatTemplateError.unsupported` naming the line and the
/// construct, rather than rendering a different prompt.
public struct ChatTemplate: @unchecked Sendable {
  /// The template's name (in errors; `default` or the name in `tokenizer_config.json`).
  public let name: String
  /// The Jinja source.
  public let source: String
  /// Variables every render receives, as transformers passes the tokenizer's special tokens map:
  /// `bos_token`, `eos_token`, `unk_token`, `pad_token`... (a call's own variables win).
  public var specialTokens: [String: TemplateValue]
  private let nodes: [Node]

  /// Parses `source`; throws `ChatTemplateError.syntax` or `.unsupported` with the line and column.
  public init(source: String, name: String = "default", specialTokens: [String: TemplateValue] = [:]) throws {
    self.name = name
    self.source = source
    self.specialTokens = specialTokens
    do {
      nodes = try Parser.parse(source)
    } catch let error as EngineError {
      throw error.named(name)
    }
  }

  /// Loads the template of a model directory as transformers does: `chat_template.jinja`, else
  /// `chat_template.json`'s `chat_template`, else `tokenizer_config.json`'s `chat_template` (a string, or a list of
  /// `{"name", "template"}` from which `templateName`, by default `default`, is taken). The special tokens come from
  /// `tokenizer_config.json` (strings or `{"content": ...}` tokens), else `special_tokens_map.json`.
  public init(directory: String, templateName: String = "default") throws {
    let base = URL(fileURLWithPath: directory)
    let config = try ChatTemplate.readJSON(base.appendingPathComponent("tokenizer_config.json"))
    let specialMap = try ChatTemplate.readJSON(base.appendingPathComponent("special_tokens_map.json"))
    var tokens: [String: TemplateValue] = [:]
    for key in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] {
      if let token = ChatTemplate.tokenContent(ChatTemplate.member(config, key))
        ?? ChatTemplate.tokenContent(ChatTemplate.member(specialMap, key))
      {
        tokens[key] = .string(token)
      }
    }
    if case let .array(items)? = ChatTemplate.member(config, "additional_special_tokens")
      ?? ChatTemplate.member(specialMap, "additional_special_tokens")
    {
      tokens["additional_special_tokens"] = .array(
        items.compactMap { ChatTemplate.tokenContent($0).map { TemplateValue.string($0) } })
    }
    let jinjaFile = base.appendingPathComponent("chat_template.jinja")
    if let data = FileManager.default.contents(atPath: jinjaFile.path) {
      try self.init(source: String(decoding: data, as: UTF8.self), name: templateName, specialTokens: tokens)
      return
    }
    var value = ChatTemplate.member(config, "chat_template")
    if value == nil, let json = try ChatTemplate.readJSON(base.appendingPathComponent("chat_template.json")) {
      value = ChatTemplate.member(json, "chat_template")
    }
    switch value {
    case let .string(source)?:
      try self.init(source: source, name: templateName, specialTokens: tokens)
    case let .array(entries)?:
      var names: [String] = []
      for case let .object(entry) in entries {
        guard case let .string(entryName)? = entry["name"], case let .string(source)? = entry["template"] else {
          continue
        }
        if entryName == templateName {
          try self.init(source: source, name: templateName, specialTokens: tokens)
          return
        }
        names.append(entryName)
      }
      throw ChatTemplateError.noTemplate(
        directory: directory,
        problem:
          "tokenizer_config.json has no chat template named \"\(templateName)\" (it has: \(names.joined(separator: ", ")))"
      )
    default:
      throw ChatTemplateError.noTemplate(
        directory: directory,
        problem: "no chat template: neither chat_template.jinja nor a \"chat_template\" in tokenizer_config.json")
    }
  }

  private static func readJSON(_ url: URL) throws -> JSONValue? {
    guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
    do {
      return try JSONValue.parse(Array(data))
    } catch {
      throw ChatTemplateError.file(path: url.path, problem: "\(error)")
    }
  }

  private static func member(_ json: JSONValue?, _ key: String) -> JSONValue? {
    if case let .object(members)? = json { return members[key] }
    return nil
  }

  private static func tokenContent(_ value: JSONValue?) -> String? {
    switch value {
    case let .string(s)?: return s
    case let .object(o)?: if case let .string(s)? = o["content"] { return s }
    default: break
    }
    return nil
  }

  /// Renders a conversation as `apply_chat_template(messages, tokenize=False, ...)` does.
  /// - Parameters:
  ///   - addGenerationPrompt: append the header that starts the assistant's reply.
  ///   - continueFinalMessage: end the prompt inside the last message, so the model continues it (transformers'
  ///     `continue_final_message`; not with `addGenerationPrompt`).
  ///   - tools: JSON schemas, passed as `tools` (`None` when nil, as transformers passes it).
  ///   - documents: passed as `documents` (`None` when nil).
  ///   - variables: extra template variables (`enable_thinking`, `date_string`...), as `apply_chat_template`'s
  ///     keyword arguments.
  ///   - date: the clock `strftime_now` reads (now by default).
  public func apply(
    _ messages: [ChatMessage], addGenerationPrompt: Bool = false, continueFinalMessage: Bool = false,
    tools: [TemplateValue]? = nil, documents: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:],
    date: Date = Date()
  ) throws -> String {
    try apply(
      messages: messages.map(\.templateValue), addGenerationPrompt: addGenerationPrompt,
      continueFinalMessage: continueFinalMessage, tools: tools, documents: documents, variables: variables, date: date)
  }

  /// Renders messages given as values (dicts with `role`, `content` and any other keys).
  public func apply(
    messages: [TemplateValue], addGenerationPrompt: Bool = false, continueFinalMessage: Bool = false,
    tools: [TemplateValue]? = nil, documents: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:],
    date: Date = Date()
  ) throws -> String {
    guard !(continueFinalMessage && addGenerationPrompt) else {
      throw ChatTemplateError.raised(
        message: "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message "
          + "when you want the model to continue the final message, and add_generation_prompt when you want to add a "
          + "header that will prompt it to start a new assistant message instead.")
    }
    var context = specialTokens
    context["tools"] = tools.map { .array($0) } ?? .null
    context["documents"] = documents.map { .array($0) } ?? .null
    context["add_generation_prompt"] = .bool(addGenerationPrompt)
    for (key, value) in variables { context[key] = value }
    var values = messages.map(Value.init)
    let tag = "CONTINUE_FINAL_MESSAGE_TAG "
    var finalMessage = ""
    if continueFinalMessage {
      guard case var .dict(last)? = values.last else {
        throw ChatTemplateError.raised(message: "continue_final_message needs a final message")
      }
      guard case let .string(text)? = last["content"] else {
        throw ChatTemplateError.unsupported(
          template: name, line: 0, column: 0, construct: "continue_final_message with non-text content")
      }
      finalMessage = text
      last["content"] = .string(text + tag)
      values[values.count - 1] = .dict(last)
    }
    var rendered = try render(context: context.mapValues(Value.init), messages: .list(values), date: date)
    if continueFinalMessage {
      let trimmedTag = PythonFormat.strip(tag, nil)
      guard PythonFormat.contains(rendered, PythonFormat.strip(finalMessage, nil)),
        let tagRange = rendered.range(of: trimmedTag, options: .backwards)
      else {
        throw ChatTemplateError.raised(
          message: "continue_final_message is set but the final message does not appear in the chat after applying "
            + "the chat template! This can happen if the chat template deletes portions of the final message. Please "
            + "verify the chat template and final message in your chat to ensure they are compatible.")
      }
      let preservesSpacing = rendered[tagRange.lowerBound...].hasPrefix(tag)
      rendered = String(rendered[..<tagRange.lowerBound])
      if !preservesSpacing { rendered = PythonFormat.strip(rendered, nil, leading: false) }
    }
    return rendered
  }

  /// Renders messages given as parsed JSON (object keys in sorted order), with extra variables.
  package func apply(
    jsonMessages: [JSONValue], addGenerationPrompt: Bool = false, extra: [String: JSONValue] = [:], date: Date = Date()
  ) throws -> String {
    try apply(
      messages: jsonMessages.map(TemplateValue.init), addGenerationPrompt: addGenerationPrompt,
      variables: extra.mapValues(TemplateValue.init), date: date)
  }

  /// Renders the template with exactly `variables` as its context (no messages, tokens or defaults added).
  public func render(_ variables: [String: TemplateValue], date: Date = Date()) throws -> String {
    try render(context: variables.mapValues(Value.init), messages: nil, date: date)
  }

  private func render(context: [String: Value], messages: Value?, date: Date) throws -> String {
    let now = date.timeIntervalSince1970
    let globals = Globals.scope(now: now)
    var variables = context
    if let messages { variables["messages"] = messages }
    let root = Scope(parent: Scope(parent: globals, variables))
    let interpreter = Interpreter(now: now)
    do {
      _ = try interpreter.render(nodes, root)
    } catch let error as EngineError {
      throw error.named(name)
    }
    return interpreter.output
  }
}
