#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Python's text conventions, on Unicode scalars (Python strings are code point sequences): `repr`, float
/// formatting, and the `str` methods templates call.
enum PythonFormat {
  /// `repr(float)`: the shortest round-tripping form, `1.0` for integral values, exponent from 1e16 on.
  static func float(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == d.rounded(), abs(d) < 1e16 {
      let text = String(Int64(d))
      return (d == 0 && d.sign == .minus ? "-" : "") + text + ".0"
    }
    var text = "\(d)"
    // Swift writes `1e-05` and `1e+16` as Python does; only a missing exponent sign or digit count differs.
    if let e = text.firstIndex(of: "e") {
      var exponent = String(text[text.index(after: e)...])
      var sign = "+"
      if exponent.hasPrefix("-") || exponent.hasPrefix("+") {
        sign = String(exponent.removeFirst())
      }
      if exponent.count < 2 { exponent = "0" + exponent }
      text = String(text[..<e]) + "e" + sign + exponent
    }
    return text
  }

  /// `repr(str)`: single quotes unless the text holds `'` and no `"`; escapes as Python writes them.
  static func stringRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
      case "\n": out.append(contentsOf: "\\n".unicodeScalars)
      case "\r": out.append(contentsOf: "\\r".unicodeScalars)
      case "\t": out.append(contentsOf: "\\t".unicodeScalars)
      case quote:
        out.append("\\")
        out.append(scalar)
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0) {
          out.append(contentsOf: "\\x\(hex(scalar.value, 2))".unicodeScalars)
        } else {
          out.append(scalar)
        }
      }
    }
    out.append(quote)
    return String(out)
  }

  static func hex(_ value: UInt32, _ width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }

  // MARK: str methods on scalars

  static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

  static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
  }

  /// Index of the first occurrence of `needle` in `haystack` at or after `from`.
  static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from: Int = 0) -> Int? {
    if needle.isEmpty { return from <= haystack.count ? from : nil }
    guard haystack.count >= needle.count else { return nil }
    var i = from
    while i <= haystack.count - needle.count {
      if haystack[i] == needle[0], haystack[i..<i + needle.count].elementsEqual(needle) { return i }
      i += 1
    }
    return nil
  }

  static func contains(_ haystack: String, _ needle: String) -> Bool {
    find(scalars(needle), in: scalars(haystack)) != nil
  }

  /// `str.replace(old, new, count)`.
  static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
    let text = scalars(s)
    let o = scalars(old)
    let n = scalars(new)
    var out: [Unicode.Scalar] = []
    var i = 0
    var done = 0
    if o.isEmpty {
      // Python inserts `new` before every character and at the end.
      for scalar in text {
        if count < 0 || done < count {
          out += n
          done += 1
        }
        out.append(scalar)
      }
      if count < 0 || done < count { out += n }
      return string(out)
    }
    while let j = find(o, in: text, from: i), count < 0 || done < count {
      out += text[i..<j]
      out += n
      i = j + o.count
      done += 1
    }
    out += text[i...]
    return string(out)
  }

  /// `str.split(sep, maxsplit)`; `sep` nil splits on runs of whitespace.
  static func split(_ s: String, separator: String?, maxSplit: Int = -1) throws -> [String] {
    let text = scalars(s)
    guard let separator else {
      var parts: [String] = []
      var i = 0
      while i < text.count {
        while i < text.count, Lexer.isWhitespace(text[i]) { i += 1 }
        if i == text.count { break }
        if maxSplit >= 0, parts.count == maxSplit {
          var end = text.count
          while end > i, Lexer.isWhitespace(text[end - 1]) { end -= 1 }
          parts.append(string(text[i..<end]))
          break
        }
        let start = i
        while i < text.count, !Lexer.isWhitespace(text[i]) { i += 1 }
        parts.append(string(text[start..<i]))
      }
      return parts
    }
    let sep = scalars(separator)
    guard !sep.isEmpty else { throw ValueError.type("empty separator") }
    var parts: [String] = []
    var i = 0
    while maxSplit < 0 || parts.count < maxSplit, let j = find(sep, in: text, from: i) {
      parts.append(string(text[i..<j]))
      i = j + sep.count
    }
    parts.append(string(text[i...]))
    return parts
  }

  /// `str.strip(chars)` on the chosen sides; `chars` nil strips whitespace.
  static func strip(_ s: String, _ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
    let text = scalars(s)
    let set = chars.map { Set($0.unicodeScalars) }
    func strippable(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? Lexer.isWhitespace(c) }
    var start = 0
    var end = text.count
    if leading { while start < end, strippable(text[start]) { start += 1 } }
    if trailing { while end > start, strippable(text[end - 1]) { end -= 1 } }
    return string(text[start..<end])
  }

  static func upper(_ s: String) -> String { s.uppercased() }
  static func lower(_ s: String) -> String { s.lowercased() }

  /// `str.capitalize()`: first character upper case, the rest lower case.
  static func capitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased() + string(s.unicodeScalars.dropFirst()).lowercased()
  }

  /// `str.title()`: upper case after any non-letter, lower case after a letter.
  static func title(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for scalar in s.unicodeScalars {
      let cased = scalar.properties.isCased
      out += previousCased ? String(scalar).lowercased() : String(scalar).uppercased()
      previousCased = cased
    }
    return out
  }

  /// `str.splitlines()`.
  static func splitLines(_ s: String) -> [String] {
    let text = scalars(s)
    var lines: [String] = []
    var start = 0
    var i = 0
    while i < text.count {
      switch text[i].value {
      case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
        lines.append(string(text[start..<i]))
        start = i + 1
      case 0x0D:
        lines.append(string(text[start..<i]))
        if i + 1 < text.count, text[i + 1] == "\n" { i += 1 }
        start = i + 1
      default: break
      }
      i += 1
    }
    if start < text.count { lines.append(string(text[start...])) }
    return lines
  }

  /// `datetime.now().strftime(format)` in local time, through the C library (as CPython does).
  static func formatTime(_ format: String, at seconds: Double) -> String {
    var time = time_t(seconds)
    var parts = tm()
    localtime_r(&time, &parts)
    var buffer = [Int8](repeating: 0, count: 512)
    let count = strftime(&buffer, buffer.count, format, &parts)
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
