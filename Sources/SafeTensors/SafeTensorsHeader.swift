/// Description of one tensor in a safetensors header.
public struct TensorInfo: Sendable, Hashable {
  /// Element type.
  public let dtype: SafeTensorsDType
  /// Dimensions; `[]` for a scalar.
  public let shape: [Int]
  /// Byte range relative to the start of the data buffer (`begin..<end`).
  public let dataOffsets: Range<Int>

  public init(dtype: SafeTensorsDType, shape: [Int], dataOffsets: Range<Int>) {
    self.dtype = dtype
    self.shape = shape
    self.dataOffsets = dataOffsets
  }

  /// Number of bytes the tensor occupies (`end - begin`).
  public var byteCount: Int { dataOffsets.count }

  /// Number of elements (product of `shape`; 1 for a scalar). Exact for
  /// validated infos: their true product is either 0 or fits in `Int`, and
  /// wrapping multiplication preserves both.
  public var elementCount: Int { shape.reduce(1, &*) }
}

/// A parsed and fully validated safetensors header.
///
/// Validation mirrors the reference Rust crate: the JSON must be an object
/// of tensor entries plus an optional `"__metadata__"` string map; every
/// entry needs `dtype`, `shape` and `data_offsets` (other fields are
/// ignored, as `serde` does); sorted by offsets the tensors must tile the
/// data buffer exactly, and each span must equal shape x dtype size.
/// This implementation is stricter in one respect: duplicate keys anywhere
/// in the header are rejected instead of silently keeping the last one.
public struct SafeTensorsHeader: Sendable {
  /// Maximum header length, as in the reference crate (`MAX_HEADER_SIZE`).
  public static let maxHeaderLength: UInt64 = 100_000_000

  /// `__metadata__`, or `nil` when the header has none (or it is `null`).
  public let metadata: [String: String]?
  /// Tensor names ordered by data offsets (ties keep header order).
  public let names: [String]
  /// Infos parallel to `names`.
  public let infos: [TensorInfo]
  /// Header JSON length in bytes (the `N` of the 8-byte prefix).
  public let headerLength: Int
  /// Size of the data buffer that follows the header.
  public let dataByteCount: Int

  /// Name -> index in header order; `positions` maps that to offset order.
  private let indexByName: [String: Int]
  private let positions: [Int]

  /// Absolute offset of the data buffer within the file (`8 + N`).
  public var dataStart: Int { 8 + headerLength }

  /// Index of `name` in `names`/`infos`, if present.
  public func index(of name: String) -> Int? { indexByName[name].map { positions[$0] } }

  /// Info for `name`, if present.
  public func info(_ name: String) -> TensorInfo? {
    index(of: name).map { infos[$0] }
  }

  /// Parses and validates a whole safetensors file image.
  ///
  /// - Parameters:
  ///   - file: every byte of the file (prefix, header, data).
  ///   - path: used in error messages (`<memory>` for buffers).
  public static func parse(file: UnsafeRawBufferPointer, path: String) throws -> SafeTensorsHeader {
    func failure(_ kind: SafeTensorsError.Kind) -> SafeTensorsError {
      SafeTensorsError(path: path, kind: kind)
    }
    guard file.count >= 8 else { throw failure(.fileTooSmall(size: file.count)) }
    let declared = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
    guard declared <= maxHeaderLength else { throw failure(.headerTooLarge(length: declared)) }
    let length = Int(declared)
    guard length <= file.count - 8 else {
      throw failure(.headerPastEnd(length: declared, fileSize: file.count))
    }
    let json = UnsafeRawBufferPointer(rebasing: file[8..<(8 + length)])
    if let bad = firstInvalidUTF8Offset(json) { throw failure(.headerNotUTF8(offset: bad)) }

    var cursor = SafeTensorsJSONCursor(json)
    let parsed: Parser.Result
    do {
      parsed = try Parser(path: path).parse(&cursor)
    } catch let error as SafeTensorsJSONCursor.SyntaxError {
      throw failure(.invalidJSON(offset: error.offset, reason: error.reason))
    }
    return try validate(parsed, headerLength: length, dataByteCount: file.count - 8 - length, path: path)
  }

