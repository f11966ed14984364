/// How the target length of padding is chosen (HF `PaddingStrategy`).
public enum PaddingStrategy: Sendable, Equatable {
  /// Pad to the longest encoding of the batch (a single encode pads to its own length).
  case batchLongest
  /// Pad to a fixed length (longer encodings are left as they are).
  case fixed(Int)
}

/// Padding parameters (HF `PaddingParams`).
public struct Padding: Sendable, Equatable {
  public var strategy: PaddingStrategy
  public var direction: Direction
  /// Round the target length up to a multiple of this value (ignored when nil or 0).
  public var padToMultipleOf: Int?
  public var padId: Int
  public var padTypeId: Int
  public var padToken: String

  public init(
    strategy: PaddingStrategy = .batchLongest, direction: Direction = .right, padToMultipleOf: Int? = nil,
    padId: Int = 0, padTypeId: Int = 0, padToken: String = "[PAD]"
  ) {
    self.strategy = strategy
    self.direction = direction
    self.padToMultipleOf = padToMultipleOf
    self.padId = padId
    self.padTypeId = padTypeId
    self.padToken = padToken
  }

  /// The length every encoding of `encodings` is padded to.
  func targetLength(for encodings: [Encoding]) -> Int {
    var length: Int
    switch strategy {
    case let .fixed(size): length = size
    case .batchLongest: length = encodings.map(\.count).max() ?? 0
    }
    if let multiple = padToMultipleOf, multiple > 0, length % multiple != 0 {
      length += multiple - length % multiple
    }
    return length
  }

  /// Pads all `encodings` in place (HF `pad_encodings`).
  func apply(to encodings: inout [Encoding]) {
    guard !encodings.isEmpty else { return }
    let length = targetLength(for: encodings)
    for i in encodings.indices { encodings[i].pad(to: length, with: self) }
  }
}
