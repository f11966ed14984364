import NN
import Torch

/// `BertEmbeddings`: word + position + token-type embeddings, then LayerNorm and dropout.
public final class BertEmbeddings: Module {
  @ModuleInfo(key: "word_embeddings") public var wordEmbeddings: Embedding
  @ModuleInfo(key: "position_embeddings") public var positionEmbeddings: Embedding
  @ModuleInfo(key: "token_type_embeddings") public var tokenTypeEmbeddings: Embedding
  @ModuleInfo(key: "LayerNorm") public var layerNorm: LayerNorm
  @ModuleInfo public var dropout: Dropout

  public init(_ config: BertConfig) throws {
    super.init()
    wordEmbeddings = try Embedding(
      numEmbeddings: config.vocabSize, embeddingDim: config.hiddenSize,
      paddingIdx: config.padTokenId, initialize: false)
    positionEmbeddings = try Embedding(
      numEmbeddings: config.maxPositionEmbeddings, embeddingDim: config.hiddenSize,
      initialize: false)
    tokenTypeEmbeddings = try Embedding(
      numEmbeddings: config.typeVocabSize, embeddingDim: config.hiddenSize,
      initialize: false)
    layerNorm = try LayerNorm(config.hiddenSize, eps: config.layerNormEps)
    dropout = try Dropout(p: config.hiddenDropoutProb)
  }

  /// `inputIds [B, T]` (int64) → `[B, T, H]`. Positions are 0..<T; token types default to zeros.
  public func callAsFunction(inputIds: Tensor, tokenTypeIds: Tensor? = nil) throws -> Tensor {
    let (b, t) = (try inputIds.size(0), try inputIds.size(1))
    guard t <= positionEmbeddings.numEmbeddings else {
      throw TorchError(
        "BertEmbeddings: sequence length \(t) exceeds max_position_embeddings \(positionEmbeddings.numEmbeddings)")
    }
    let positions = try Tensor.arange(t, device: inputIds.device).unsqueeze(0)  // [1, T]
    let types = try tokenTypeIds ?? Tensor.zeros([b, t], dtype: .int64, device: inputIds.device)  // [B, T]
    let words = try wordEmbeddings(inputIds)  // [B, T, H]
    let typed = try tokenTypeEmbeddings(types)  // [B, T, H]
    let placed = try positionEmbeddings(positions)  // [1, T, H]
    let sum = words + typed + placed  // [B, T, H]
    let normed = try layerNorm(sum)  // [B, T, H]
    return try dropout(normed)  // [B, T, H]
  }
}
