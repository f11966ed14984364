import CTorch
import Torch

/// `torch.utils.data.distributed.DistributedSampler`: each rank its own shard of the data set's indices.
///
/// With `shuffle`, every rank draws the same permutation for an epoch — `torch.randperm(n)` from a generator
/// seeded with `seed + epoch`, libtorch's own, so the order equals PyTorch's — and keeps every
/// `numReplicas`-th index from its rank on. Without `dropLast` the list is padded by repeating its start so
/// that all ranks get `ceil(n / numReplicas)` indices; with it the tail is dropped so that each gets
/// `floor(n / numReplicas)`.
public struct DistributedSampler: Sendable, Equatable {
  public let datasetSize: Int
  public let numReplicas: Int
  public let rank: Int
  public let shuffle: Bool
  public let seed: UInt64
  public let dropLast: Bool

  public init(
    datasetSize: Int, numReplicas: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0,
    dropLast: Bool = false
  ) throws {
    guard numReplicas > 0 else {
      throw DistributedError("DistributedSampler: numReplicas must be positive (got \(numReplicas))")
    }
    guard (0..<numReplicas).contains(rank) else {
      throw DistributedError(
        "DistributedSampler: invalid rank \(rank), rank should be in the interval [0, \(numReplicas - 1)]")
    }
    guard datasetSize >= 0 else { throw DistributedError("DistributedSampler: negative data set size \(datasetSize)") }
    self.datasetSize = datasetSize
    self.numReplicas = numReplicas
    self.rank = rank
    self.shuffle = shuffle
    self.seed = seed
    self.dropLast = dropLast
  }

  /// A sampler for `processGroup`'s rank and world size.
  public init(
    datasetSize: Int, processGroup: ProcessGroup, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false
  ) throws {
    try self.init(
      datasetSize: datasetSize, numReplicas: processGroup.worldSize, rank: processGroup.rank, shuffle: shuffle,
      seed: seed, dropLast: dropLast)
  }

  /// Indices per rank per epoch (`num_samples`).
  public var numSamples: Int {
    if dropLast && datasetSize % numReplicas != 0 {
      return (datasetSize - numReplicas + numReplicas - 1) / numReplicas  // ceil((n - R) / R)
    }
    return (datasetSize + numReplicas - 1) / numReplicas
  }

  /// Indices over all ranks (`total_size`).
  public var totalSize: Int { numSamples * numReplicas }

  /// This rank's indices for `epoch` (`set_epoch(epoch)` then `iter(sampler)`).
  public func indices(epoch: Int) throws -> [Int] {
    var all: [Int]
    if shuffle {
      var out: ts_tensor? = nil
      try check(ts_randperm_seeded(&out, Int64(datasetSize), seed &+ UInt64(epoch)))
      all = try Tensor(taking: out!).toArray(Int.self)
    } else {
      all = Array(0..<datasetSize)
    }
    if !dropLast {
      let padding = totalSize - all.count
      if padding > 0 && !all.isEmpty {
        if padding <= all.count {
          all += all[0..<padding]
        } else {
          let repeats = (padding + all.count - 1) / all.count
          all += Array(Array(repeating: all, count: repeats).joined().prefix(padding))
        }
      }
    } else {
      all = Array(all.prefix(totalSize))
    }
    return stride(from: rank, to: totalSize, by: numReplicas).map { all[$0] }
  }
}
