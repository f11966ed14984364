import Foundation
import XCTest
import SafeTensors

/// One test per hostile input: each must throw a `SafeTensorsError` whose
/// text names the file and the specific problem — never crash or over-read.
final class HostileInputTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = try TestSupport.makeTemporaryDirectory()
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// A well-formed entry for tensor `name`.
  private func entry(
    _ name: String, _ dtype: String = "F32", _ shape: String = "[2]",
    _ offsets: String = "[0,8]"
  ) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
  }

  /// Writes `image` to a file, opens it through the mmap path and the
  /// in-memory path, and checks both errors: the kind, the path, and that
  /// the description contains every fragment in `mentions`.
  @discardableResult
  private func assertRejects(
    _ image: [UInt8], _ expected: (SafeTensorsError.Kind) -> Bool,
    mentions: [String], file: StaticString = #filePath, line: UInt = #line
  ) -> SafeTensorsError? {
    let url = directory.appendingPathComponent("hostile-\(line).safetensors")
    XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(image)), file: file, line: line)
    var fromDisk: SafeTensorsError?
    for source in ["disk", "memory"] {
      do {
        _ = source == "disk" ? try SafeTensorsFile(path: url.path) : try SafeTensorsFile(bytes: image)
        XCTFail("\(source): accepted a hostile file", file: file, line: line)
      } catch let error as SafeTensorsError {
        let path = source == "disk" ? url.path : "<memory>"
        XCTAssertTrue(expected(error.kind), "\(source): unexpected kind \(error.kind)", file: file, line: line)
        XCTAssertEqual(error.path, path, file: file, line: line)
        XCTAssertTrue(error.description.contains(path), "\(error) lacks the path", file: file, line: line)
        for fragment in mentions {
          XCTAssertTrue(error.description.contains(fragment), "\(error) lacks \"\(fragment)\"", file: file, line: line)
        }
        if source == "disk" { fromDisk = error }
      } catch {
        XCTFail("\(source): unexpected error type \(error)", file: file, line: line)
      }
    }
    return fromDisk
  }

  private func header(_ text: String, data: Int = 0, declaredLength: UInt64? = nil) -> [UInt8] {
    TestSupport.image(header: text, data: [UInt8](repeating: 0x11, count: data), declaredLength: declaredLength)
  }

  // MARK: Framing

  func testFileShorterThanEightBytes() {
    assertRejects(
      [1, 2, 3, 4, 5],
      {
        if case .fileTooSmall(5) = $0 { return true }; return false
      },
      mentions: ["5 bytes", "shorter than the 8-byte", "[HeaderTooSmall]"])
    assertRejects(
      [],
      {
        if case .fileTooSmall(0) = $0 { return true }; return false
      }, mentions: ["0 bytes"])
  }

  func testHeaderLengthBeyondFile() {
    let image = header("{}", declaredLength: 3)
    XCTAssertEqual(image.count, 10)
    assertRejects(
      header("{}", declaredLength: 40),
      {
        if case .headerPastEnd(40, 10) = $0 { return true }; return false
      },
      mentions: ["header length 40", "past the end of the file", "[InvalidHeaderLength]"])
  }

  func testAbsurdlyLargeHeaderLength() {
    assertRejects(
      header("{}", declaredLength: 100_000_001),
      {
        if case .headerTooLarge = $0 { return true }; return false
      },
      mentions: ["100000001", "100000000-byte limit", "[HeaderTooLarge]"])
    assertRejects(
      header("{}", declaredLength: .max),
      {
        if case .headerTooLarge = $0 { return true }; return false
      },
      mentions: ["18446744073709551615"])
  }

  func testHeaderNotUTF8() {
    var bytes = Array("{\"a\u{e9}\":1}".utf8)
    bytes[2] = 0xFF
    assertRejects(
      TestSupport.image(headerBytes: bytes),
      {
        if case .headerNotUTF8(2) = $0 { return true }; return false
      },
      mentions: ["not valid UTF-8", "offset 2"])
    // Overlong encoding and a UTF-16 surrogate encoded in UTF-8.
    assertRejects(
      TestSupport.image(headerBytes: [0x7B, 0xC0, 0xAF, 0x7D]),
      {
        if case .headerNotUTF8(1) = $0 { return true }; return false
      },
      mentions: ["UTF-8"])
    assertRejects(
      TestSupport.image(headerBytes: [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22]),
      {
        if case .headerNotUTF8(2) = $0 { return true }; return false
      },
      mentions: ["UTF-8"])
    // Truncated multi-byte sequence at the end of the header.
    assertRejects(
      TestSupport.image(headerBytes: [0x7B, 0x7D, 0xE2, 0x82]),
      {
        if case .headerNotUTF8(2) = $0 { return true }; return false
      },
      mentions: ["UTF-8"])
  }

  func testHeaderNotJSON() {
    assertRejects(
      header("{\"a\": "),
      {
        if case .invalidJSON = $0 { return true }; return false
      },
      mentions: ["not valid JSON", "unexpected end of header"])
    assertRejects(
      header(""),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["empty header"])
    assertRejects(
      header("{}x"),
      {
        if case .invalidJSON(2, _) = $0 { return true }; return false
      },
      mentions: ["trailing characters"])
    assertRejects(
      header("{,}"),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["object key"])
    assertRejects(
      header("{\(entry("a")),}", data: 8),
      {
        if case .invalidJSON = $0 { return true }; return false
      },
      mentions: ["object key"])
    assertRejects(
      header("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", data: 4),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["leading zero"])
    assertRejects(
      header("{\"a\\x\":1}"),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["invalid escape"])
    assertRejects(
      header("{\"\\ud800\":1}"),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["surrogate"])
    assertRejects(
      header("{\"a\tb\":1}"),
      {
        if case .invalidJSON = $0 { return true }; return false
      }, mentions: ["control character"])
    // NUL padding is not whitespace.
    assertRejects(
      TestSupport.image(headerBytes: Array("{}".utf8) + [0, 0]),
      {
        if case .invalidJSON = $0 { return true }; return false
      },
      mentions: ["trailing characters"])
  }

  func testDeepNestingIsRejectedWithoutRecursingForever() {
    let depth = 100_000
    let text =
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1],\"x\":"
      + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
    assertRejects(
      header(text, data: 1),
      {
        if case .invalidJSON = $0 { return true }; return false
      },
      mentions: ["nesting deeper than 128"])
  }

  func testHeaderNotAnObject() {
    assertRejects(
      header("[1,2]"),
      {
        if case .headerNotObject("an array") = $0 { return true }; return false
      },
      mentions: ["must be an object, found an array"])
    assertRejects(
      header("\"text\""),
      {
        if case .headerNotObject("a string") = $0 { return true }; return false
      },
      mentions: ["found a string"])
  }

  // MARK: Entries

  func testEntryMissingFields() {
    for field in ["dtype", "shape", "data_offsets"] {
      var fields = ["\"dtype\":\"F32\"", "\"shape\":[2]", "\"data_offsets\":[0,8]"]
      fields.removeAll { $0.hasPrefix("\"\(field)\"") }
      let text = "{\"w\":{\(fields.joined(separator: ","))}}"
      assertRejects(
        header(text, data: 8),
        {
          if case .invalidTensorEntry("w", _) = $0 { return true }; return false
        },
        mentions: ["tensor `w`", "missing field `\(field)`"])
    }
  }

  func testEntryWrongTypes() {
    assertRejects(
      header("{\"w\":5}"),
      {
        if case .invalidTensorEntry("w", _) = $0 { return true }; return false
      },
      mentions: ["tensor `w`", "expected an object, found a number"])
    assertRejects(
      header("{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", data: 8),
      {
        if case .invalidTensorEntry("w", _) = $0 { return true }; return false
      },
      mentions: ["dtype must be a string, found a number"])
    assertRejects(
      header("{\"w\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["invalid shape for tensor `w`", "expected an array, found a string"])
    assertRejects(
      header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}", data: 8),
      {
        if case .invalidOffsets("w", _) = $0 { return true }; return false
      },
      mentions: ["data_offsets", "found an object"])
    assertRejects(
      header("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,8]}}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["must be a non-negative integer, found null"])
  }

  func testUnknownDType() {
    assertRejects(
      header("{\(entry("w", "F128"))}", data: 8),
      {
        if case .unknownDType("w", "F128") = $0 { return true }; return false
      },
      mentions: ["unknown dtype `F128`", "tensor `w`"])
    assertRejects(
      header("{\(entry("w", "f32"))}", data: 8),
      {
        if case .unknownDType("w", "f32") = $0 { return true }; return false
      },
      mentions: ["unknown dtype `f32`"])
  }

  func testNegativeOrNonIntegerShape() {
    assertRejects(
      header("{\(entry("w", "F32", "[-2]"))}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["invalid shape for tensor `w`", "dimension -2 is negative"])
    assertRejects(
      header("{\(entry("w", "F32", "[-0]"))}", data: 0),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["-0 is negative"])
    assertRejects(
      header("{\(entry("w", "F32", "[2.0]"))}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["dimension 2.0 is not an integer"])
    assertRejects(
      header("{\(entry("w", "F32", "[2e0]"))}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      },
      mentions: ["2e0 is not an integer"])
    assertRejects(
      header("{\(entry("w", "F32", "[18446744073709551616]"))}", data: 8),
      {
        if case .invalidShape("w", _) = $0 { return true }; return false
      }, mentions: ["too large"])
  }

  func testShapeProductOverflow() {
    assertRejects(
      header("{\(entry("w", "F32", "[4294967296,4294967296]"))}", data: 8),
      {
        if case .shapeOverflow("w", _, .F32) = $0 { return true }; return false
      },
      mentions: ["tensor `w`", "overflows", "[ValidationOverflow]"])
    // Element count fits, byte size does not.
    assertRejects(
      header("{\(entry("w", "F64", "[2305843009213693952]"))}", data: 8),
      {
        if case .shapeOverflow("w", _, .F64) = $0 { return true }; return false
      }, mentions: ["overflows"])
  }

  func testMalformedDataOffsets() {
    let cases: [(String, String)] = [
      ("[0]", "expected exactly 2 values, found 1"),
      ("[0,4,8]", "expected exactly 2 values, found more"),
      ("[]", "found 0"),
      ("[-1,7]", "offset -1 is negative"),
      ("[0,8.0]", "offset 8.0 is not an integer"),
      ("[8,0]", "begin 8 is greater than end 0"),
      ("[0,\"8\"]", "must be a non-negative integer, found a string"),
      ("[0,9223372036854775808]", "offset 9223372036854775808 is too large"),
      ("[0,99999999999999999999999]", "too large")
    ]
    for (offsets, fragment) in cases {
      assertRejects(
        header("{\(entry("w", "F32", "[2]", offsets))}", data: 8),
        {
          if case .invalidOffsets("w", _) = $0 { return true }; return false
        },
        mentions: ["invalid data_offsets for tensor `w`", fragment])
    }
  }

  // MARK: Layout

  func testOffsetsOutOfRange() {
    assertRejects(
      header("{\(entry("w", "F32", "[2]", "[0,8]"))}", data: 4),
      {
        if case .offsetsOutOfRange("w", 0, 8, 4) = $0 { return true }; return false
      },
      mentions: ["data_offsets [0, 8] of tensor `w`", "out of range of the 4-byte data buffer"])
    assertRejects(
      header("{\(entry("w", "F32", "[2]", "[9223372036854775799,9223372036854775807]"))}", data: 8),
      {
        if case .offsetsOutOfRange("w", _, _, 8) = $0 { return true }; return false
      }, mentions: ["out of range"])
  }

  func testOverlappingTensors() {
    let text = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[4,12]"))}"
    assertRejects(
      header(text, data: 12),
      {
        if case .overlappingTensors("b", 4, "a", 8) = $0 { return true }; return false
      },
      mentions: ["tensor `b`", "overlapping tensor `a`", "[InvalidOffset]"])
    // Two tensors claiming the same bytes.
    let same = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[0,8]"))}"
    assertRejects(
      header(same, data: 8),
      {
        if case .overlappingTensors = $0 { return true }; return false
      }, mentions: ["overlapping"])
  }

  func testHoleBetweenTensors() {
    let text = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[12,20]"))}"
    assertRejects(
      header(text, data: 20),
      {
        if case .holeBeforeTensor("b", 12, 8) = $0 { return true }; return false
      },
      mentions: ["tensor `b`", "hole of 4 bytes", "[InvalidOffset]"])
    assertRejects(
      header("{\(entry("a", "F32", "[2]", "[4,12]"))}", data: 12),
      {
        if case .holeBeforeTensor("a", 4, 0) = $0 { return true }; return false
      }, mentions: ["hole of 4 bytes"])
  }

  func testUnusedTrailingBytes() {
    assertRejects(
      header("{\(entry("a"))}", data: 11),
      {
        if case .trailingBytes(8, 11) = $0 { return true }; return false
      },
      mentions: ["3 unused trailing bytes", "[MetadataIncompleteBuffer]"])
    assertRejects(
      header("{}", data: 1),
      {
        if case .trailingBytes(0, 1) = $0 { return true }; return false
      },
      mentions: ["1 unused trailing bytes"])
  }

  func testShapeTimesDTypeSizeMismatch() {
    assertRejects(
      header("{\(entry("w", "F32", "[3]", "[0,8]"))}", data: 8),
      {
        if case .sizeMismatch("w", .F32, [3], 12, 8) = $0 { return true }; return false
      },
      mentions: ["tensor `w`", "needs 12 bytes", "span 8 bytes", "[TensorInvalidInfo]"])
  }

  func testSubByteTensorNotEndingOnByteBoundary() {
    assertRejects(
      header("{\(entry("w", "F4", "[3]", "[0,2]"))}", data: 2),
      {
        if case .misalignedSubByteTensor("w", [3], .F4) = $0 { return true }; return false
      },
      mentions: ["byte boundary", "[MisalignedSlice]"])
  }

  func testDuplicateKeys() {
    let tensors = "{\(entry("a")),\(entry("a", "F32", "[2]", "[8,16]"))}"
    assertRejects(
      header(tensors, data: 16),
      {
        if case .duplicateKey("a", _) = $0 { return true }; return false
      },
      mentions: ["duplicate key `a` in the header object"])
    assertRejects(
      header("{\"__metadata__\":{},\"__metadata__\":{}}"),
      {
        if case .duplicateKey("__metadata__", _) = $0 { return true }; return false
      },
      mentions: ["duplicate key `__metadata__`"])
    assertRejects(
      header("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"),
      {
        if case .duplicateKey("k", "__metadata__") = $0 { return true }; return false
      },
      mentions: ["duplicate key `k` in __metadata__"])
    assertRejects(
      header("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: 8),
      {
        if case .duplicateKey("dtype", _) = $0 { return true }; return false
      },
      mentions: ["duplicate key `dtype` in the entry of tensor `w`"])
  }

  func testInvalidMetadata() {
    assertRejects(
      header("{\"__metadata__\":{\"k\":1}}"),
      {
        if case .invalidMetadata = $0 { return true }; return false
      },
      mentions: ["invalid __metadata__", "value of key `k` must be a string, found a number"])
    assertRejects(
      header("{\"__metadata__\":[]}"),
      {
        if case .invalidMetadata = $0 { return true }; return false
      },
      mentions: ["expected an object of strings, found an array"])
  }

  func testHostileNamesStayOnOneLine() throws {
    let error = assertRejects(
      header("{\"bad\\nname\\u0000\":5}"),
      {
        if case .invalidTensorEntry = $0 { return true }; return false
      },
      mentions: ["bad\\nname\\0"])
    XCTAssertFalse(try XCTUnwrap(error).description.contains("\n"))
  }

  // MARK: Paths and lookups

  func testMissingFileAndDirectoryAndTensorNotFound() throws {
    let missing = directory.appendingPathComponent("missing.safetensors").path
    XCTAssertThrowsError(try SafeTensorsFile(path: missing)) { error in
      XCTAssertTrue("\(error)".contains(missing), "\(error)")
      XCTAssertTrue("\(error)".contains("open failed: No such file or directory"), "\(error)")
    }
    XCTAssertThrowsError(try SafeTensorsFile(path: directory.path)) { error in
      XCTAssertTrue("\(error)".contains(self.directory.path) && "\(error)".contains("not a regular file"), "\(error)")
    }
    let url = directory.appendingPathComponent("ok.safetensors")
    try SafeTensors.write([.init(name: "a", dtype: .U8, shape: [1], bytes: [7])], to: url)
    let file = try SafeTensorsFile(url: url)
    XCTAssertThrowsError(try file.info("b")) { error in
      XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("no tensor named `b`"), "\(error)")
    }
    XCTAssertThrowsError(try file.withUnsafeBytes(of: "b") { _ in XCTFail("body ran") })
  }

  // MARK: Accepted edge cases

  func testAcceptsPaddingWhitespaceUnknownFieldsAndNullMetadata() throws {
    let text =
      " \n\t{\"__metadata__\":null, \"w\" : {\"extra\":{\"x\":[1,2,{\"y\":null}]},\"dtype\":\"U8\",\"shape\":[ 2 ],\"data_offsets\":[0,2]},"
      + "\"e1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[2,2]},\"e2\":{\"dtype\":\"I64\",\"shape\":[3,0],\"data_offsets\":[2,2]},"
      + "\"\\u00e9\\ud83e\\udd80\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[2,3]}}\r\n      "
    let file = try SafeTensorsFile(bytes: header(text, data: 3))
    XCTAssertNil(file.header.metadata)
    XCTAssertEqual(file.metadata, [:])
    XCTAssertEqual(file.names, ["w", "e1", "e2", "é🦀"])
    XCTAssertEqual(try file.info("e2").shape, [3, 0])
    XCTAssertEqual(try file.info("é🦀").byteCount, 1)
    XCTAssertEqual(try file.bytes(of: "w"), [0x11, 0x11])
    // Header length need not be a multiple of 8, and an empty object is fine.
    XCTAssertEqual(try SafeTensorsFile(bytes: header("{}")).count, 0)
  }
}
