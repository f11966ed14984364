import Foundation
import XCTest
import SafeTensors

/// Round trips against the reference Python implementation
/// (safetensors==0.6.2, numpy==2.2.6). These tests fail, not skip, when the
/// interpreter is missing.
final class PythonInteropTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = try TestSupport.makeTemporaryDirectory()
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func loadSidecar(_ url: URL) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(object as? [String: Any], "sidecar \(url.path) is not an object")
  }

  private func expectedElements(_ values: [Any], dtype: SafeTensorsDType) throws -> [TestSupport.Element] {
    try values.map { value in
      switch dtype {
      case .BOOL:
        return .boolean(try XCTUnwrap(value as? Bool))
      case .F64, .F32, .F16, .BF16:
        let text = try XCTUnwrap(value as? String)
        return .float(try XCTUnwrap(Double(text), "unparsable float \(text)"))
      default:
        return .integer(try XCTUnwrap((value as? NSNumber)?.stringValue))
      }
    }
  }

  /// Python writes every dtype, scalars, empty tensors and metadata; Swift
  /// reads them through mmap and matches the sidecar's bytes and values.
  func testReadsPythonWrittenFixtures() throws {
    let fixtures = try TestSupport.pythonFixtures()
    let sidecars = try FileManager.default.contentsOfDirectory(atPath: fixtures.path)
      .filter { $0.hasSuffix(".json") }.sorted()
    XCTAssertEqual(sidecars.count, 5)
    var seenDTypes = Set<SafeTensorsDType>()
    var sawScalar = false, sawEmpty = false
    for sidecarName in sidecars {
      let sidecar = try loadSidecar(fixtures.appendingPathComponent(sidecarName))
      let path = fixtures.appendingPathComponent(sidecarName.replacingOccurrences(of: ".json", with: ".safetensors"))
        .path
      let file = try SafeTensorsFile(path: path)
      XCTAssertEqual(file.header.metadata, sidecar["metadata"] as? [String: String], path)
      let tensors = try XCTUnwrap(sidecar["tensors"] as? [String: [String: Any]])
      XCTAssertEqual(Set(file.names), Set(tensors.keys), path)
      // `names` is in offset order.
      let begins = try file.names.map { try file.info($0).dataOffsets.lowerBound }
      XCTAssertEqual(begins, begins.sorted())
      for (name, expected) in tensors {
        let info = try file.info(name)
        let dtype = try XCTUnwrap(SafeTensorsDType(rawValue: try XCTUnwrap(expected["dtype"] as? String)))
        XCTAssertEqual(info.dtype, dtype)
        XCTAssertEqual(info.shape, try XCTUnwrap(expected["shape"] as? [Int]))
        let offsets = try XCTUnwrap(expected["data_offsets"] as? [Int])
        XCTAssertEqual(info.dataOffsets, offsets[0]..<offsets[1])
        let bytes = try file.bytes(of: name)
        XCTAssertEqual(TestSupport.hex(bytes), expected["hex"] as? String, "\(path) \(name)")
        let decoded = TestSupport.decode(bytes, as: dtype)
        let wanted = try expectedElements(try XCTUnwrap(expected["values"] as? [Any]), dtype: dtype)
        XCTAssertEqual(decoded.count, wanted.count, name)
        XCTAssertEqual(decoded.count, info.elementCount, name)
        for (got, want) in zip(decoded, wanted) {
          XCTAssertTrue(got.matches(want), "\(path) \(name): \(got) != \(want)")
        }
        // Zero copy: the pointer lies inside the file mapping.
        try file.withUnsafeFileBytes { whole in
          try file.withUnsafeBytes(of: name) { tensor in
            XCTAssertEqual(tensor.count, info.byteCount)
            if let start = tensor.baseAddress, let base = whole.baseAddress {
              XCTAssertEqual(start - base, file.header.dataStart + info.dataOffsets.lowerBound)
            }
          }
        }
        seenDTypes.insert(dtype)
        sawScalar = sawScalar || info.shape.isEmpty
        sawEmpty = sawEmpty || info.byteCount == 0
      }
    }
    XCTAssertEqual(seenDTypes, [.F64, .F32, .F16, .BF16, .I64, .I32, .I16, .I8, .U8, .BOOL])
    XCTAssertTrue(sawScalar)
    XCTAssertTrue(sawEmpty)
  }

  /// Files Python wrote, re-written by the Swift writer, are byte-identical
  /// (metadata with at most one key keeps the reference's order defined).
  func testRewritingPythonFixturesIsByteIdentical() throws {
    let fixtures = try TestSupport.pythonFixtures()
    for name in ["scalars_and_empty", "no_metadata", "no_tensors", "bf16", "all_dtypes"] {
      let url = fixtures.appendingPathComponent(name + ".safetensors")
      let file = try SafeTensorsFile(url: url)
      let entries = try file.names.map { name in
        let info = try file.info(name)
        return SafeTensorsWriter.Entry(
          name: name, dtype: info.dtype, shape: info.shape, bytes: try file.bytes(of: name))
      }
      let rewritten = try SafeTensors.serialize(entries, metadata: file.header.metadata)
      let original = try [UInt8](Data(contentsOf: url))
      if (file.header.metadata?.count ?? 0) <= 1 {
        XCTAssertEqual(TestSupport.hex(rewritten), TestSupport.hex(original), name)
      } else {
        // Hash-map order of metadata differs; the layout and data must not.
        XCTAssertEqual(rewritten.count, original.count, name)
        XCTAssertEqual(rewritten.suffix(file.header.dataByteCount), original.suffix(file.header.dataByteCount), name)
        let again = try SafeTensorsFile(bytes: rewritten)
        XCTAssertEqual(again.names, file.names)
        XCTAssertEqual(again.header.infos, file.header.infos)
        XCTAssertEqual(again.header.metadata, file.header.metadata)
      }
    }
  }

  /// A varied set of tensors: every dtype Python can write, names that need
  /// JSON escaping, ordering ties, scalars and empty tensors.
  private func sampleEntries(includeNonNumpy: Bool) -> [SafeTensorsWriter.Entry] {
    var generator = SystemRandomNumberGenerator()
    func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
    var entries: [SafeTensorsWriter.Entry] = [
      .init(name: "f64", dtype: .F64, shape: [2, 3], bytes: random(48)),
      .init(name: "a.f32", dtype: .F32, shape: [5], bytes: random(20)),
      .init(name: "b.f32", dtype: .F32, shape: [], bytes: random(4)),
      .init(name: "f16", dtype: .F16, shape: [3, 1], bytes: random(6)),
      .init(name: "i64", dtype: .I64, shape: [1], bytes: random(8)),
      .init(name: "i32", dtype: .I32, shape: [2, 2], bytes: random(16)),
      .init(name: "i16", dtype: .I16, shape: [3], bytes: random(6)),
      .init(name: "i8", dtype: .I8, shape: [7], bytes: random(7)),
      .init(name: "u8", dtype: .U8, shape: [0, 4], bytes: []),
      .init(name: "bool", dtype: .BOOL, shape: [4], bytes: [1, 0, 0, 1]),
      .init(name: "u16", dtype: .U16, shape: [2], bytes: random(4)),
      .init(name: "u32", dtype: .U32, shape: [1], bytes: random(4)),
      .init(name: "u64", dtype: .U64, shape: [1], bytes: random(8)),
      .init(name: "weird \"name\"\\/\n\t\u{1}\u{1f}\u{7f} ünï 🦀", dtype: .F32, shape: [1], bytes: random(4)),
      .init(name: "Z", dtype: .F32, shape: [1], bytes: random(4)),
      .init(name: "", dtype: .U8, shape: [1], bytes: random(1))
    ]
    if includeNonNumpy {
      entries += [
        .init(name: "bf16", dtype: .BF16, shape: [2, 2], bytes: random(8)),
        .init(name: "bf16.scalar", dtype: .BF16, shape: [], bytes: random(2)),
        .init(name: "f8", dtype: .F8_E4M3, shape: [3], bytes: random(3)),
        .init(name: "f8b", dtype: .F8_E5M2, shape: [2], bytes: random(2))
      ]
    }
    return entries
  }

  private func spec(_ entries: [SafeTensorsWriter.Entry], metadata: [String: String]?) throws -> Data {
    let tensors: [[String: Any]] = entries.map { entry in
      guard case let .bytes(bytes) = entry.payload else { return [:] }
      return ["name": entry.name, "dtype": entry.dtype.rawValue, "shape": entry.shape, "hex": TestSupport.hex(bytes)]
    }
    return try JSONSerialization.data(withJSONObject: ["metadata": metadata as Any? ?? NSNull(), "tensors": tensors])
  }

  /// Swift's serializer matches `safetensors.numpy.save` (and the raw
  /// `safetensors.serialize` for BF16/F8) byte for byte.
  func testSerializeIsByteIdenticalToPython() throws {
    let cases: [(String, [SafeTensorsWriter.Entry], [String: String]?)] = [
      ("numpy_no_metadata", sampleEntries(includeNonNumpy: false), nil),
      ("numpy_one_key", sampleEntries(includeNonNumpy: false), ["format": "pt \"q\" \n ü"]),
      ("numpy_empty_metadata", sampleEntries(includeNonNumpy: false), [:]),
      ("raw_all", sampleEntries(includeNonNumpy: true), ["k": "v"]),
      ("nothing", [], nil),
      ("only_metadata", [], ["a": ""])
    ]
    var arguments: [String] = []
    for (name, entries, metadata) in cases {
      let specURL = directory.appendingPathComponent(name + ".json")
      try spec(entries, metadata: metadata).write(to: specURL)
      arguments += [specURL.path, directory.appendingPathComponent(name + ".py.safetensors").path]
    }
    try TestSupport.runPython("reference_tool.py", ["save"] + arguments)
    for (name, entries, metadata) in cases {
      let reference = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name + ".py.safetensors")))
      let ours = try SafeTensors.serialize(entries, metadata: metadata)
      XCTAssertEqual(TestSupport.hex(ours), TestSupport.hex(reference), name)
      let url = directory.appendingPathComponent(name + ".swift.safetensors")
      try SafeTensors.write(entries, metadata: metadata, to: url)
      XCTAssertEqual(try [UInt8](Data(contentsOf: url)), reference, name)
    }
  }

  /// Files written by Swift load in Python with the same tensors and metadata.
  func testSwiftWrittenFilesLoadInPython() throws {
    let cases: [(String, [SafeTensorsWriter.Entry], [String: String]?)] = [
      ("numpy", sampleEntries(includeNonNumpy: false), ["a": "1", "b": "two", "ü": "\"x\""]),
      ("raw", sampleEntries(includeNonNumpy: true), nil),
      ("empty", [], [:])
    ]
    var paths: [String] = []
    for (name, entries, metadata) in cases {
      let url = directory.appendingPathComponent(name + ".safetensors")
      try SafeTensors.write(entries, metadata: metadata, to: url)
      paths.append(url.path)
    }
    let output = try TestSupport.runPython("reference_tool.py", ["digest"] + paths)
    let digests = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [String: Any]])
    for ((name, entries, metadata), path) in zip(cases, paths) {
      let digest = try XCTUnwrap(digests[path], name)
      XCTAssertEqual(digest["metadata"] as? [String: String], metadata, name)
      let tensors = try XCTUnwrap(digest["tensors"] as? [String: [String: Any]])
      XCTAssertEqual(Set(tensors.keys), Set(entries.map(\.name)), name)
      for entry in entries {
        let tensor = try XCTUnwrap(tensors[entry.name])
        XCTAssertEqual(tensor["dtype"] as? String, entry.dtype.rawValue)
        XCTAssertEqual(tensor["shape"] as? [Int], entry.shape)
        guard case let .bytes(bytes) = entry.payload else { continue }
        XCTAssertEqual(tensor["hex"] as? String, TestSupport.hex(bytes), entry.name)
      }
    }
  }
}