  /// Orders entries by offsets and checks tiling, bounds and sizes.
  private static func validate(
    _ parsed: Parser.Result, headerLength: Int, dataByteCount: Int,
    path: String
  ) throws -> SafeTensorsHeader {
    func failure(_ kind: SafeTensorsError.Kind) -> SafeTensorsError {
      SafeTensorsError(path: path, kind: kind)
    }
    let entries = parsed.entries
    // Header position of each name; also catches duplicate tensor names.
    var indexByName: [String: Int] = [:]
    indexByName.reserveCapacity(entries.count)
    for (index, entry) in entries.enumerated() where indexByName.updateValue(index, forKey: entry.name) != nil {
      throw failure(.duplicateKey(key: entry.name, context: "the header object"))
    }
    let order = entries.indices.sorted { left, right in
      let a = entries[left].info.dataOffsets, b = entries[right].info.dataOffsets
      if a.lowerBound != b.lowerBound { return a.lowerBound < b.lowerBound }
      if a.upperBound != b.upperBound { return a.upperBound < b.upperBound }
      return left < right
    }
    var names: [String] = []
    var infos: [TensorInfo] = []
    var positions = [Int](repeating: 0, count: entries.count)
    names.reserveCapacity(entries.count)
    infos.reserveCapacity(entries.count)

    var covered = 0
    var previousName = ""
    for entryIndex in order {
      let (name, info) = entries[entryIndex]
      let span = info.dataOffsets
      if span.upperBound > dataByteCount {
        throw failure(
          .offsetsOutOfRange(
            name: name, begin: span.lowerBound, end: span.upperBound,
            bufferSize: dataByteCount))
      }
      if span.lowerBound < covered {
        throw failure(
          .overlappingTensors(
            name: name, begin: span.lowerBound,
            other: previousName, otherEnd: covered))
      }
      if span.lowerBound > covered {
        throw failure(.holeBeforeTensor(name: name, begin: span.lowerBound, previousEnd: covered))
      }
      switch info.dtype.size(forShape: info.shape) {
      case .overflow:
        throw failure(.shapeOverflow(name: name, shape: info.shape, dtype: info.dtype))
      case .misaligned:
        throw failure(.misalignedSubByteTensor(name: name, shape: info.shape, dtype: info.dtype))
      case let .bytes(expected) where expected != span.count:
        throw failure(
          .sizeMismatch(
            name: name, dtype: info.dtype, shape: info.shape,
            expectedBytes: expected, actualBytes: span.count))
      case .bytes:
        break
      }
      covered = span.upperBound
      previousName = name
      positions[entryIndex] = names.count
      names.append(name)
      infos.append(info)
    }
    if covered != dataByteCount {
      throw failure(.trailingBytes(coveredUpTo: covered, bufferSize: dataByteCount))
    }
    return SafeTensorsHeader(
      metadata: parsed.metadata, names: names, infos: infos,
      headerLength: headerLength, dataByteCount: dataByteCount,
      indexByName: indexByName, positions: positions)
  }

  private init(
    metadata: [String: String]?, names: [String], infos: [TensorInfo],
    headerLength: Int, dataByteCount: Int, indexByName: [String: Int], positions: [Int]
  ) {
    self.metadata = metadata
    self.names = names
    self.infos = infos
    self.headerLength = headerLength
    self.dataByteCount = dataByteCount
    self.indexByName = indexByName
    self.positions = positions
  }
}

/// Schema-directed reader of the header JSON.
private struct Parser {
  struct Result {
    var metadata: [String: String]?
    var entries: [(name: String, info: TensorInfo)]
  }

  let path: String

  private func failure(_ kind: SafeTensorsError.Kind) -> SafeTensorsError {
    SafeTensorsError(path: path, kind: kind)
  }

  /// Error for a value of the wrong JSON type. If the value is not even
  /// well-formed JSON, the syntax error wins (as in a streaming parser).
  private func wrongType(
    _ cursor: SafeTensorsJSONCursor,
    _ make: (_ found: String) -> SafeTensorsError.Kind
  ) -> Error {
    var probe = cursor
    let found = probe.nextValueKind()
    do {
      try probe.skipValue(depth: 2)
    } catch {
      return error
    }
    return failure(make(found))
  }

  func parse(_ cursor: inout SafeTensorsJSONCursor) throws -> Result {
    cursor.skipWhitespace()
    if cursor.isAtEnd { throw cursor.fail("empty header, expected an object") }
    guard cursor.consume(UInt8(ascii: "{")) else {
      let found = cursor.nextValueKind()
      // Report a clear "not an object" only if the value itself is well formed.
      try cursor.skipValue()
      throw failure(.headerNotObject(found: found))
    }
    var result = Result(metadata: nil, entries: [])
    var metadataSeen = false
    try cursor.forEachMember { cursor, key in
      if key == "__metadata__" {
        if metadataSeen { throw failure(.duplicateKey(key: key, context: "the header object")) }
        metadataSeen = true
        result.metadata = try parseMetadata(&cursor)
        return
      }
      result.entries.append((key, try parseEntry(&cursor, name: key)))
    }
    cursor.skipWhitespace()
    if let trailing = cursor.peek {
      throw cursor.fail("trailing characters after the header object (\(SafeTensorsJSONCursor.describe(trailing)))")
    }
    return result
  }

