import Foundation
import XCTest
import ReferenceTesting
import SafeTensors

/// Shared helpers: paths, temporary directories, the Python reference
/// interpreter, hex and element decoding.
enum TestSupport {
  /// Package root, resolved from this file's location
  /// (`<root>/Tests/SafeTensorsTests/TestSupport.swift`).
  static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Directory holding the committed Python scripts.
  static let fixturesScripts: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

  /// The Python interpreter with `safetensors` and `numpy` installed (the shared reference venv):
  /// `$TORCHSWIFT_PYTHON`, else `<package root>/.venv/bin/python`; skips the test when missing.
  static func python() throws -> String { try ReferenceTools.python() }

  /// Runs a committed script with the reference interpreter (the shared runner: stdout and stderr drained
  /// together); returns stdout, throws with stderr on failure.
  @discardableResult
  static func runPython(_ script: String, _ arguments: [String]) throws -> String {
    let out = try ReferenceTools.runPython([fixturesScripts.appendingPathComponent(script).path] + arguments)
    return String(decoding: out, as: UTF8.self)
  }

  /// A fresh empty directory under the system temporary directory.
  static func makeTemporaryDirectory() throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Fixtures generated once per test process by `make_fixtures.py`,
  /// removed when the process exits.
  private static var generatedFixtures: Result<URL, Error>?
  private static let fixturesRoot = URL(fileURLWithPath: NSTemporaryDirectory())
    .appendingPathComponent("safetensors-fixtures-\(getpid())")

  static func pythonFixtures() throws -> URL {
    if let generatedFixtures { return try generatedFixtures.get() }
    let result = Result<URL, Error> {
      try? FileManager.default.removeItem(at: fixturesRoot)
      atexit { try? FileManager.default.removeItem(at: TestSupport.fixturesRoot) }
      try runPython("make_fixtures.py", [fixturesRoot.path])
      return fixturesRoot
    }
    generatedFixtures = result
    return try result.get()
  }

  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
  }

  static func bytes(fromHex hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
      index = next
    }
    return result
  }

  /// Decodes little-endian elements into comparable strings: integers in
  /// decimal, booleans as true/false, floats widened to `Double`.
  enum Element: Equatable {
    case integer(String)
    case boolean(Bool)
    case float(Double)

    func matches(_ other: Element) -> Bool {
      if case let .float(a) = self, case let .float(b) = other, a.isNaN, b.isNaN { return true }
      if case let .float(a) = self, case let .float(b) = other { return a.bitPattern == b.bitPattern }
      return self == other
    }
  }

  static func decode(_ bytes: [UInt8], as dtype: SafeTensorsDType) -> [Element] {
    func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
      stride(from: 0, to: bytes.count, by: MemoryLayout<T>.size).map { offset in
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
      }
    }
    switch dtype {
    case .F64: return load(UInt64.self).map { .float(Double(bitPattern: $0)) }
    case .F32: return load(UInt32.self).map { .float(Double(Float(bitPattern: $0))) }
    case .F16: return load(UInt16.self).map { .float(halfToDouble($0)) }
    case .BF16: return load(UInt16.self).map { .float(Double(Float(bitPattern: UInt32($0) << 16))) }
    case .I64: return load(Int64.self).map { .integer(String($0)) }
    case .I32: return load(Int32.self).map { .integer(String($0)) }
    case .I16: return load(Int16.self).map { .integer(String($0)) }
    case .I8: return load(Int8.self).map { .integer(String($0)) }
    case .U8: return load(UInt8.self).map { .integer(String($0)) }
    case .U16: return load(UInt16.self).map { .integer(String($0)) }
    case .U32: return load(UInt32.self).map { .integer(String($0)) }
    case .U64: return load(UInt64.self).map { .integer(String($0)) }
    case .BOOL: return bytes.map { .boolean($0 != 0) }
    default: return []
    }
  }

  /// IEEE 754 binary16 to Double, including subnormals, infinities and NaN.
  static func halfToDouble(_ bits: UInt16) -> Double {
    let sign: Double = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1F)
    let fraction = Double(bits & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * pow(2, -24)
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * pow(2, Double(exponent - 15))
    }
  }

  /// Builds a file image from a header string and data bytes; the length
  /// prefix is the header's length unless `declaredLength` overrides it.
  static func image(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    return image(headerBytes: json, data: data, declaredLength: declaredLength)
  }

  static func image(headerBytes: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { [UInt8]($0) } + headerBytes + data
  }
}
