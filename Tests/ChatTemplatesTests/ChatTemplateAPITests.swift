import ChatTemplates
import ReferenceTesting
import Foundation
import XCTest

/// Loading from a model directory, the message types, continue_final_message and strftime_now.
final class ChatTemplateAPITests: XCTestCase {
  private let chatML =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

  private func write(_ text: String, _ name: String, in directory: URL) throws {
    try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
  }

  func testDirectoryReadsTokenizerConfig() throws {
    let dir = try ReferenceTools.temporaryDirectory(self)
    let config = """
      {"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>",
       "chat_template": [{"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"},
                         {"name": "tool_use", "template": "tools: {{ tools | length }}"}]}
      """
    try write(config, "tokenizer_config.json", in: dir)
    XCTAssertEqual(try ChatTemplate(directory: dir.path).apply([.user("hi")]), "<s>hi</s>")
    let tool = try ChatTemplate(directory: dir.path, templateName: "tool_use")
    XCTAssertEqual(try tool.apply([.user("hi")], tools: [["type": "function"]]), "tools: 1")
    XCTAssertThrowsError(try ChatTemplate(directory: dir.path, templateName: "rag")) { error in
      guard case .noTemplate? = error as? ChatTemplateError else { return XCTFail("\(error)") }
    }
    // chat_template.jinja wins over tokenizer_config.json.
    try write("jinja file: {{ messages | length }}\n", "chat_template.jinja", in: dir)
    XCTAssertEqual(try ChatTemplate(directory: dir.path).apply([.user("hi")]), "jinja file: 1")
  }

  func testDirectoryWithoutTemplate() throws {
    let dir = try ReferenceTools.temporaryDirectory(self)
    try write("{\"eos_token\": \"</s>\"}", "tokenizer_config.json", in: dir)
    XCTAssertThrowsError(try ChatTemplate(directory: dir.path)) { error in
      guard case .noTemplate? = error as? ChatTemplateError else { return XCTFail("\(error)") }
    }
  }

  func testMessagesWithExtraFieldsAndOrderedObjects() throws {
    let template = try ChatTemplate(
      source: "{% for m in messages %}{{ m.role }}:{{ m.content }}:{{ m.tool_calls | tojson }};{% endfor %}")
    let call: TemplateValue = ["name": "get_weather", "arguments": ["city": "Paris", "days": 2]]
    let message = ChatMessage(role: "assistant", content: nil, fields: [.init("tool_calls", [call])])
    XCTAssertEqual(
      try template.apply([message]),
      "assistant:None:[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}];")
  }

  func testContinueFinalMessage() throws {
    let template = try ChatTemplate(source: chatML)
    let messages: [ChatMessage] = [.user("Write a haiku"), .assistant("Autumn moonlight—")]
    XCTAssertEqual(
      try template.apply(messages, continueFinalMessage: true),
      "<|im_start|>user\nWrite a haiku<|im_end|>\n<|im_start|>assistant\nAutumn moonlight—")
    XCTAssertThrowsError(try template.apply(messages, addGenerationPrompt: true, continueFinalMessage: true))
  }

  func testStrftimeNowUsesTheGivenDate() throws {
    let template = try ChatTemplate(source: "{{ strftime_now('%Y') }}")
    XCTAssertEqual(try template.apply([], date: Date(timeIntervalSince1970: 1_726_401_600)), "2024")
  }

  func testToolsAndDocumentsDefaultToNone() throws {
    let template = try ChatTemplate(source: "{{ tools is defined }} {{ tools is none }} {{ documents }} {{ extra }}")
    XCTAssertEqual(try template.apply([], variables: ["extra": 1.5]), "True True None 1.5")
  }

  func testRenderSpeed() throws {
    let source = try String(
      contentsOf: Reference.fixtures.appendingPathComponent("templates/Qwen_Qwen2.5-7B-Instruct.jinja"), encoding: .utf8
    )
    let template = try ChatTemplate(source: source)
    let messages = (0..<50).map { i -> ChatMessage in i % 2 == 0 ? .user("Question \(i)") : .assistant("Answer \(i)") }
    let start = Date()
    for _ in 0..<20 { _ = try template.apply(messages, addGenerationPrompt: true) }
    let perRender = Date().timeIntervalSince(start) / 20
    print(
      "ChatTemplateAPITests: Qwen2.5 template, 50 messages: \(String(format: "%.2f", perRender * 1000)) ms per render")
    XCTAssertLessThan(perRender, 0.5)
  }
}
