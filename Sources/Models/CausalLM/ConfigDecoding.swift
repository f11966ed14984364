/// Keys shared by the decoder-only configs, and a reader that falls back to each family's default.
struct DecoderConfigKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ s: String) { stringValue = s }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

struct DecoderConfigReader {
  let container: KeyedDecodingContainer<DecoderConfigKey>

  init(_ decoder: Decoder) throws { container = try decoder.container(keyedBy: DecoderConfigKey.self) }

  /// The value under `key`, or `fallback` when the key is absent or null.
  func callAsFunction<T: Decodable>(_ key: String, _ fallback: T) throws -> T {
    try container.decodeIfPresent(T.self, forKey: DecoderConfigKey(key)) ?? fallback
  }

  func optional<T: Decodable>(_ key: String, _ type: T.Type = T.self) throws -> T? {
    try container.decodeIfPresent(T.self, forKey: DecoderConfigKey(key))
  }
}
