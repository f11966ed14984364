import FileIO
import JSONSupport
import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Entry points for writing safetensors files.
///
/// `write` and `serialize` produce byte-identical output to the reference
/// writer (`safetensors.numpy.save` / the Rust crate's `serialize`) for the
/// same inputs: tensors are laid out sorted by dtype rank descending (8-byte
/// types first, see `SafeTensorsDType.writerRank`) then by name (byte
/// order), the header is compact JSON with `__metadata__` first and each
/// entry as `{"dtype":…,"shape":[…],"data_offsets":[b,e]}`, strings escaped
/// as `serde_json` does, and the header padded with spaces to a multiple of
/// 8 bytes. The reference keeps metadata in a hash map, so its key order is
/// arbitrary; this writer sorts metadata keys, so output is identical to the
/// reference when there is at most one metadata key.
public enum SafeTensors {
  /// Serializes `tensors` into an in-memory file image.
  public static func serialize(
    _ tensors: [SafeTensorsWriter.Entry],
    metadata: [String: String]? = nil
  ) throws -> [UInt8] {
    let plan = try SafeTensorsWriter.Plan(tensors, metadata: metadata, path: "<memory>")
    let (total, overflow) = plan.header.count.addingReportingOverflow(8 + plan.dataByteCount)
    guard !overflow else {
      throw SafeTensorsError(path: "<memory>", kind: .invalidWriterInput(reason: "total size overflows"))
    }
    return try [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
      guard let base = UnsafeMutableRawPointer(buffer.baseAddress) else { return }
      base.initializeMemory(as: UInt8.self, repeating: 0, count: total)
      initialized = total
      base.storeBytes(of: UInt64(plan.header.count).littleEndian, as: UInt64.self)
      plan.header.withUnsafeBytes { header in
        if let source = header.baseAddress { (base + 8).copyMemory(from: source, byteCount: header.count) }
      }
      var offset = 8 + plan.header.count
      for entry in plan.entries {
        let region = UnsafeMutableRawBufferPointer(start: base + offset, count: entry.byteCount)
        try entry.entry.payload.fill(region)
        offset += entry.byteCount
      }
    }
  }

  /// Writes `tensors` to `url` atomically: the file is written under a
  /// temporary name in the same directory, fsynced, renamed over `url`,
  /// and the directory is fsynced. On any error the temporary file is
  /// removed and `url` is left untouched.
  public static func write(
    _ tensors: [SafeTensorsWriter.Entry],
    metadata: [String: String]? = nil, to url: URL
  ) throws {
    let path = url.path
    let plan = try SafeTensorsWriter.Plan(tensors, metadata: metadata, path: path)
    try SafeTensorsWriter.atomicallyWrite(to: path) { sink in
      var prefix = UInt64(plan.header.count).littleEndian
      try withUnsafeBytes(of: &prefix) { try sink.append($0) }
      try plan.header.withUnsafeBytes { try sink.append($0) }
      for entry in plan.entries {
        try sink.append(byteCount: entry.byteCount) { try entry.entry.payload.fill($0) }
      }
    }
  }
}

/// Building blocks of the writer: the entry type, the layout plan and the
/// file sink.
public enum SafeTensorsWriter {
  /// One tensor to write.
  public struct Entry {
    /// Where the tensor's bytes come from.
    public enum Payload {
      /// Little-endian element bytes.
      case bytes([UInt8])
      /// A closure that fills a zeroed buffer of exactly the tensor's
      /// byte size (shape x dtype size) with little-endian element bytes.
      case fill((UnsafeMutableRawBufferPointer) throws -> Void)

      func fill(_ region: UnsafeMutableRawBufferPointer) throws {
        switch self {
        case let .bytes(bytes):
          bytes.withUnsafeBytes { source in
            if let from = source.baseAddress, let to = region.baseAddress {
              to.copyMemory(from: from, byteCount: source.count)
            }
          }
        case let .fill(body):
          try body(region)
        }
      }
    }

    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let payload: Payload

    public init(name: String, dtype: SafeTensorsDType, shape: [Int], payload: Payload) {
      self.name = name
      self.dtype = dtype
      self.shape = shape
      self.payload = payload
    }

    /// A tensor whose bytes are given as an array.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
      self.init(name: name, dtype: dtype, shape: shape, payload: .bytes(bytes))
    }

