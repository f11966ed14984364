import ChatTemplates
import Foundation
import JSONSupport
import XCTest

/// Real chat templates of Hugging Face models (Fixtures/templates, from Fixtures/make_fixtures.py) rendered by
/// ChatTemplate and by transformers' `apply_chat_template(tokenize=False)`: the prompts must be identical.
final class HubTemplateTests: XCTestCase {
  private static func message(_ role: String, _ content: String) -> JSONValue {
    .object(["role": .string(role), "content": .string(content)])
  }

  /// Conversations every template renders (with and without the generation prompt).
  static let conversations: [(label: String, messages: [JSONValue])] = [
    ("user", [message("user", "Hello!")]),
    ("system+user", [message("system", "You are a helpful assistant."), message("user", "What is 2+2?")]),
    (
      "multi-turn with system",
      [
        message("system", "Answer briefly."), message("user", "Hi"), message("assistant", "Hello! How can I help?"),
        message("user", "Tell me a joke.")
      ]
    ),
    (
      "multi-turn",
      [
        message("user", "One"), message("assistant", "Two"), message("user", "Three"), message("assistant", "Four")
      ]
    ),
    ("unicode", [message("user", "Grüße aus Köln! 你好，世界 😀 — naïve café ‘quoted’")]),
    (
      "jinja-looking content",
      [
        message("user", "{{ messages }} {% if true %}x{% endif %} {# no #} \"dq\" 'sq' \\ back\nslash {%- raw %}"),
        message("assistant", "  padded answer  \n"), message("user", "{{ raise_exception('no') }}")
      ]
    ),
    ("whitespace", [message("system", "  Leading and trailing  "), message("user", "\n multi\nline\n")]),
    ("not alternating", [message("user", "first"), message("user", "second")])
  ]

  /// Templates that need message shapes the standard conversations lack (they render their own sample data).
  static let ownDataOnly: Set<String> = []

  struct Case {
    var label: String
    var messages: [JSONValue]
    var addGenerationPrompt: Bool
    var tools: [JSONValue]?
    var specialTokens: [String: JSONValue]
    var kwargs: [String: JSONValue]
  }

  static func cases(for name: String, data: JSONValue?) -> [Case] {
    var result: [Case] = []
    let special: [String: JSONValue] = ["bos_token": .string("<s>"), "eos_token": .string("</s>")]
    if case let .object(d)? = data {
      var specialTokens: [String: JSONValue] = [:]
      var kwargs: [String: JSONValue] = [:]
      for (key, value) in d where !["messages", "add_generation_prompt", "tools"].contains(key) {
        if key.hasSuffix("_token") { specialTokens[key] = value } else { kwargs[key] = value }
      }
      let tools = d["tools"]?.arrayValue
      result.append(
        Case(
          label: "hub sample", messages: d["messages"]?.arrayValue ?? [],
          addGenerationPrompt: d["add_generation_prompt"] == .bool(true), tools: tools, specialTokens: specialTokens,
          kwargs: kwargs))
    }
    if !ownDataOnly.contains(name) {
      for conversation in conversations {
        for generation in [false, true] {
          result.append(
            Case(
              label: "\(conversation.label), add_generation_prompt=\(generation)", messages: conversation.messages,
              addGenerationPrompt: generation, tools: nil, specialTokens: special, kwargs: [:]))
        }
      }
      // Llama 3.x: an explicit date_string instead of strftime_now.
      result.append(
        Case(
          label: "date_string", messages: conversations[1].messages, addGenerationPrompt: true, tools: nil,
          specialTokens: special, kwargs: ["date_string": .string("01 Jan 2025")]))
    }
    return result
  }

  func testTemplatesMatchTransformers() throws {
    let index = try JSONValue.parse(
      Array(try Data(contentsOf: Reference.fixtures.appendingPathComponent("hub_cases.json"))))
    guard case let .object(entries) = index else { return XCTFail("hub_cases.json is not an object") }
    var jobs: [(name: String, template: ChatTemplate, testCase: Case)] = []
    var requests: [JSONValue] = []
    var failures: [String] = []
    for name in entries.keys.sorted() {
      let entry = entries[name]!
      let file = Reference.fixtures.appendingPathComponent("templates/" + entry["file"]!.stringValue!)
      let source = try String(contentsOf: file, encoding: .utf8)
      let template: ChatTemplate
      do {
        template = try ChatTemplate(source: source, name: name)
      } catch {
        failures.append("\(name): does not parse: \(error)")
        continue
      }
      for testCase in HubTemplateTests.cases(for: name, data: entry["data"]) {
        jobs.append((name, template, testCase))
        var request: [String: JSONValue] = [
          "template": .string(source), "messages": .array(testCase.messages),
          "add_generation_prompt": .bool(testCase.addGenerationPrompt),
          "special_tokens": .object(testCase.specialTokens),
          "kwargs": .object(testCase.kwargs)
        ]
        if let tools = testCase.tools { request["tools"] = .array(tools) }
        requests.append(.object(request))
      }
    }
    let reference = try Reference.run(
      .object(["mode": .string("chat"), "now": .double(Reference.now), "cases": .array(requests)])
    ).arrayValue
    XCTAssertEqual(reference.count, jobs.count)
    var rendered = 0
    let start = Date()
    for (job, expected) in zip(jobs, reference) {
      let c = job.testCase
      var template = job.template
      template.specialTokens = c.specialTokens.mapValues(TemplateValue.init)
      let actual = Result {
        try template.apply(
          messages: c.messages.map(TemplateValue.init), addGenerationPrompt: c.addGenerationPrompt,
          tools: c.tools?.map(TemplateValue.init), variables: c.kwargs.mapValues(TemplateValue.init),
          date: Date(timeIntervalSince1970: Reference.now))
      }
      if case .success = actual { rendered += 1 }
      if let problem = Reference.mismatch(Reference.Outcome(expected), actual) {
        failures.append("\(job.name) [\(c.label)]: \(problem)")
      }
    }
    let seconds = Date().timeIntervalSince(start)
    print(
      "HubTemplateTests: \(jobs.count) renders of \(entries.count) templates (\(rendered) prompts, the rest raise "
        + "as in transformers) in \(String(format: "%.3f", seconds)) s")
    XCTAssert(failures.isEmpty, "\(failures.count) mismatches:\n" + failures.prefix(25).joined(separator: "\n\n"))
  }
}
