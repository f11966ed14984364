/// Splits template source into tokens, exactly as jinja2's lexer does with transformers' settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`): `-`/`+` whitespace control,
/// comments dropped, `{% raw %}` kept verbatim, `\r\n` and `\r` read as `\n`.
struct Token: Equatable {
  enum Kind: Equatable {
    case data(String)
    case blockBegin, blockEnd, variableBegin, variableEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
  }
  var kind: Kind
  var location: SourceLocation
}

struct Lexer {
  private let source: [Unicode.Scalar]
  private var position = 0
  private var lineStarting = true
  private var tokens: [Token] = []
  private var lineStarts: [Int] = [0]

  /// The source with newlines normalized and one trailing newline removed (jinja2's defaults).
  init(source text: String) {
    var scalars: [Unicode.Scalar] = []
    scalars.reserveCapacity(text.unicodeScalars.count)
    var iterator = text.unicodeScalars.makeIterator()
    var pending = iterator.next()
    while let scalar = pending {
      pending = iterator.next()
      if scalar == "\r" {
        scalars.append("\n")
        if pending == "\n" { pending = iterator.next() }
      } else {
        scalars.append(scalar)
      }
    }
    if scalars.last == "\n" { scalars.removeLast() }
    source = scalars
    for (i, scalar) in scalars.enumerated() where scalar == "\n" { lineStarts.append(i + 1) }
  }

  static func tokenize(_ text: String) throws -> [Token] {
    var lexer = Lexer(source: text)
    try lexer.run()
    return lexer.tokens
  }

  func location(_ index: Int) -> SourceLocation {
    var low = 0
    var high = lineStarts.count - 1
    while low < high {
      let mid = (low + high + 1) / 2
      if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
    }
    return SourceLocation(line: low + 1, column: index - lineStarts[low] + 1)
  }

  private func starts(with text: String, at index: Int) -> Bool {
    var i = index
    for scalar in text.unicodeScalars {
      guard i < source.count, source[i] == scalar else { return false }
      i += 1
    }
    return true
  }

