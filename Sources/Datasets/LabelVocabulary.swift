import FileIO
import Foundation

/// A fixed, ordered set of class labels: id `i` is `labels[i]`.
///
/// Encodes to JSON as Hugging Face configs store it:
/// `{"id2label": {"0": "negative", …}, "label2id": {"negative": 0, …}}`.
public struct LabelVocabulary: Codable, Equatable, Sendable {
  public let labels: [String]
  private let index: [String: Int]

  /// A vocabulary with the given order; throws on duplicates or empty names.
  public init(labels: [String]) throws {
    var index: [String: Int] = [:]
    for (i, label) in labels.enumerated() {
      guard !label.isEmpty else { throw LabelVocabularyError.emptyLabel(position: i) }
      guard index[label] == nil else { throw LabelVocabularyError.duplicateLabel(label) }
      index[label] = i
    }
    self.labels = labels
    self.index = index
  }

  /// A vocabulary of the distinct `names`, sorted by Unicode code points (Python's `sorted`).
  public init<S: Sequence>(sortedFrom names: S) where S.Element == String {
    let unique = Array(Set(names)).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    self.labels = unique
    self.index = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
  }

  public var count: Int { labels.count }

  /// The id of `label`, nil if unknown.
  public func id(for label: String) -> Int? { index[label] }

  /// The label of `id`, nil if out of range.
  public func label(for id: Int) -> String? { labels.indices.contains(id) ? labels[id] : nil }

  /// `{"0": name, …}`.
  public var id2label: [String: String] {
    Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0), $1) })
  }

  /// `{name: 0, …}`.
  public var label2id: [String: Int] { index }

  private enum CodingKeys: String, CodingKey { case id2label, label2id }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(id2label, forKey: .id2label)
    try c.encode(label2id, forKey: .label2id)
  }

  /// Decodes from `id2label` (ids must be 0..<n); `label2id`, when present, must agree.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let raw = try c.decode([String: String].self, forKey: .id2label)
    var labels = [String](repeating: "", count: raw.count)
    for (key, name) in raw {
      guard let id = Int(key), labels.indices.contains(id) else {
        throw DecodingError.dataCorruptedError(
          forKey: .id2label, in: c,
          debugDescription: "id2label keys must be the integers 0..<\(raw.count); found \"\(key)\"")
      }
      labels[id] = name
    }
    do { try self.init(labels: labels) } catch {
      throw DecodingError.dataCorruptedError(forKey: .id2label, in: c, debugDescription: "\(error)")
    }
    if let reverse = try c.decodeIfPresent([String: Int].self, forKey: .label2id), reverse != index {
      throw DecodingError.dataCorruptedError(
        forKey: .label2id, in: c, debugDescription: "label2id disagrees with id2label")
    }
  }

  /// Pretty-printed, key-sorted JSON.
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  /// Writes `jsonData()` to `url` (atomically).
  public func save(to url: URL) throws {
    try AtomicFile.write(try jsonData(), to: url.path)
  }

  /// Reads a vocabulary saved by `save(to:)` (or a HF `config.json`, which has the same keys).
  public static func load(from url: URL) throws -> LabelVocabulary {
    try JSONDecoder().decode(LabelVocabulary.self, from: Data(contentsOf: url))
  }
}

/// Invalid label sets.
public enum LabelVocabularyError: Error, Equatable, CustomStringConvertible {
  case duplicateLabel(String)
  case emptyLabel(position: Int)

  public var description: String {
    switch self {
    case .duplicateLabel(let l): return "duplicate label \"\(l)\" in label set"
    case .emptyLabel(let i): return "empty label name at position \(i) of label set"
    }
  }
}
