import Datasets
import FileIO
import Foundation
import Tokenizers

/// A tokenized example: ids and token-type ids (unpadded) and the label id.
public struct EncodedExample: Equatable, Sendable {
  public var ids: [Int32]
  public var typeIds: [UInt8]
  public var label: Int32
  public var count: Int { ids.count }
}

/// Batched tokenization with an on-disk cache keyed by the data, the tokenizer and the settings
/// (as `datasets.map(batched=True)` caches): a second run with the same inputs skips tokenization.
public struct TokenizationCache {
  public let directory: String

  public init(directory: String) { self.directory = directory }

  /// `$TORCHSWIFT_CACHE`, else `~/.cache/torchswift`.
  public static var defaultDirectory: String {
    let env = ProcessInfo.processInfo.environment
    if let d = env["TORCHSWIFT_CACHE"] { return d }
    return (env["HOME"] ?? FileManager.default.currentDirectoryPath) + "/.cache/torchswift"
  }

  /// The examples' encodings, from the cache when present; `hit` tells which.
  public func encode(
    _ examples: [TextExample], tokenizer: Tokenizer, tokenizerDir: String, maxLength: Int,
    fingerprint: String
  ) throws -> (encoded: [EncodedExample], hit: Bool, path: String) {
    var h = FNV1a()
    h.add("torchswift-tokenized-v1|\(maxLength)|\(fingerprint)|")
    for name in ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"] {
      if let d = FileManager.default.contents(atPath: tokenizerDir + "/" + name) { h.add(name); h.add(d) }
    }
    for e in examples { h.add(e.text); h.add("\u{1}\(e.label)\u{2}") }
    let path = directory + "/tokenized-\(String(h.value, radix: 16)).bin"
    if let cached = try? Self.read(path), cached.count == examples.count { return (cached, true, path) }
    var tok = tokenizer
    tok.padding = nil
    tok.truncation = Truncation(maxLength: maxLength)
    let encodings = try tok.encodeBatch(examples.map(\.text))
    let encoded = zip(encodings, examples).map { enc, ex in
      EncodedExample(ids: enc.ids.map { Int32($0) }, typeIds: enc.typeIds.map { UInt8($0) }, label: Int32(ex.label))
    }
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try? Self.write(encoded, to: path)
    return (encoded, false, path)
  }

  static let magic = Array("TSTOK001".utf8)

  static func write(_ examples: [EncodedExample], to path: String) throws {
    var buf = magic
    func put32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { buf.append(contentsOf: $0) } }
    put32(Int32(examples.count))
    for e in examples {
      put32(e.label)
      put32(Int32(e.ids.count))
      for id in e.ids { put32(id) }
      buf.append(contentsOf: e.typeIds)
    }
    try AtomicFile.write(Data(buf), to: path)
  }

  static func read(_ path: String) throws -> [EncodedExample] {
    guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError("cannot read \(path)") }
    let bytes = [UInt8](data)
    var pos = 0
    func get32() throws -> Int32 {
      guard pos + 4 <= bytes.count else { throw TrainingError("\(path): truncated cache file") }
      let v = bytes[pos..<pos + 4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
      pos += 4
      return Int32(littleEndian: v)
    }
    guard bytes.count >= 12, Array(bytes[0..<8]) == magic else {
      throw TrainingError("\(path): not a tokenization cache")
    }
    pos = 8
    let n = Int(try get32())
    guard n >= 0 else { throw TrainingError("\(path): corrupt cache header") }
    var out: [EncodedExample] = []
    out.reserveCapacity(n)
    for _ in 0..<n {
      let label = try get32()
      let len = Int(try get32())
      guard len >= 0, pos + len * 5 <= bytes.count else { throw TrainingError("\(path): truncated cache file") }
      var ids = [Int32](repeating: 0, count: len)
      for i in 0..<len { ids[i] = try get32() }
      let types = Array(bytes[pos..<pos + len])
      pos += len
      out.append(EncodedExample(ids: ids, typeIds: types, label: label))
    }
    return out
  }
}

/// 64-bit FNV-1a, for cache keys and data fingerprints.
public struct FNV1a {
  public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
  public init() {}
  public mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    for b in bytes { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
  }
  public mutating func add(_ s: String) { add(s.utf8) }
  public mutating func add(_ d: Data) { d.withUnsafeBytes { add(UnsafeRawBufferPointer($0)) } }
}
