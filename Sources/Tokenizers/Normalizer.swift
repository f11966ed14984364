import Foundation

/// HF normalizers of the BPE pipeline, applied to UTF-8 bytes of one split of the input
/// (the text between added tokens).
public indirect enum Normalizer: Sendable {
  case nfc
  case nfd
  case nfkc
  case nfkd
  case lowercase
  /// Prepends the string to non-empty text.
  case prepend(String)
  /// Replaces every occurrence of the pattern (literal or regex) with `content`.
  case replace(pattern: String, isRegex: Bool, content: String)
  /// Removes leading and/or trailing whitespace.
  case strip(left: Bool, right: Bool)
  case sequence([Normalizer])
}

/// A normalizer ready to run (literal patterns as bytes, regexes compiled).
final class CompiledNormalizer: Sendable {
  enum Step: Sendable {
    case unicode(UnicodeForm)
    case lowercase
    case prepend([UInt8])
    case replace(SplitPattern, [UInt8])
    case strip(left: Bool, right: Bool)
  }

  enum UnicodeForm: Sendable {
    case nfc, nfd, nfkc, nfkd
  }

  let steps: [Step]

  init(_ normalizer: Normalizer) throws {
    var steps: [Step] = []
    func add(_ n: Normalizer) throws {
      switch n {
      case .nfc: steps.append(.unicode(.nfc))
      case .nfd: steps.append(.unicode(.nfd))
      case .nfkc: steps.append(.unicode(.nfkc))
      case .nfkd: steps.append(.unicode(.nfkd))
      case .lowercase: steps.append(.lowercase)
      case let .prepend(s): steps.append(.prepend(Array(s.utf8)))
      case let .replace(pattern, isRegex, content):
        steps.append(
          .replace(isRegex ? try SplitPattern.regex(pattern) : .literal(Array(pattern.utf8)), Array(content.utf8)))
      case let .strip(left, right): steps.append(.strip(left: left, right: right))
      case let .sequence(items): for item in items { try add(item) }
      }
    }
    try add(normalizer)
    self.steps = steps
  }

  func apply(_ input: [UInt8]) -> [UInt8] {
    var text = input
    for step in steps {
      switch step {
      case let .unicode(form): text = Self.unicode(text, form)
      case .lowercase: text = Self.lowercase(text)
      case let .prepend(prefix): if !text.isEmpty { text = prefix + text }
      case let .replace(pattern, content): text = Self.replace(text, pattern, content)
      case let .strip(left, right): text = Self.strip(text, left: left, right: right)
      }
    }
    return text
  }

  /// Unicode normalization; ASCII (and, for NFC, anything below U+0300) is already normalized.
  static func unicode(_ text: [UInt8], _ form: UnicodeForm) -> [UInt8] {
    var limit: UInt8 = 0x80
    if form == .nfc { limit = 0xCC }  // lead bytes below 0xCC encode U+0000...U+02FF
    if !text.contains(where: { $0 >= limit }) { return text }
    let string = String(decoding: text, as: UTF8.self)
    let result: String
    switch form {
    case .nfc: result = string.precomposedStringWithCanonicalMapping
    case .nfd: result = string.decomposedStringWithCanonicalMapping
    case .nfkc: result = string.precomposedStringWithCompatibilityMapping
    case .nfkd: result = string.decomposedStringWithCompatibilityMapping
    }
    return Array(result.utf8)
  }

  /// Rust's `char::to_lowercase` on each character (no context-dependent final sigma).
  static func lowercase(_ text: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    text.withUnsafeBufferPointer { t in
      var i = 0
      while i < t.count {
        let b = t[i]
        if b < 0x80 {
          out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
          i += 1
          continue
        }
        let (v, n) = scalarAt(t.baseAddress!, i)
        if let scalar = Unicode.Scalar(v) {
          let mapped = scalar.properties.lowercaseMapping
          out.append(contentsOf: mapped.utf8)
        }
        i += n
      }
    }
    return out
  }

  static func replace(_ text: [UInt8], _ pattern: SplitPattern, _ content: [UInt8]) -> [UInt8] {
    var parts: [SplitPart] = []
    var out: [UInt8] = []
    text.withUnsafeBufferPointer { t in
      guard let base = t.baseAddress else { return }
      pattern.findMatches(base, 0..<t.count, into: &parts)
      for part in parts {
        if part.isMatch {
          out += content
        } else {
          out.append(contentsOf: t[part.start..<part.end])
        }
      }
    }
    return text.isEmpty ? text : out
  }

  static func strip(_ text: [UInt8], left: Bool, right: Bool) -> [UInt8] {
    text.withUnsafeBufferPointer { t in
      guard let base = t.baseAddress else { return [] }
      var start = 0
      var end = t.count
      if left {
        while start < end {
          let (v, n) = scalarAt(base, start)
          guard Unicode.Scalar(v)?.properties.isWhitespace == true else { break }
          start += n
        }
      }
      if right {
        while end > start {
          let s = previousScalarStart(base, end)
          guard Unicode.Scalar(scalarAt(base, s).value)?.properties.isWhitespace == true else { break }
          end = s
        }
      }
      return Array(t[start..<end])
    }
  }
}
