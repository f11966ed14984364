import ChatTemplates
import Foundation
import JSONSupport
import ReferenceTesting
import XCTest

/// Runs `Tests/Reference/chat_template_reference.py` (transformers' and jinja2's renders) and compares.
enum Reference {
  static let fixtures = ReferenceTools.packageRoot.appendingPathComponent("Tests/ChatTemplatesTests/Fixtures")
  /// strftime_now's clock on both sides: 2024-09-15 12:00 UTC.
  static let now: Double = 1_726_401_600

  /// One request to the reference script; its JSON answer.
  static func run(_ request: JSONValue) throws -> JSONValue {
    let output = try ReferenceTools.run(
      script: "chat_template_reference.py", [], input: Data(request.serialized.utf8))
    return try JSONValue.parse(Array(output))
  }

  /// A reference result: the render, or the Python exception's class and message.
  enum Outcome: Equatable {
    case output(String)
    case error(type: String, message: String)

    init(_ json: JSONValue) {
      if case let .object(o) = json, case let .string(text)? = o["output"] {
        self = .output(text)
      } else if case let .object(o) = json, case let .string(type)? = o["error"], case let .string(m)? = o["message"] {
        self = .error(type: type, message: m)
      } else {
        self = .error(type: "malformed", message: json.serialized)
      }
    }
  }

  /// nil when the Swift result agrees with the reference: the same text; for `raise_exception`
  /// (`TemplateError`), `ChatTemplateError.raised` with the same message; for other Python errors, any error.
  static func mismatch(_ expected: Outcome, _ actual: Result<String, Error>) -> String? {
    switch (expected, actual) {
    case let (.output(want), .success(got)):
      return want == got ? nil : "output differs\n" + diff(want, got)
    case let (.output(want), .failure(error)):
      return "threw \(error)\nexpected: \(want.debugDescription)"
    case let (.error(type, message), .success(got)):
      return "rendered \(got.debugDescription)\nexpected \(type): \(message)"
    case let (.error(type, message), .failure(error)):
      guard type == "TemplateError" else { return nil }
      if case let .raised(got)? = error as? ChatTemplateError, got == message { return nil }
      return "threw \(error)\nexpected raise_exception(\(message.debugDescription))"
    }
  }

  /// Where two texts first differ, with context.
  static func diff(_ want: String, _ got: String) -> String {
    let a = Array(want.unicodeScalars)
    let b = Array(got.unicodeScalars)
    var i = 0
    while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
    func around(_ s: [Unicode.Scalar]) -> String {
      var view = String.UnicodeScalarView()
      view.append(contentsOf: s[max(0, i - 40)..<min(s.count, i + 40)])
      return String(view).debugDescription
    }
    return "  first difference at scalar \(i)\n  expected: \(around(a))\n  actual:   \(around(b))"
  }
}

extension JSONValue {
  subscript(key: String) -> JSONValue? {
    if case let .object(o) = self { return o[key] }
    return nil
  }

  var arrayValue: [JSONValue] {
    if case let .array(items) = self { return items }
    return []
  }

  var stringValue: String? {
    if case let .string(s) = self { return s }
    return nil
  }
}