  private func parseMetadata(_ cursor: inout SafeTensorsJSONCursor) throws -> [String: String]? {
    if try cursor.consumeNull() { return nil }
    guard cursor.consume(UInt8(ascii: "{")) else {
      throw wrongType(cursor) { .invalidMetadata(reason: "expected an object of strings, found \($0)") }
    }
    var metadata: [String: String] = [:]
    try cursor.forEachMember { cursor, key in
      cursor.skipWhitespace()
      guard cursor.peek == UInt8(ascii: "\"") else {
        throw wrongType(cursor) { .invalidMetadata(reason: "value of key `\(key)` must be a string, found \($0)") }
      }
      let value = try cursor.parseString()
      if metadata.updateValue(value, forKey: key) != nil {
        throw failure(.duplicateKey(key: key, context: "__metadata__"))
      }
    }
    return metadata
  }

  private func parseEntry(_ cursor: inout SafeTensorsJSONCursor, name: String) throws -> TensorInfo {
    guard cursor.consume(UInt8(ascii: "{")) else {
      throw wrongType(cursor) { .invalidTensorEntry(name: name, reason: "expected an object, found \($0)") }
    }
    var dtype: SafeTensorsDType?
    var shape: [Int]?
    var offsets: Range<Int>?
    try cursor.forEachMember { cursor, field in
      func duplicate() -> SafeTensorsError {
        failure(.duplicateKey(key: field, context: "the entry of tensor `\(name)`"))
      }
      switch field {
      case "dtype":
        if dtype != nil { throw duplicate() }
        cursor.skipWhitespace()
        guard cursor.peek == UInt8(ascii: "\"") else {
          throw wrongType(cursor) { .invalidTensorEntry(name: name, reason: "dtype must be a string, found \($0)") }
        }
        let text = try cursor.parseString()
        guard let parsed = SafeTensorsDType(rawValue: text) else {
          throw failure(.unknownDType(name: name, dtype: text))
        }
        dtype = parsed
      case "shape":
        if shape != nil { throw duplicate() }
        shape = try parseShape(&cursor, name: name)
      case "data_offsets":
        if offsets != nil { throw duplicate() }
        offsets = try parseOffsets(&cursor, name: name)
      default:
        try cursor.skipValue(depth: 2)
      }
    }
    guard let dtype else { throw failure(.invalidTensorEntry(name: name, reason: "missing field `dtype`")) }
    guard let shape else { throw failure(.invalidTensorEntry(name: name, reason: "missing field `shape`")) }
    guard let offsets else { throw failure(.invalidTensorEntry(name: name, reason: "missing field `data_offsets`")) }
    return TensorInfo(dtype: dtype, shape: shape, dataOffsets: offsets)
  }

  /// Reads one non-negative integer that fits in `Int`, else throws `make(reason)`.
  private func parseCount(
    _ cursor: inout SafeTensorsJSONCursor, what: String,
    _ make: (String) -> SafeTensorsError.Kind
  ) throws -> Int {
    cursor.skipWhitespace()
    guard let first = cursor.peek, first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else {
      throw wrongType(cursor) { make("\(what) must be a non-negative integer, found \($0)") }
    }
    switch try cursor.parseNumber() {
    case let .unsigned(value):
      guard value <= UInt64(Int.max) else { throw failure(make("\(what) \(value) is too large")) }
      return Int(value)
    case let .negative(text):
      throw failure(make("\(what) \(text) is negative"))
    case let .fractional(text):
      throw failure(make("\(what) \(text) is not an integer"))
    case let .tooLarge(text):
      throw failure(make("\(what) \(text) is too large"))
    }
  }

  private func parseShape(_ cursor: inout SafeTensorsJSONCursor, name: String) throws -> [Int] {
    guard cursor.consume(UInt8(ascii: "[")) else {
      throw wrongType(cursor) { .invalidShape(name: name, reason: "expected an array, found \($0)") }
    }
    var dims: [Int] = []
    try cursor.forEachElement { cursor in
      dims.append(try parseCount(&cursor, what: "dimension") { .invalidShape(name: name, reason: $0) })
    }
    return dims
  }

  private func parseOffsets(_ cursor: inout SafeTensorsJSONCursor, name: String) throws -> Range<Int> {
    guard cursor.consume(UInt8(ascii: "[")) else {
      throw wrongType(cursor) { .invalidOffsets(name: name, reason: "expected an array of two integers, found \($0)") }
    }
    var values: [Int] = []
    try cursor.forEachElement { cursor in
      guard values.count < 2 else {
        throw failure(.invalidOffsets(name: name, reason: "expected exactly 2 values, found more"))
      }
      values.append(try parseCount(&cursor, what: "offset") { .invalidOffsets(name: name, reason: $0) })
    }
    guard values.count == 2 else {
      throw failure(.invalidOffsets(name: name, reason: "expected exactly 2 values, found \(values.count)"))
    }
    guard values[0] <= values[1] else {
      throw failure(.invalidOffsets(name: name, reason: "begin \(values[0]) is greater than end \(values[1])"))
    }
    return values[0]..<values[1]
  }
}
