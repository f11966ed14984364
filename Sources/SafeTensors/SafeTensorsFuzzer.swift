import Foundation

/// A self-contained random/mutational fuzzer for the safetensors reader.
///
/// Each iteration builds a file image — usually a valid file from the writer
/// with one to four mutations (byte flips, truncation, appended bytes,
/// header-length changes, JSON token edits of offsets/shapes/dtypes/
/// structure) and sometimes plain random bytes — and parses it. A parse
/// must either throw `SafeTensorsError` or yield a self-consistent file: all
/// spans in range and tiling the data buffer, sizes matching shape x dtype,
/// and a re-serialization that parses back to the same tensors. Anything
/// else is recorded as a violation. A crash is, of course, also a failure.
///
/// Used by the `SafeTensorsFuzz` executable and by the test suite.
public struct SafeTensorsFuzzer {
  /// Totals of one run.
  public struct Report: CustomStringConvertible {
    public var iterations = 0
    public var accepted = 0
    public var rejected = 0
    public var fileRoundTrips = 0
    /// Rejections by error kind (the case name of `SafeTensorsError.Kind`).
    public var rejectionsByKind: [String: Int] = [:]
    /// Descriptions of consistency violations (empty when all is well).
    public var violations: [String] = []
    public var seconds = 0.0

    public var iterationsPerSecond: Double { seconds > 0 ? Double(iterations) / seconds : 0 }

    public var description: String {
      var lines = [
        "iterations: \(iterations) in \(String(format: "%.2f", seconds)) s (\(Int(iterationsPerSecond)) /s)",
        "accepted: \(accepted), rejected: \(rejected), on-disk (mmap) cross-checks: \(fileRoundTrips)",
        "violations: \(violations.count)"
      ]
      for (kind, count) in rejectionsByKind.sorted(by: { $0.value > $1.value }) {
        lines.append("  \(kind): \(count)")
      }
      for violation in violations.prefix(20) { lines.append("  VIOLATION: \(violation)") }
      return lines.joined(separator: "\n")
    }
  }

  private var random: SplitMix64
  private var pool: [[UInt8]] = []

  public init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  /// Runs until `seconds` elapse or `maxIterations` is reached. When
  /// `scratchDirectory` is given, every 128th case is also written there
  /// and opened through the mmap path, which must agree with the in-memory
  /// parse.
  public mutating func run(
    seconds: Double, maxIterations: Int = .max,
    scratchDirectory: String? = nil
  ) -> Report {
    var report = Report()
    let start = Date()
    var deadline = false
    while !deadline && report.iterations < maxIterations {
      let image = makeCase()
      check(image, into: &report)
      if let scratchDirectory, report.iterations % 128 == 0 {
        crossCheckOnDisk(image, directory: scratchDirectory, into: &report)
      }
      report.iterations += 1
      if report.iterations % 64 == 0 { deadline = Date().timeIntervalSince(start) >= seconds }
    }
    report.seconds = Date().timeIntervalSince(start)
    return report
  }

  // MARK: Checking

