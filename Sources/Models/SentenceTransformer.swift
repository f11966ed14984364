import Foundation
import NN
import Tokenizers
import Torch

/// A sentence-transformers model folder (modules.json: Transformer → Pooling → optional Normalize),
/// computing the same embeddings as `SentenceTransformer(dir).encode(texts)`.
public final class SentenceTransformer {
  public enum Pooling: String { case mean, cls, max, meanSqrtLen }

  public let model: BertModel
  public var tokenizer: Tokenizer
  public let pooling: Pooling
  public let normalize: Bool
  public var maxSeqLength: Int
  public let device: Device

  public init(directory dir: String, device: Device = .cpu, maxSeqLength: Int? = nil) throws {
    self.device = device
    model = try BertModel.fromPretrained(dir, device: device).model
    tokenizer = try Tokenizer(directory: dir)
    var pooling = Pooling.mean
    var normalize = false
    if let data = FileManager.default.contents(atPath: dir + "/modules.json") {
      guard let mods = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
        throw ModelConfigError("\(dir)/modules.json: expected a list of modules")
      }
      for m in mods {
        let type = m["type"] as? String ?? ""
        if type.hasSuffix("Pooling") {
          let path = dir + "/" + (m["path"] as? String ?? "1_Pooling") + "/config.json"
          guard let pd = FileManager.default.contents(atPath: path),
            let pc = try JSONSerialization.jsonObject(with: pd) as? [String: Any]
          else { throw ModelConfigError("\(path): cannot read the pooling configuration") }
          if pc["pooling_mode_cls_token"] as? Bool == true {
            pooling = .cls
          } else if pc["pooling_mode_max_tokens"] as? Bool == true {
            pooling = .max
          } else if pc["pooling_mode_mean_sqrt_len_tokens"] as? Bool == true {
            pooling = .meanSqrtLen
          } else if pc["pooling_mode_mean_tokens"] as? Bool == true {
            pooling = .mean
          } else {
            throw ModelConfigError("\(path): no supported pooling mode enabled (mean, cls, max, mean_sqrt_len)")
          }
        } else if type.hasSuffix("Normalize") {
          normalize = true
        } else if !type.hasSuffix("Transformer") {
          throw ModelConfigError("\(dir)/modules.json: module type '\(type)' is not supported")
        }
      }
    }
    self.pooling = pooling
    self.normalize = normalize
    var maxLen = 512
    if let data = FileManager.default.contents(atPath: dir + "/sentence_bert_config.json"),
      let c = try JSONSerialization.jsonObject(with: data) as? [String: Any], let m = c["max_seq_length"] as? Int
    {
      maxLen = m
    }
    self.maxSeqLength = min(maxSeqLength ?? maxLen, model.config.maxPositionEmbeddings)
  }

  /// Embeddings of `texts` in input order (`[texts.count, H]`), computed in batches sorted by length.
  public func encode(_ texts: [String], batchSize: Int = 32) throws -> Tensor {
    guard batchSize > 0 else { throw TorchError("batch size must be positive, got \(batchSize)") }
    var tok = tokenizer
    tok.truncation = Truncation(maxLength: maxSeqLength)
    tok.padding = Padding(strategy: .batchLongest)
    // sentence-transformers sorts by descending text length to minimise padding.
    let order = texts.indices.sorted { texts[$0].count > texts[$1].count }
    var chunks: [(Int, Tensor)] = []
    try withInferenceMode {
      for start in stride(from: 0, to: order.count, by: batchSize) {
        let idx = Array(order[start..<min(start + batchSize, order.count)])
        let enc = try tok.encodeBatch(idx.map { texts[$0] })
        let t = enc.first?.count ?? 0
        let ids = try Tensor(enc.flatMap(\.ids), shape: [idx.count, t], device: device)  // [B, T]
        let mask = try Tensor(enc.flatMap(\.attentionMask), shape: [idx.count, t], device: device)  // [B, T]
        let types = try Tensor(enc.flatMap(\.typeIds), shape: [idx.count, t], device: device)  // [B, T]
        let out = try model(inputIds: ids, attentionMask: mask, tokenTypeIds: types)
        var emb = try pool(out.lastHiddenState, mask: mask)  // [B, H]
        if normalize { emb = try F.normalize(emb, p: 2, dim: 1) }
        for (j, i) in idx.enumerated() { chunks.append((i, emb[j])) }
      }
    }
    chunks.sort { $0.0 < $1.0 }
    if chunks.isEmpty { return try Tensor.zeros([0, model.config.hiddenSize], device: device) }
    return try Tensor.stack(chunks.map(\.1))
  }

  /// Pools token embeddings `[B, T, H]` with the attention mask `[B, T]` as sentence-transformers' `Pooling`.
  func pool(_ tokens: Tensor, mask: Tensor) throws -> Tensor {
    let m = try mask.unsqueeze(-1).to(dtype: tokens.dtype)  // [B, T, 1]
    switch pooling {
    case .cls:
      return try tokens.select(dim: 1, index: 0)  // [B, H]
    case .max:
      let masked = try tokens.maskedFill(m.expand(as: tokens).eq(0), -1e9)  // [B, T, H]
      return try masked.max(dim: 1).values  // [B, H]
    case .mean, .meanSqrtLen:
      let summed = try tokens.mul(m).sum(dim: 1)  // [B, H]
      let counts = try m.sum(dim: 1).clamp(min: 1e-9)  // [B, 1]
      return pooling == .mean ? try summed.div(counts) : try summed.div(counts.sqrt())  // [B, H]
    }
  }
}
