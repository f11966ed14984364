import JSONSupport

/// A JSON-like value passed to a template: messages, tools, extra variables (`enable_thinking`, `date_string`...).
/// Objects keep their key order, which `tojson` and `items()` show, as Python dicts do.
public enum TemplateValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([TemplateValue])
  case object([Member])

  /// One key of an object, in order.
  public struct Member: Equatable, Sendable {
    public var key: String
    public var value: TemplateValue
    public init(_ key: String, _ value: TemplateValue) {
      self.key = key
      self.value = value
    }
  }

  /// The value of `key` in an object (nil for other kinds or a missing key).
  public subscript(key: String) -> TemplateValue? {
    guard case let .object(members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }

  /// From a parsed JSON document; object keys are sorted (`JSONValue` does not keep their order).
  package init(_ json: JSONValue) {
    switch json {
    case .null: self = .null
    case let .bool(b): self = .bool(b)
    case let .int(i): self = .int(Int(i))
    case let .double(d): self = .double(d)
    case let .string(s): self = .string(s)
    case let .array(items): self = .array(items.map(TemplateValue.init))
    case let .object(members): self = .object(members.keys.sorted().map { Member($0, TemplateValue(members[$0]!)) })
    }
  }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, TemplateValue)...) {
    self = .object(elements.map { Member($0.0, $0.1) })
  }
  public init(nilLiteral: ()) { self = .null }
}

/// One chat message: `role`, `content`, and any other fields a template reads (`tool_calls`, `name`,
/// `tool_call_id`, `reasoning_content`...), passed to the template as a dict in this order.
public struct ChatMessage: Equatable, Sendable {
  public var role: String
  /// The text; `nil` renders as Python's `None` (an assistant message that only calls tools).
  public var content: String?
  public var fields: [TemplateValue.Member]

  public init(role: String, content: String?, fields: [TemplateValue.Member] = []) {
    self.role = role
    self.content = content
    self.fields = fields
  }

  public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
  public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
  public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

  /// The message as the dict a template sees.
  public var templateValue: TemplateValue {
    .object(
      [
        TemplateValue.Member("role", .string(role)),
        TemplateValue.Member("content", content.map { .string($0) } ?? .null)
      ]
        + fields.filter { $0.key != "role" && $0.key != "content" })
  }
}