  private func string(_ range: Range<Int>) -> String {
    var result = String.UnicodeScalarView()
    result.append(contentsOf: source[range])
    return String(result)
  }

  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default: return false
    }
  }

  private func skipWhitespace(from index: Int) -> Int {
    var i = index
    while i < source.count, Lexer.isWhitespace(source[i]) { i += 1 }
    return i
  }

  private enum TagKind { case block, variable, comment }

  /// The next `{{`, `{%` or `{#` at or after `index`.
  private func nextTag(from index: Int) -> (Int, TagKind)? {
    var i = index
    while i + 1 < source.count {
      if source[i] == "{" {
        switch source[i + 1] {
        case "%": return (i, .block)
        case "{": return (i, .variable)
        case "#": return (i, .comment)
        default: break
        }
      }
      i += 1
    }
    return nil
  }

  /// jinja2's handling of the data before a tag: `-` strips all trailing whitespace; otherwise `lstrip_blocks`
  /// removes spaces between a line start and a block or comment tag.
  private func strippedData(_ range: Range<Int>, sign: Unicode.Scalar?, lstrip: Bool) -> Range<Int> {
    if sign == "-" {
      var end = range.upperBound
      while end > range.lowerBound, Lexer.isWhitespace(source[end - 1]) { end -= 1 }
      return range.lowerBound..<end
    }
    guard sign != "+", lstrip else { return range }
    var lineStart = range.lowerBound
    var sawNewline = false
    for i in range.reversed() where source[i] == "\n" {
      lineStart = i + 1
      sawNewline = true
      break
    }
    guard sawNewline || lineStarting, lineStart < range.upperBound else { return range }
    for i in lineStart..<range.upperBound where !Lexer.isWhitespace(source[i]) { return range }
    return range.lowerBound..<lineStart
  }

  private mutating func emitData(_ range: Range<Int>) {
    if !range.isEmpty { tokens.append(Token(kind: .data(string(range)), location: location(range.lowerBound))) }
  }

  private mutating func run() throws {
    while true {
      guard let (start, kind) = nextTag(from: position) else {
        emitData(position..<source.count)
        return
      }
      var after = start + 2
      var sign: Unicode.Scalar? = nil
      if after < source.count, source[after] == "-" || source[after] == "+" {
        sign = source[after]
        after += 1
      }
      if kind == .block, let rawEnd = rawBegin(at: after) {
        emitData(strippedData(position..<start, sign: sign, lstrip: true))
        try lexRaw(from: rawEnd, openedAt: start)
        continue
      }
      emitData(strippedData(position..<start, sign: sign, lstrip: kind != .variable))
      switch kind {
      case .comment: try lexComment(from: after, openedAt: start)
      case .block:
        tokens.append(Token(kind: .blockBegin, location: location(start)))
        try lexTag(from: after, closer: "%", openedAt: start)
      case .variable:
        tokens.append(Token(kind: .variableBegin, location: location(start)))
        try lexTag(from: after, closer: "}", openedAt: start)
      }
    }
  }

  /// After `{%` and its sign: `\s*raw\s*(-%}\s*|%})`, returning where the raw text starts.
  private func rawBegin(at index: Int) -> Int? {
    var i = skipWhitespace(from: index)
    guard starts(with: "raw", at: i) else { return nil }
    i = skipWhitespace(from: i + 3)
    if starts(with: "-%}", at: i) { return skipWhitespace(from: i + 3) }
    if starts(with: "%}", at: i) { return i + 2 }
    return nil
  }

  private mutating func lexRaw(from index: Int, openedAt: Int) throws {
    var i = index
    while i + 1 < source.count {
      if source[i] == "{", source[i + 1] == "%" {
        var j = i + 2
        var sign: Unicode.Scalar? = nil
        if j < source.count, source[j] == "-" || source[j] == "+" {
          sign = source[j]
          j += 1
        }
        j = skipWhitespace(from: j)
        if starts(with: "endraw", at: j) {
          j = skipWhitespace(from: j + 6)
          if let end = tagEnd(at: j, closer: "%") {
            emitData(strippedData(index..<i, sign: sign, lstrip: true))
            position = end
            lineStarting = end > 0 && source[end - 1] == "\n"
            return
          }
        }
      }
      i += 1
    }
    throw EngineError.syntax(location(openedAt), "Missing end of raw directive")
  }

  /// The end of a closing `+%}`, `-%}` (with the whitespace after it) or `%}` (with one newline: trim_blocks)
  /// at `index`; for variables (`closer` `}`), `-}}` with whitespace or `}}`.
  private func tagEnd(at index: Int, closer: Unicode.Scalar) -> Int? {
    let close = closer == "%" ? "%}" : "}}"
    if closer == "%", starts(with: "+" + close, at: index) { return index + 3 }
    if starts(with: "-" + close, at: index) { return skipWhitespace(from: index + 3) }
    if starts(with: close, at: index) {
      let end = index + 2
      if closer == "%", end < source.count, source[end] == "\n" { return end + 1 }
      return end
    }
    return nil
  }

  private mutating func lexComment(from index: Int, openedAt: Int) throws {
    var i = index
    while i < source.count {
      if starts(with: "+#}", at: i) {
        position = i + 3
        lineStarting = false
        return
      }
      if starts(with: "-#}", at: i) {
        position = skipWhitespace(from: i + 3)
        lineStarting = source[position - 1] == "\n"
        return
      }
      if starts(with: "#}", at: i) {
        position = i + 2
        if position < source.count, source[position] == "\n" { position += 1 }
        lineStarting = source[position - 1] == "\n"
        return
      }
      i += 1
    }
    throw EngineError.syntax(location(openedAt), "Missing end of comment tag")
  }

  private static let operators = [
    "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=",
    ".", ":", "|", ",", ";"
  ]

  private mutating func lexTag(from index: Int, closer: Unicode.Scalar, openedAt: Int) throws {
    var i = index
    var balancing: [Unicode.Scalar] = []
    while true {
      guard i < source.count else {
        let what = closer == "%" ? "block" : "variable"
        throw EngineError.syntax(location(openedAt), "unexpected end of template, expected end of \(what) tag")
      }
      if balancing.isEmpty, let end = tagEnd(at: i, closer: closer) {
        tokens.append(Token(kind: closer == "%" ? .blockEnd : .variableEnd, location: location(i)))
        position = end
        lineStarting = source[end - 1] == "\n"
        return
      }
      let scalar = source[i]
      if Lexer.isWhitespace(scalar) {
        i += 1
        continue
      }
      let here = location(i)
      if let (kind, end) = try number(at: i) {
        tokens.append(Token(kind: kind, location: here))
        i = end
      } else if scalar == "_" || scalar.properties.isAlphabetic {
        var j = i + 1
        while j < source.count, source[j] == "_" || source[j].properties.isAlphabetic || isDigit(source[j]) { j += 1 }
        tokens.append(Token(kind: .name(string(i..<j)), location: here))
        i = j
      } else if scalar == "'" || scalar == "\"" {
        let (value, end) = try stringLiteral(at: i)
        tokens.append(Token(kind: .string(value), location: here))
        i = end
      } else if let op = Lexer.operators.first(where: { starts(with: $0, at: i) }) {
        switch op {
        case "(": balancing.append(")")
        case "[": balancing.append("]")
        case "{": balancing.append("}")
        case ")", "]", "}":
          guard let expected = balancing.popLast() else { throw EngineError.syntax(here, "unexpected '\(op)'") }
          guard String(expected) == op else {
            throw EngineError.syntax(here, "unexpected '\(op)', expected '\(expected)'")
          }
        default: break
        }
        tokens.append(Token(kind: .op(op), location: here))
        i += op.unicodeScalars.count
      } else {
        throw EngineError.syntax(here, "unexpected char '\(Character(scalar))'")
      }
    }
  }

  private func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar >= "0" && scalar <= "9" }

  /// Digits with `_` separators.
  private func digits(from index: Int) -> Int {
    var j = index
    while j < source.count, isDigit(source[j]) || (source[j] == "_" && j + 1 < source.count && isDigit(source[j + 1])) {
      j += 1
    }
    return j
  }

  /// jinja2's float (`1.5`, `1e3`, `1.5e-3`) or decimal integer.
  private func number(at index: Int) throws -> (Token.Kind, Int)? {
    guard isDigit(source[index]), index == 0 || source[index - 1] != "." else {
      if isDigit(source[index]) {  // `a.0.1`: digits after a dot are an integer attribute
        let end = digits(from: index)
        return (.integer(Int(string(index..<end).replacingOccurrences(of: "_", with: "")) ?? 0), end)
      }
      return nil
    }
    var end = digits(from: index)
    var isFloat = false
    if end + 1 < source.count, source[end] == ".", isDigit(source[end + 1]) {
      end = digits(from: end + 1)
      isFloat = true
    }
    if end < source.count, source[end] == "e" || source[end] == "E" {
      var j = end + 1
      if j < source.count, source[j] == "+" || source[j] == "-" { j += 1 }
      if j < source.count, isDigit(source[j]) {
        end = digits(from: j)
        isFloat = true
      }
    }
    let text = string(index..<end).replacingOccurrences(of: "_", with: "")
    if isFloat {
      guard let value = Double(text) else { throw EngineError.syntax(location(index), "invalid number \(text)") }
      return (.float(value), end)
    }
    guard let value = Int(text) else {
      throw EngineError.unsupported(location(index), "integer literal \(text) (too large)")
    }
    return (.integer(value), end)
  }

  /// A quoted string with Python's escapes (`\n`, `\t`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh`, octal...); an unknown
  /// escape keeps its backslash, as Python's `unicode-escape` codec does.
  private func stringLiteral(at index: Int) throws -> (String, Int) {
    let quote = source[index]
    var result = String.UnicodeScalarView()
    var i = index + 1
    func fail() -> EngineError { .syntax(location(index), "unterminated string") }
    while i < source.count {
      let scalar = source[i]
      if scalar == quote { return (String(result), i + 1) }
      if scalar != "\\" {
        result.append(scalar)
        i += 1
        continue
      }
      guard i + 1 < source.count else { throw fail() }
      let next = source[i + 1]
      i += 2
      switch next {
      case "\n": break
      case "\\": result.append("\\")
      case "'": result.append("'")
      case "\"": result.append("\"")
      case "a": result.append("\u{07}")
      case "b": result.append("\u{08}")
      case "f": result.append("\u{0C}")
      case "n": result.append("\n")
      case "r": result.append("\r")
      case "t": result.append("\t")
      case "v": result.append("\u{0B}")
      case "0"..."7":
        var value = next.value - 48
        var count = 1
        while count < 3, i < source.count, source[i] >= "0", source[i] <= "7" {
          value = value * 8 + source[i].value - 48
          i += 1
          count += 1
        }
        guard let s = Unicode.Scalar(value) else { throw fail() }
        result.append(s)
      case "x", "u", "U":
        let width = next == "x" ? 2 : next == "u" ? 4 : 8
        guard i + width <= source.count, let value = UInt32(string(i..<i + width), radix: 16),
          let s = Unicode.Scalar(value)
        else {
          throw EngineError.syntax(location(index), "invalid \\\(next) escape in string")
        }
        result.append(s)
        i += width
      default:
        result.append("\\")
        result.append(next)
      }
    }
    throw fail()
  }
}
