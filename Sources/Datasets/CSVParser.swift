/// A byte-level CSV/TSV record parser reproducing what Python's `csv.reader` yields for a
/// file opened with `newline=''` under the default dialect (`doublequote=True`,
/// `strict=False`, no escape character, no `skipinitialspace`):
///
/// - `\r\n`, `\r` and `\n` end a record outside quotes; blank lines yield no record;
/// - a field starting with `"` is quoted: delimiters and line breaks inside are literal,
///   `""` is a literal quote, and characters after the closing quote are appended as-is;
/// - a `"` inside an unquoted field is literal;
/// - a file ending inside a quoted field yields the partial field.
///
/// Delimiters and quotes are ASCII, so parsing bytes before UTF-8 decoding is equivalent to
/// parsing decoded text, provided the bytes on either side of a dropped closing quote
/// (`"ab"cd`) are decoded separately, as Python's stream decoder sees them: fields record
/// those positions as segment breaks.
struct CSVParser {
  /// The raw bytes of one field.
  struct RawField {
    var bytes: ArraySlice<UInt8>
    /// Offsets (from `bytes.startIndex`) where a closing quote was dropped.
    var segmentBreaks: [Int] = []

    /// The field decoded as Python would, with the number of U+FFFD substitutions.
    func decoded() -> (string: String, replacements: Int) {
      guard !segmentBreaks.isEmpty else { return UTF8Repair.decode(bytes) }
      var result = ""
      var replacements = 0
      var start = bytes.startIndex
      for cut in segmentBreaks.map({ bytes.startIndex + $0 }) + [bytes.endIndex] {
        let (s, n) = UTF8Repair.decode(bytes[start..<cut])
        result += s
        replacements += n
        start = cut
      }
      return (result, replacements)
    }
  }

  /// One parsed record: raw fields and the 1-based physical line where it starts.
  struct RawRecord {
    var fields: [RawField]
    var line: Int
    /// True when the file ended inside a quoted field of this record.
    var unterminatedQuote: Bool
  }

  let delimiter: UInt8
  /// When false, `"` has no special meaning (like `csv.QUOTE_NONE`).
  let quoting: Bool

  private enum State { case startRecord, startField, inField, inQuotedField, quoteInQuotedField }

  private static let quote = UInt8(ascii: "\"")
  private static let cr = UInt8(ascii: "\r")
  private static let lf = UInt8(ascii: "\n")

  /// Parses all records of `bytes`.
  func parse(_ bytes: [UInt8]) -> [RawRecord] {
    var records: [RawRecord] = []
    var fields: [RawField] = []
    var field: [UInt8] = []
    var breaks: [Int] = []
    var fieldIsSlice = true  // fast path: the field is a contiguous unmodified slice
    var fieldStart = 0
    var state = State.startRecord
    var line = 1
    var recordLine = 1
    var i = 0
    let n = bytes.count

    func saveField(end: Int) {
      if fieldIsSlice {
        fields.append(RawField(bytes: bytes[fieldStart..<end]))
      } else {
        fields.append(RawField(bytes: ArraySlice(field), segmentBreaks: breaks))
        field.removeAll(keepingCapacity: true)
        breaks.removeAll()
      }
      fieldIsSlice = true
    }
    /// Switches to an owned buffer (needed once bytes are dropped or rewritten).
    func materialize(upTo end: Int) {
      if fieldIsSlice {
        field.removeAll(keepingCapacity: true)
        field.append(contentsOf: bytes[fieldStart..<end])
        fieldIsSlice = false
      }
    }
    func endRecord() {
      records.append(RawRecord(fields: fields, line: recordLine, unterminatedQuote: false))
      fields.removeAll(keepingCapacity: true)
      state = .startRecord
    }

    while i < n {
      let c = bytes[i]
      let isNewline = c == Self.cr || c == Self.lf
      switch state {
      case .startRecord:
        if isNewline { break }
        recordLine = line
        state = .startField
        continue  // reprocess c in startField
      case .startField:
        if quoting && c == Self.quote {
          state = .inQuotedField
          fieldStart = i + 1
          fieldIsSlice = true
        } else if c == delimiter {
          fieldStart = i
          saveField(end: i)
        } else if isNewline {
          fieldStart = i
          saveField(end: i)
          endRecord()
        } else {
          fieldStart = i
          fieldIsSlice = true
          state = .inField
        }
      case .inField:
        if c == delimiter {
          saveField(end: i)
          state = .startField
        } else if isNewline {
          saveField(end: i)
          endRecord()
        } else if !fieldIsSlice {
          field.append(c)
        }
      case .inQuotedField:
        if c == Self.quote {
          state = .quoteInQuotedField
          materialize(upTo: i)
        } else if !fieldIsSlice {
          field.append(c)
        }
      case .quoteInQuotedField:
        if c == Self.quote {
          field.append(c)
          state = .inQuotedField
        } else if c == delimiter {
          saveField(end: i)
          state = .startField
        } else if isNewline {
          saveField(end: i)
          endRecord()
        } else {
          breaks.append(field.count)
          field.append(c)
          state = .inField
        }
      }
      // Physical line accounting (universal newlines: \r\n, \r, \n).
      if c == Self.lf || (c == Self.cr && (i + 1 >= n || bytes[i + 1] != Self.lf)) { line += 1 }
      i += 1
    }
    switch state {
    case .startRecord:
      break
    case .inQuotedField:
      saveField(end: n)
      records.append(RawRecord(fields: fields, line: recordLine, unterminatedQuote: true))
    case .startField:
      fields.append(RawField(bytes: []))
      records.append(RawRecord(fields: fields, line: recordLine, unterminatedQuote: false))
    case .inField, .quoteInQuotedField:
      saveField(end: n)
      records.append(RawRecord(fields: fields, line: recordLine, unterminatedQuote: false))
    }
    return records
  }
}
