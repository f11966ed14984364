import Datasets
import Distributed
import Foundation
import Torch

/// One padded batch, ready for the model.
public struct Batch {
  /// `[B, T]` int64
  public var inputIds: Tensor
  /// `[B, T]` int64 (1 = token, 0 = padding)
  public var attentionMask: Tensor
  /// `[B, T]` int64
  public var tokenTypeIds: Tensor
  /// `[B]` int64
  public var labels: Tensor
  public var size: Int
  /// Real (unpadded) tokens in the batch.
  public var tokens: Int
}

/// Batches of encoded examples: seeded shuffling per epoch, length-grouped batches (as transformers'
/// `group_by_length`), dynamic padding to the longest in the batch, `dropLast`, and a background thread
/// that builds the next batches (pinned on CUDA) while the model trains on the current one. With a
/// `DistributedSampler` the loader iterates this rank's shard in the sampler's order (PyTorch's
/// `DataLoader(dataset, sampler=DistributedSampler(...))`: the sampler shuffles, the loader does not).
public final class DataLoader {
  public let examples: [EncodedExample]
  public let batchSize: Int
  public let shuffle: Bool
  public let groupByLength: Bool
  public let dropLast: Bool
  public let seed: UInt64
  public let padId: Int32
  public let device: Device
  public let prefetch: Int
  /// This rank's shard and order of the examples per epoch (nil: all examples, shuffled by `shuffle`).
  public let sampler: DistributedSampler?

  public init(
    examples: [EncodedExample], batchSize: Int, shuffle: Bool = true, groupByLength: Bool = true,
    dropLast: Bool = false, seed: UInt64 = 42, padId: Int32 = 0, device: Device = .cpu, prefetch: Int = 4,
    sampler: DistributedSampler? = nil
  ) throws {
    guard batchSize > 0 else { throw TrainingError("batch size must be positive, got \(batchSize)") }
    if let sampler, sampler.datasetSize != examples.count {
      throw TrainingError("the sampler covers \(sampler.datasetSize) examples, the loader has \(examples.count)")
    }
    self.sampler = sampler
    self.examples = examples
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.groupByLength = groupByLength
    self.dropLast = dropLast
    self.seed = seed
    self.padId = padId
    self.device = device
    self.prefetch = max(1, prefetch)
  }

  /// Examples per epoch (this rank's with a sampler).
  public var samplesPerEpoch: Int { sampler?.numSamples ?? examples.count }

  /// Batches per epoch.
  public var count: Int {
    dropLast ? samplesPerEpoch / batchSize : (samplesPerEpoch + batchSize - 1) / batchSize
  }

  /// The example indices of each batch of `epoch` (deterministic for a seed and epoch).
  public func batchIndices(epoch: Int) throws -> [[Int]] {
    var order: [Int]
    if let sampler {
      order = try sampler.indices(epoch: epoch)
    } else {
      order = Array(examples.indices)
      if shuffle {
        var rng = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        rng.shuffle(&order)
      }
    }
    if sampler?.shuffle ?? shuffle {
      if groupByLength {
        // Megabatches of 50 batches, each sorted by length (longest first), as LengthGroupedSampler.
        let mega = batchSize * 50
        var grouped: [Int] = []
        grouped.reserveCapacity(order.count)
        for start in stride(from: 0, to: order.count, by: mega) {
          let chunk = order[start..<min(start + mega, order.count)]
          grouped += chunk.sorted { (examples[$0].count, $0) > (examples[$1].count, $1) }
        }
        order = grouped
      }
    }
    var batches: [[Int]] = []
    for start in stride(from: 0, to: order.count, by: batchSize) {
      let b = Array(order[start..<min(start + batchSize, order.count)])
      if dropLast && b.count < batchSize { break }
      batches.append(b)
    }
    return batches
  }

  /// Builds the CPU tensors of a batch (padding to the longest member).
  public func collate(_ idx: [Int]) throws -> Batch {
    let t = idx.map { examples[$0].count }.max() ?? 0
    var ids = [Int64](repeating: Int64(padId), count: idx.count * t)
    var mask = [Int64](repeating: 0, count: idx.count * t)
    var types = [Int64](repeating: 0, count: idx.count * t)
    var labels = [Int64](repeating: 0, count: idx.count)
    var tokens = 0
    for (row, i) in idx.enumerated() {
      let e = examples[i]
      for j in 0..<e.count {
        ids[row * t + j] = Int64(e.ids[j])
        mask[row * t + j] = 1
        types[row * t + j] = Int64(e.typeIds[j])
      }
      labels[row] = Int64(e.label)
      tokens += e.count
    }
    let shape = [idx.count, t]
    var batch = Batch(
      inputIds: try Tensor(ids, shape: shape), attentionMask: try Tensor(mask, shape: shape),
      tokenTypeIds: try Tensor(types, shape: shape), labels: try Tensor(labels), size: idx.count,
      tokens: tokens)
    if device.isCUDA {
      batch.inputIds = try batch.inputIds.pinMemory()
      batch.attentionMask = try batch.attentionMask.pinMemory()
      batch.tokenTypeIds = try batch.tokenTypeIds.pinMemory()
      batch.labels = try batch.labels.pinMemory()
    }
    return batch
  }