    /// A tensor whose bytes are given as `Data`.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], data: Data) {
      self.init(name: name, dtype: dtype, shape: shape, payload: .bytes([UInt8](data)))
    }

    /// A tensor whose bytes `fill` writes into the output buffer (no
    /// intermediate array for the in-memory serializer).
    public init(
      name: String, dtype: SafeTensorsDType, shape: [Int],
      fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void
    ) {
      self.init(name: name, dtype: dtype, shape: shape, payload: .fill(fill))
    }
  }

  /// The validated layout of a file: ordered entries with offsets and the
  /// padded header bytes.
  public struct Plan {
    public struct Placed {
      public let entry: Entry
      public let dataOffsets: Range<Int>
      public var byteCount: Int { dataOffsets.count }
    }

    /// Entries in file order.
    public let entries: [Placed]
    /// Header JSON padded with spaces to a multiple of 8 bytes.
    public let header: [UInt8]
    /// Size of the data buffer.
    public let dataByteCount: Int

    /// Validates the entries and computes the layout. Errors name `path`.
    public init(_ tensors: [Entry], metadata: [String: String]?, path: String) throws {
      func invalid(_ reason: String) -> SafeTensorsError {
        SafeTensorsError(path: path, kind: .invalidWriterInput(reason: reason))
      }
      var names = Set<String>()
      for entry in tensors {
        if entry.name == "__metadata__" { throw invalid("`__metadata__` cannot be a tensor name") }
        guard names.insert(entry.name).inserted else { throw invalid("duplicate tensor name `\(entry.name)`") }
      }
      let ordered = tensors.sorted { left, right in
        let a = left.dtype.writerRank, b = right.dtype.writerRank
        if a != b { return a > b }
        return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
      }
      var placed: [Placed] = []
      placed.reserveCapacity(ordered.count)
      var offset = 0
      for entry in ordered {
        if let negative = entry.shape.first(where: { $0 < 0 }) {
          throw invalid("tensor `\(entry.name)` has negative dimension \(negative)")
        }
        let byteCount: Int
        switch entry.dtype.size(forShape: entry.shape) {
        case .overflow:
          throw invalid("shape \(entry.shape) of tensor `\(entry.name)` overflows")
        case .misaligned:
          throw invalid(
            "tensor `\(entry.name)` of dtype \(entry.dtype) and shape \(entry.shape) does not end on a byte boundary")
        case let .bytes(count):
          byteCount = count
        }
        if case let .bytes(bytes) = entry.payload, bytes.count != byteCount {
          throw invalid(
            "tensor `\(entry.name)` of dtype \(entry.dtype) and shape \(entry.shape) needs \(byteCount) bytes but \(bytes.count) were given"
          )
        }
        let (end, endOverflow) = offset.addingReportingOverflow(byteCount)
        guard !endOverflow else { throw invalid("total data size overflows") }
        placed.append(Placed(entry: entry, dataOffsets: offset..<end))
        offset = end
      }
      var json: [UInt8] = [UInt8(ascii: "{")]
      var first = true
      func separator() {
        if !first { json.append(UInt8(ascii: ",")) }
        first = false
      }
      if let metadata {
        separator()
        JSONText.appendString("__metadata__", to: &json)
        json.append(contentsOf: ":{".utf8)
        let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
          if index > 0 { json.append(UInt8(ascii: ",")) }
          JSONText.appendString(key, to: &json)
          json.append(UInt8(ascii: ":"))
          JSONText.appendString(metadata[key] ?? "", to: &json)
        }
        json.append(UInt8(ascii: "}"))
      }
      for item in placed {
        separator()
        JSONText.appendString(item.entry.name, to: &json)
        json.append(contentsOf: ":{\"dtype\":\"".utf8)
        json.append(contentsOf: item.entry.dtype.rawValue.utf8)
        json.append(contentsOf: "\",\"shape\":[".utf8)
        json.append(contentsOf: item.entry.shape.map(String.init).joined(separator: ",").utf8)
        json.append(
          contentsOf: "],\"data_offsets\":[\(item.dataOffsets.lowerBound),\(item.dataOffsets.upperBound)]}".utf8)
      }
      json.append(UInt8(ascii: "}"))
      while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
      guard UInt64(json.count) <= SafeTensorsHeader.maxHeaderLength else {
        throw invalid("header of \(json.count) bytes exceeds the \(SafeTensorsHeader.maxHeaderLength)-byte limit")
      }
      self.entries = placed
      self.header = json
      self.dataByteCount = offset
    }
  }

  // MARK: File output

  /// Runs `body` against a sink on a fresh temporary file next to `path`, then fsyncs, renames it over
  /// `path` and fsyncs the directory (the package's one atomic writer), with failures as `.io` errors.
  static func atomicallyWrite(to path: String, _ body: (FileSink) throws -> Void) throws {
    do {
      try AtomicFile.write(to: path, body)
    } catch let error as FileIOError {
      throw SafeTensorsError(path: path, kind: .io(operation: error.operation, errno: error.code))
    }
  }
}
