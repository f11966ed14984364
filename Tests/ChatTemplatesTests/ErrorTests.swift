import ChatTemplates
import Foundation
import XCTest

/// raise_exception, unsupported constructs and syntax errors: each throws with the template's line and the reason.
final class ErrorTests: XCTestCase {
  private let mistral = """
    {{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\
    {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}\
    {% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}\
    {% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}\
    {% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}
    """

  func testRaiseExceptionCarriesTheMessage() throws {
    let template = try ChatTemplate(source: mistral, specialTokens: ["bos_token": "<s>", "eos_token": "</s>"])
    XCTAssertEqual(
      try template.apply([.user("a"), .assistant("b"), .user("c")]), "<s>[INST] a [/INST]b</s>[INST] c [/INST]")
    XCTAssertThrowsError(try template.apply([.user("a"), .user("b")])) { error in
      XCTAssertEqual(
        error as? ChatTemplateError,
        .raised(message: "Conversation roles must alternate user/assistant/user/assistant/..."))
    }
    XCTAssertThrowsError(try template.apply([.user("a"), .system("s")])) { error in
      XCTAssertEqual(error as? ChatTemplateError, .raised(message: "Only user and assistant roles are supported!"))
    }
  }

  private func assertThrows(
    _ source: String, _ check: (ChatTemplateError) -> Bool, file: StaticString = #filePath, line: UInt = #line
  ) {
    do {
      _ = try ChatTemplate(source: source, name: "t").render(["x": "v"])
      XCTFail("rendered without an error", file: file, line: line)
    } catch let error as ChatTemplateError {
      XCTAssert(check(error), "unexpected error: \(error)", file: file, line: line)
    } catch {
      XCTFail("not a ChatTemplateError: \(error)", file: file, line: line)
    }
  }

  func testUnsupportedConstructsNameLineAndConstruct() {
    assertThrows("line one\n{% include 'other.jinja' %}") {
      $0 == .unsupported(template: "t", line: 2, column: 1, construct: "the 'include' statement")
    }
    assertThrows("\n\n  {{ x | wordwrap(5) }}") {
      if case let .unsupported("t", 3, _, construct) = $0 { return construct.contains("'wordwrap' filter") }
      return false
    }
    assertThrows("{{ x | no_such_filter }}") {
      if case let .unsupported("t", 1, _, construct) = $0 { return construct.contains("no_such_filter") }
      return false
    }
    assertThrows("{% if x is no_such_test %}{% endif %}") {
      if case let .unsupported("t", 1, _, construct) = $0 { return construct.contains("no_such_test") }
      return false
    }
    assertThrows("a\n{{ '%s!' % x }}") {
      if case let .unsupported("t", 2, _, construct) = $0 { return construct.contains("'%'") }
      return false
    }
    assertThrows("{{ x.format(1) }}") {
      if case let .unsupported("t", 1, _, construct) = $0 { return construct.contains("format") }
      return false
    }
    assertThrows("{% for x in [1] recursive %}{% endfor %}") {
      if case .unsupported("t", 1, _, _) = $0 { return true }
      return false
    }
  }

  func testSyntaxErrorsNameTheLine() {
    assertThrows("ok\n{% if x %}never closed") {
      if case let .syntax("t", 2, _, problem) = $0 { return problem.contains("endif") }
      return false
    }
    assertThrows("{{ x + }}") {
      if case .syntax("t", 1, _, _) = $0 { return true }
      return false
    }
    assertThrows("\n\n{% frobnicate %}") {
      if case let .syntax("t", 3, 1, problem) = $0 { return problem.contains("frobnicate") }
      return false
    }
    assertThrows("{{ 'unterminated }}") {
      if case .syntax("t", 1, _, _) = $0 { return true }
      return false
    }
    assertThrows("{# comment") {
      if case .syntax("t", 1, 1, _) = $0 { return true }
      return false
    }
  }

  func testRenderErrorsNameTheLine() {
    assertThrows("\n{{ missing.attribute }}") {
      if case let .render("t", 2, _, problem) = $0 { return problem.contains("'missing' is undefined") }
      return false
    }
    assertThrows("{{ 1 + 'a' }}") {
      if case .render("t", 1, _, _) = $0 { return true }
      return false
    }
    assertThrows("{% set x.y = 1 %}") {
      if case let .render("t", 1, _, problem) = $0 { return problem.contains("non-namespace") }
      return false
    }
    assertThrows("{{ [].append(1) }}") {
      if case let .render("t", 1, _, problem) = $0 { return problem.contains("unsafe") }
      return false
    }
  }
}
