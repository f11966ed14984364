/// A token id field of `config.json` / `generation_config.json` that holds one id or a list
/// (`"eos_token_id": 2` or `"eos_token_id": [128001, 128008, 128009]`, as Llama 3 has).
public struct TokenIdList: Codable, Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
  public var ids: [Int]

  public init(_ ids: [Int]) { self.ids = ids }
  public init(integerLiteral value: Int) { ids = [value] }
  public init(arrayLiteral elements: Int...) { ids = elements }

  /// The first id (the one a single-id field means).
  public var first: Int? { ids.first }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      ids = []
    } else if let one = try? c.decode(Int.self) {
      ids = [one]
    } else {
      ids = try c.decode([Int].self)
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    if ids.count == 1 { try c.encode(ids[0]) } else { try c.encode(ids) }
  }
}
