import Foundation
import XCTest
import SafeTensors

final class WriterTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = try TestSupport.makeTemporaryDirectory()
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func floats(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { [UInt8]($0) } }
  }

  func testLayoutOrderPaddingAndHeaderText() throws {
    let image = try SafeTensors.serialize(
      [
        .init(name: "b", dtype: .U8, shape: [3], bytes: [1, 2, 3]),
        .init(name: "a", dtype: .U8, shape: [1], bytes: [9]),
        .init(name: "z", dtype: .F64, shape: [], bytes: [UInt8](repeating: 0, count: 8)),
        .init(name: "m", dtype: .F32, shape: [2], bytes: floats([1, 2])),
        .init(name: "q", dtype: .BF16, shape: [1], bytes: [0x80, 0x3F]),
        .init(name: "p", dtype: .F16, shape: [1], bytes: [0, 0x3C])
      ], metadata: ["format": "pt"])
    let length = image.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
    XCTAssertEqual(length % 8, 0)
    let header = String(decoding: image[8..<(8 + length)], as: UTF8.self)
    XCTAssertTrue(
      header.hasPrefix(
        "{\"__metadata__\":{\"format\":\"pt\"},\"z\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"), header)
    XCTAssertTrue(header.hasSuffix("}") || header.hasSuffix(" "))
    let file = try SafeTensorsFile(bytes: image)
    // dtype rank descending (F64, F32, BF16, F16, U8), then name.
    XCTAssertEqual(file.names, ["z", "m", "q", "p", "a", "b"])
    XCTAssertEqual(try file.bytes(of: "b"), [1, 2, 3])
    XCTAssertEqual(file.metadata, ["format": "pt"])
    XCTAssertEqual(file.fileSize, image.count)
  }

  func testFillClosuresWriteInPlace() throws {
    let count = 300_000  // larger than the 1 MiB sink buffer once as F64
    let entries: [SafeTensorsWriter.Entry] = [
      .init(name: "big", dtype: .F64, shape: [count]) { buffer in
        let doubles = buffer.bindMemory(to: Double.self)
        for index in doubles.indices { doubles[index] = Double(index) }
      },
      .init(name: "small", dtype: .I32, shape: [2]) { buffer in
        buffer.storeBytes(of: Int32(-5).littleEndian, toByteOffset: 0, as: Int32.self)
        buffer.storeBytes(of: Int32(7).littleEndian, toByteOffset: 4, as: Int32.self)
      },
      .init(name: "untouched", dtype: .U8, shape: [4]) { _ in }
    ]
    let url = directory.appendingPathComponent("fill.safetensors")
    try SafeTensors.write(entries, to: url)
    let file = try SafeTensorsFile(url: url)
    try file.withUnsafeBytes(of: "big") { raw in
      XCTAssertEqual(raw.count, count * 8)
      XCTAssertEqual(raw.loadUnaligned(fromByteOffset: 8 * (count - 1), as: Double.self), Double(count - 1))
    }
    XCTAssertEqual(try file.bytes(of: "small"), [0xFB, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0])
    XCTAssertEqual(try file.bytes(of: "untouched"), [0, 0, 0, 0])
    XCTAssertEqual(try [UInt8](Data(contentsOf: url)), try SafeTensors.serialize(entries))
  }

  func testAtomicReplaceKeepsExistingMappingsValidAndLeavesNoTemporaries() throws {
    let url = directory.appendingPathComponent("model.safetensors")
    try SafeTensors.write([.init(name: "w", dtype: .F32, shape: [2], bytes: floats([1, 2]))], to: url)
    let old = try SafeTensorsFile(url: url)
    try SafeTensors.write([.init(name: "w", dtype: .F32, shape: [3], bytes: floats([3, 4, 5]))], to: url)
    // The old mapping still sees the old inode's bytes.
    XCTAssertEqual(try old.bytes(of: "w"), floats([1, 2]))
    XCTAssertEqual(try SafeTensorsFile(url: url).bytes(of: "w"), floats([3, 4, 5]))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
  }

  func testFailedWriteLeavesDestinationUntouched() throws {
    struct Boom: Error {}
    let url = directory.appendingPathComponent("keep.safetensors")
    try SafeTensors.write([.init(name: "w", dtype: .U8, shape: [1], bytes: [1])], to: url)
    let before = try Data(contentsOf: url)
    XCTAssertThrowsError(
      try SafeTensors.write(
        [
          .init(name: "a", dtype: .U8, shape: [1], bytes: [2]),
          .init(name: "b", dtype: .U8, shape: [1]) { _ in throw Boom() }
        ], to: url)
    ) { XCTAssertTrue($0 is Boom) }
    XCTAssertEqual(try Data(contentsOf: url), before)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["keep.safetensors"])
  }

  func testWriterRejectsInvalidInput() throws {
    let url = directory.appendingPathComponent("bad.safetensors")
    let cases: [([SafeTensorsWriter.Entry], String)] = [
      (
        [.init(name: "a", dtype: .U8, shape: [1], bytes: [1]), .init(name: "a", dtype: .U8, shape: [1], bytes: [1])],
        "duplicate tensor name `a`"
      ),
      ([.init(name: "__metadata__", dtype: .U8, shape: [1], bytes: [1])], "cannot be a tensor name"),
      ([.init(name: "a", dtype: .F32, shape: [2], bytes: [1, 2, 3])], "needs 8 bytes but 3 were given"),
      ([.init(name: "a", dtype: .F32, shape: [-1], bytes: [])], "negative dimension -1"),
      ([.init(name: "a", dtype: .F32, shape: [Int.max, 2], bytes: [])], "overflows"),
      ([.init(name: "a", dtype: .F4, shape: [3], bytes: [0, 0])], "byte boundary")
    ]
    for (entries, fragment) in cases {
      XCTAssertThrowsError(try SafeTensors.write(entries, to: url)) { error in
        XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains(fragment), "\(error)")
      }
      XCTAssertThrowsError(try SafeTensors.serialize(entries)) { error in
        XCTAssertTrue("\(error)".contains("<memory>") && "\(error)".contains(fragment), "\(error)")
      }
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    let nowhere = directory.appendingPathComponent("no/such/dir/x.safetensors")
    XCTAssertThrowsError(try SafeTensors.write([], to: nowhere)) { error in
      XCTAssertTrue("\(error)".contains(nowhere.path) && "\(error)".contains("No such file or directory"), "\(error)")
    }
  }

  func testDTypeSizes() {
    XCTAssertEqual(SafeTensorsDType.allCases.count, 19)
    let bytes: [SafeTensorsDType: Int] = [
      .F64: 8, .F32: 4, .F16: 2, .BF16: 2, .I64: 8, .I32: 4, .I16: 2, .I8: 1,
      .U8: 1, .BOOL: 1, .U16: 2, .U32: 4, .U64: 8, .F8_E4M3: 1, .F8_E5M2: 1, .F8_E8M0: 1
    ]
    for (dtype, size) in bytes {
      XCTAssertEqual(dtype.byteSize, size, "\(dtype)")
    }
    XCTAssertNil(SafeTensorsDType.F4.byteSize)
    XCTAssertEqual(SafeTensorsDType.F4.byteCount(forElementCount: 6), 3)
    XCTAssertNil(SafeTensorsDType.F6_E2M3.byteCount(forElementCount: 3))
    XCTAssertEqual(SafeTensorsDType.allCases.filter(\.isCoreType).count, 10)
    XCTAssertEqual(SafeTensorsDType(rawValue: "F8_E4M3"), .F8_E4M3)
  }

  func testUnsupportedDTypeErrorNamesTheDType() {
    let error = SafeTensorsError(path: "/m.safetensors", kind: .unsupportedDType(name: "w", dtype: .F8_E4M3))
    XCTAssertEqual(error.description, "safetensors: /m.safetensors: tensor `w` has unsupported dtype F8_E4M3")
  }
}
