import Foundation
import HTTPTypes
import Hummingbird

/// An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
struct APIError: Error, CustomStringConvertible {
  var status: HTTPResponse.Status
  var message: String
  var type: String
  var param: String?
  var code: String?

  var description: String { message }

  static func invalid(_ message: String, param: String? = nil) -> APIError {
    APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: nil)
  }
  static func queueFull(_ limit: Int) -> APIError {
    APIError(
      status: .tooManyRequests, message: "the server is busy: \(limit) requests are already waiting; retry later",
      type: "rate_limit_error", param: nil, code: "queue_full")
  }
  static let unauthorized = APIError(
    status: .unauthorized, message: "invalid or missing API key (send 'Authorization: Bearer KEY')",
    type: "invalid_request_error", param: nil, code: "invalid_api_key")

  var json: [String: Any] {
    ["error": ["message": message, "type": type, "param": param as Any? ?? NSNull(), "code": code as Any? ?? NSNull()]]
  }

  var response: Response { jsonResponse(json, status: status) }
}

/// A JSON response.
func jsonResponse(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
  let data =
    (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
  return Response(
    status: status, headers: [.contentType: "application/json"],
    body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// Constant-time equality of two byte strings (the time depends on their lengths only).
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  var diff = UInt8(a.count == b.count ? 0 : 1)
  let n = max(a.count, b.count)
  for i in 0..<n {
    let x = i < a.count ? a[i] : 0
    let y = i < b.count ? b[i] : 0
    diff |= x ^ y
  }
  return diff == 0
}

/// Typed reads from a decoded JSON body, each throwing a 400 that names the field.
struct JSONBody {
  let object: [String: Any]

  init(_ data: ByteBuffer) throws {
    let bytes = Data(buffer: data)
    guard String(data: bytes, encoding: .utf8) != nil else {
      throw APIError.invalid("the request body is not valid UTF-8")
    }
    let parsed: Any
    do {
      parsed = try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
    } catch {
      throw APIError.invalid("the request body is not valid JSON")
    }
    guard let object = parsed as? [String: Any] else {
      throw APIError.invalid("the request body must be a JSON object")
    }
    self.object = object
  }

  func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

  func string(_ key: String) throws -> String? {
    guard has(key) else { return nil }
    guard let s = object[key] as? String else { throw APIError.invalid("'\(key)' must be a string", param: key) }
    return s
  }

  func bool(_ key: String) throws -> Bool? {
    guard has(key) else { return nil }
    guard let b = object[key] as? Bool, isBool(object[key]!) else {
      throw APIError.invalid("'\(key)' must be a boolean", param: key)
    }
    return b
  }

  func number(_ key: String) throws -> Double? {
    guard has(key) else { return nil }
    guard !isBool(object[key]!), let n = object[key] as? NSNumber, n.doubleValue.isFinite else {
      throw APIError.invalid("'\(key)' must be a number", param: key)
    }
    return n.doubleValue
  }

  func integer(_ key: String) throws -> Int? {
    guard let d = try number(key) else { return nil }
    guard d == d.rounded(), abs(d) < 9e15 else { throw APIError.invalid("'\(key)' must be an integer", param: key) }
    return Int(d)
  }

  /// A string or a list of strings.
  func strings(_ key: String) throws -> [String]? {
    guard has(key) else { return nil }
    if let s = object[key] as? String { return [s] }
    if let a = object[key] as? [Any], let s = a as? [String], a.allSatisfy({ $0 is String }) { return s }
    throw APIError.invalid("'\(key)' must be a string or a list of strings", param: key)
  }

  /// JSON `true`/`false` (Foundation decodes them as a boolean subclass of NSNumber, numbers as NSNumber itself).
  private func isBool(_ value: Any) -> Bool {
    if let n = value as? NSNumber { return type(of: n) != NSNumber.self }
    return value is Bool
  }
}