  /// Parses `image` and verifies the outcome, updating `report`.
  public func check(_ image: [UInt8], into report: inout Report) {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile(bytes: image)
    } catch let error as SafeTensorsError {
      report.rejected += 1
      report.rejectionsByKind[Self.kindName(error.kind), default: 0] += 1
      if error.path != "<memory>" || !error.description.contains("<memory>") {
        report.violations.append("error does not name <memory>: \(error)")
      }
      return
    } catch {
      report.rejected += 1
      report.violations.append("non-SafeTensorsError thrown: \(error)")
      return
    }
    report.accepted += 1
    if let problem = Self.consistencyProblem(file, imageCount: image.count) {
      report.violations.append(problem + " (image \(Self.hexPrefix(image)))")
    }
  }

  /// Describes the first inconsistency of an accepted file, or `nil`.
  static func consistencyProblem(_ file: SafeTensorsFile, imageCount: Int) -> String? {
    let header = file.header
    guard header.dataStart + header.dataByteCount == imageCount else { return "data buffer size mismatch" }
    guard header.names.count == header.infos.count, Set(header.names).count == header.names.count else {
      return "names/infos inconsistent"
    }
    var covered = 0
    var entries: [SafeTensorsWriter.Entry] = []
    for (name, info) in zip(header.names, header.infos) {
      guard info.dataOffsets.lowerBound == covered, info.dataOffsets.upperBound <= header.dataByteCount else {
        return "span of \(name) does not tile the buffer"
      }
      covered = info.dataOffsets.upperBound
      guard info.shape.allSatisfy({ $0 >= 0 }), info.dtype.size(forShape: info.shape) == .bytes(info.byteCount),
        info.dtype.byteCount(forElementCount: info.elementCount) == info.byteCount
      else {
        return "size of \(name) does not match shape x dtype"
      }
      guard let bytes = try? file.bytes(of: name), bytes.count == info.byteCount else {
        return "bytes of \(name) unavailable"
      }
      entries.append(.init(name: name, dtype: info.dtype, shape: info.shape, bytes: bytes))
    }
    guard covered == header.dataByteCount else { return "tensors do not cover the buffer" }
    // Re-serialize and parse back: must describe the same tensors.
    do {
      let image = try SafeTensors.serialize(entries, metadata: header.metadata)
      let again = try SafeTensorsFile(bytes: image)
      guard again.header.metadata == header.metadata, Set(again.names) == Set(header.names) else {
        return "round trip changed names or metadata"
      }
      for entry in entries {
        let info = try again.info(entry.name)
        guard info.dtype == entry.dtype, info.shape == entry.shape,
          case let .bytes(bytes) = entry.payload, try again.bytes(of: entry.name) == bytes
        else {
          return "round trip changed tensor \(entry.name)"
        }
      }
    } catch {
      return "re-serialization failed: \(error)"
    }
    return nil
  }

  private func crossCheckOnDisk(_ image: [UInt8], directory: String, into report: inout Report) {
    let path = directory + "/fuzz-\(getpid()).safetensors"
    guard FileManager.default.createFile(atPath: path, contents: Data(image)) else {
      report.violations.append("cannot write scratch file \(path)")
      return
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    report.fileRoundTrips += 1
    let memory = Result { try SafeTensorsFile(bytes: image) }
    let disk = Result { try SafeTensorsFile(path: path) }
    switch (memory, disk) {
    case let (.success(a), .success(b)):
      if a.names != b.names || a.header.infos != b.header.infos || a.header.metadata != b.header.metadata {
        report.violations.append("mmap and in-memory parses differ")
      }
    case let (.failure(a as SafeTensorsError), .failure(b as SafeTensorsError)):
      if a.kind != b.kind || b.path != path || !b.description.contains(path) {
        report.violations.append("mmap error differs: \(a) vs \(b)")
      }
    default:
      report.violations.append("mmap and in-memory outcomes differ")
    }
  }

  static func kindName(_ kind: SafeTensorsError.Kind) -> String {
    let text = String(describing: kind)
    return String(text.prefix { $0 != "(" })
  }

  private static func hexPrefix(_ image: [UInt8]) -> String {
    image.prefix(96).map { String(format: "%02x", $0) }.joined()
  }

  // MARK: Generation

  /// Produces the next test case.
  public mutating func makeCase() -> [UInt8] {
    if pool.count < 48 || random.below(64) == 0 {
      let file = makeValidFile()
      if pool.count < 48 { pool.append(file) } else { pool[random.below(pool.count)] = file }
    }
    switch random.below(100) {
    case 0..<3:
      return (0..<random.below(64)).map { _ in random.byte() }
    case 3..<5:
      return makeDeepNesting()
    default:
      var image = pool[random.below(pool.count)]
      for _ in 0..<(1 + random.below(4)) { mutate(&image) }
      return image
    }
  }

  private static let dtypes = SafeTensorsDType.allCases
  private static let nameAlphabet: [String] = [
    "a", "b", "w", "x.y", "layer.0", "é", "\"", "\\", "\n", "/", "🦀", "\u{7f}", "__", " "
  ]

  private mutating func makeValidFile() -> [UInt8] {
    var entries: [SafeTensorsWriter.Entry] = []
    var used = Set<String>()
    for _ in 0..<random.below(6) {
      var name = ""
      for _ in 0..<(1 + random.below(3)) { name += Self.nameAlphabet[random.below(Self.nameAlphabet.count)] }
      guard name != "__metadata__", used.insert(name).inserted else { continue }
      let dtype = Self.dtypes[random.below(Self.dtypes.count)]
      var shape = (0..<random.below(4)).map { _ in random.below(5) }
      if !dtype.isByteAddressable { shape.append(4) }  // keep sub-byte tensors byte-aligned
      let count = dtype.byteCount(forElementCount: shape.reduce(1, *)) ?? 0
      let bytes = (0..<count).map { _ in random.byte() }
      entries.append(.init(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }
    var metadata: [String: String]?
    if random.below(3) == 0 {
      metadata = [:]
      for index in 0..<random.below(3) {
        metadata?["k\(index)"] = Self.nameAlphabet[random.below(Self.nameAlphabet.count)]
      }
    }
    return (try? SafeTensors.serialize(entries, metadata: metadata)) ?? [0, 0, 0, 0, 0, 0, 0, 0]
  }

  private mutating func makeDeepNesting() -> [UInt8] {
    let depth = 100 + random.below(200)
    var json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,0],\"x\":"
    json += String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
    return Self.assemble(header: Array(json.utf8), data: [])
  }

  private static func assemble(header: [UInt8], data: [UInt8]) -> [UInt8] {
    var image = withUnsafeBytes(of: UInt64(header.count).littleEndian) { [UInt8]($0) }
    image += header
    image += data
    return image
  }

  private mutating func mutate(_ image: inout [UInt8]) {
    switch random.below(10) {
    case 0, 1:
      // Byte flips, biased towards the header.
      guard !image.isEmpty else { return }
      let headerEnd = 8 + Int(min(Self.declaredLength(image) ?? 0, UInt64(image.count)))
      let limit = random.below(4) == 0 ? image.count : max(1, min(image.count, headerEnd))
      for _ in 0..<(1 + random.below(3)) {
        image[random.below(limit)] ^= UInt8(1 << random.below(8))
      }
    case 2:
      image.removeLast(random.below(image.count + 1))
    case 3:
      image += (0..<(1 + random.below(16))).map { _ in random.byte() }
    case 4:
      guard image.count >= 8 else { return }
      let current = Self.declaredLength(image) ?? 0
      let choices: [UInt64] = [
        0, 1, current &+ 1, current &- 1, current &+ 8, current &- 8,
        100_000_000, 100_000_001, UInt64.max, UInt64(Int64.max), random.next()
      ]
      Self.setDeclaredLength(&image, choices[random.below(choices.count)])
    default:
      editJSON(&image)
    }
  }

  private static func declaredLength(_ image: [UInt8]) -> UInt64? {
    guard image.count >= 8 else { return nil }
    return image.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
  }

  private static func setDeclaredLength(_ image: inout [UInt8], _ length: UInt64) {
    withUnsafeBytes(of: length.littleEndian) { image.replaceSubrange(0..<8, with: $0) }
  }

  private static let replacementNumbers = [
    "0", "1", "4611686018427387904", "2305843009213693952", "-1", "-0", "1.5", "1e3", "007", "9223372036854775807",
    "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999", "4", "8", "16"
  ]
  private static let replacementTokens = [
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "true",
    "-", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
    "[0,0]", "[]", "{}", " ", "\u{0}", "\u{1}", "é"
  ]
  private static let replacementDTypes = SafeTensorsDType.allCases.map(\.rawValue) + ["F128", "f32", "", "U4", "Q8"]

  /// Edits a number, dtype or structural token inside the header and (usually)
  /// fixes the length prefix so the parser gets past the framing checks.
  private mutating func editJSON(_ image: inout [UInt8]) {
    guard let length = Self.declaredLength(image), length <= UInt64(image.count - 8) else { return }
    let headerRange = 8..<(8 + Int(length))
    var header = Array(image[headerRange])
    let data = Array(image[headerRange.upperBound...])
    guard !header.isEmpty else { return }
    switch random.below(4) {
    case 0:
      // Replace one run of digits.
      let digitStarts = header.indices.filter {
        (0x30...0x39).contains(header[$0]) && ($0 == 0 || !(0x30...0x39).contains(header[$0 - 1]))
      }
      guard let start = digitStarts.isEmpty ? nil : digitStarts[random.below(digitStarts.count)] else { return }
      var end = start
      while end < header.count, (0x30...0x39).contains(header[end]) { end += 1 }
      let replacement = Self.replacementNumbers[random.below(Self.replacementNumbers.count)]
      header.replaceSubrange(start..<end, with: Array(replacement.utf8))
    case 1:
      // Swap a dtype for another (valid or not).
      let text = String(decoding: header, as: UTF8.self)
      guard let range = text.range(of: "\"dtype\":\"") else { return }
      guard let close = text[range.upperBound...].firstIndex(of: "\"") else { return }
      let replacement = Self.replacementDTypes[random.below(Self.replacementDTypes.count)]
      header = Array((text[..<range.upperBound] + replacement + text[close...]).utf8)
    case 2:
      // Insert, delete or replace a structural token.
      let position = random.below(header.count + 1)
      let token = Array(Self.replacementTokens[random.below(Self.replacementTokens.count)].utf8)
      switch random.below(3) {
      case 0: header.insert(contentsOf: token, at: position)
      case 1: header.removeSubrange(position..<min(header.count, position + 1 + random.below(4)))
      default: header.replaceSubrange(position..<min(header.count, position + token.count), with: token)
      }
    default:
      // Duplicate a tensor entry's key/value text, or swap offsets.
      let text = String(decoding: header, as: UTF8.self)
      if random.below(2) == 0, let open = text.firstIndex(of: "{"),
        let entryEnd = text.range(of: "]}"), open < entryEnd.lowerBound
      {
        let entry = text[text.index(after: open)..<entryEnd.upperBound]
        header = Array(("{" + entry + "," + text[text.index(after: open)...]).utf8)
      } else if let range = text.range(of: "\"data_offsets\":[") {
        guard let close = text[range.upperBound...].firstIndex(of: "]") else { return }
        let parts = text[range.upperBound..<close].split(separator: ",")
        guard parts.count == 2 else { return }
        header = Array((text[..<range.upperBound] + parts[1] + "," + parts[0] + text[close...]).utf8)
      }
    }
    let keepLength = random.below(10) == 0
    image = keepLength ? (Array(image[0..<8]) + header + data) : Self.assemble(header: header, data: data)
  }
}

/// Small, fast, seedable generator (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform value in `0..<bound` (`bound` > 0).
  mutating func below(_ bound: Int) -> Int {
    Int(next() % UInt64(max(bound, 1)))
  }

  mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}