  /// Iterates the batches of `epoch` from `startBatch`, prefetching on a background thread.
  public func makeIterator(epoch: Int, startBatch: Int = 0) throws -> BatchIterator {
    BatchIterator(loader: self, batches: Array(try batchIndices(epoch: epoch).dropFirst(startBatch)), device: device)
  }

  /// Iterates batches of the given example indices, in that order, prefetching on a background thread.
  public func makeIterator(batches: [[Int]]) -> BatchIterator {
    BatchIterator(loader: self, batches: batches, device: device)
  }
}

/// A prefetching iterator over a loader's batches; `next()` moves each batch to the device (non-blocking
/// from pinned memory on CUDA). The background thread ends at the end of the epoch, on `cancel()`, and when
/// the iterator is dropped (it holds only the shared queue, never the iterator).
public final class BatchIterator {
  private let queue: PrefetchQueue
  private let device: Device

  init(loader: DataLoader, batches: [[Int]], device: Device) {
    self.device = device
    queue = PrefetchQueue(loader: loader, batches: batches)
    let queue = queue
    BatchIterator.producers.add(1)
    let t = Thread {
      defer { BatchIterator.producers.add(-1) }
      queue.produce()
    }
    t.name = "torchswift-dataloader"
    t.start()
  }

  deinit { queue.cancel() }

  /// Producer threads still running, in all iterators (for tests: a dropped iterator must end its thread).
  static let producers = LiveCount()

  public var remaining: Int { queue.remaining }

  /// The next batch on the loader's device, or nil at the end of the epoch.
  public func next() throws -> Batch? {
    guard var batch = try queue.next() else { return nil }
    if device != .cpu {
      batch.inputIds = try batch.inputIds.to(device: device, nonBlocking: true)
      batch.attentionMask = try batch.attentionMask.to(device: device, nonBlocking: true)
      batch.tokenTypeIds = try batch.tokenTypeIds.to(device: device, nonBlocking: true)
      batch.labels = try batch.labels.to(device: device, nonBlocking: true)
    }
    return batch
  }

  /// Stops the background thread (also done when the iterator goes away).
  public func cancel() { queue.cancel() }
}

/// The batches a producer thread builds ahead of the consumer, at most `loader.prefetch` of them.
private final class PrefetchQueue: @unchecked Sendable {
  let loader: DataLoader
  let batches: [[Int]]
  private let lock = NSCondition()
  private var ready: [Int: Result<Batch, Error>] = [:]
  private var nextToProduce = 0
  private var nextToConsume = 0
  private var cancelled = false

  init(loader: DataLoader, batches: [[Int]]) {
    self.loader = loader
    self.batches = batches
  }

  var remaining: Int {
    lock.lock()
    defer { lock.unlock() }
    return batches.count - nextToConsume
  }

  /// The producer thread's loop: builds batches in order until the end, or until cancelled.
  func produce() {
    while true {
      lock.lock()
      while !cancelled && nextToProduce - nextToConsume >= loader.prefetch && nextToProduce < batches.count {
        lock.wait()
      }
      if cancelled || nextToProduce >= batches.count {
        lock.unlock()
        return
      }
      let i = nextToProduce
      nextToProduce += 1
      lock.unlock()
      let result = Result { try loader.collate(batches[i]) }
      lock.lock()
      ready[i] = result
      lock.broadcast()
      lock.unlock()
    }
  }

  /// The next built batch (waiting for it), or nil at the end or once cancelled.
  func next() throws -> Batch? {
    lock.lock()
    while nextToConsume < batches.count && !cancelled && ready[nextToConsume] == nil { lock.wait() }
    guard nextToConsume < batches.count, !cancelled, let result = ready.removeValue(forKey: nextToConsume) else {
      lock.unlock()
      return nil
    }
    nextToConsume += 1
    lock.broadcast()
    lock.unlock()
    return try result.get()
  }

  func cancel() {
    lock.lock()
    cancelled = true
    ready.removeAll()
    lock.broadcast()
    lock.unlock()
  }
}

/// A thread-safe counter.
final class LiveCount: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func add(_ n: Int) { lock.lock(); count += n; lock.unlock() }
  var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
