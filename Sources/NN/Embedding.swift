import Torch

/// `torch.nn.Embedding`: a lookup table of `numEmbeddings` vectors of size `embeddingDim`.
///
/// Weight ~ N(0, 1) with the `paddingIdx` row zeroed; the padding row gets no gradient.
public final class Embedding: Module, UnaryModule {
  public let numEmbeddings: Int
  public let embeddingDim: Int
  /// The padding row (normalised to be non-negative), or nil.
  public let paddingIdx: Int?
  /// `[numEmbeddings, embeddingDim]`
  public let weight: Tensor

  /// A table drawn from N(0, 1) (padding row zeroed); `initialize: false` leaves it uninitialised.
  public init(numEmbeddings: Int, embeddingDim: Int, paddingIdx: Int? = nil, initialize: Bool = true) throws {
    guard numEmbeddings >= 0, embeddingDim >= 0 else {
      throw TorchError(
        "Embedding: num_embeddings and embedding_dim must be non-negative, got \(numEmbeddings) and \(embeddingDim)")
    }
    if let p = paddingIdx {
      guard p < numEmbeddings, p >= -numEmbeddings else {
        throw TorchError(
          "Padding_idx must be within num_embeddings (got padding_idx=\(p) for num_embeddings=\(numEmbeddings))")
      }
      self.paddingIdx = p < 0 ? p + numEmbeddings : p
    } else {
      self.paddingIdx = nil
    }
    self.numEmbeddings = numEmbeddings
    self.embeddingDim = embeddingDim
    weight = try Tensor.empty([numEmbeddings, embeddingDim])
    super.init()
    try registerParameter("weight", weight)
    if initialize { try resetParameters() }
  }

  /// Re-draws N(0, 1) and zeroes the padding row.
  public func resetParameters() throws {
    try Init.normal_(weight)
    if let paddingIdx { _ = try withNoGrad { try weight.select(dim: 0, index: paddingIdx).fill_(0) } }
  }

  /// Integer indices `[*]` → `[*, embeddingDim]`.
  public func forward(_ input: Tensor) throws -> Tensor {
    guard input.dtype == .int64 || input.dtype == .int32 else {
      throw TorchError("Embedding: expected indices of dtype torch.int64 or torch.int32, got \(input.dtype)")
    }
    return try F.embedding(input, weight: weight, paddingIdx: paddingIdx)  // [*, embeddingDim]
  }

  public override var extraDescription: String {
    "\(numEmbeddings), \(embeddingDim)" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "")
  }
}
