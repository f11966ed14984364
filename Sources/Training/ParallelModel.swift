import Distributed
import Models
import NN
import Optim
import Torch

/// How `finetune` spreads one job over several processes (torchrun's workers).
public enum DistributedMode: String, Sendable, CaseIterable {
  /// `DistributedDataParallel`: a full replica per rank, gradients averaged in buckets during backward.
  case ddp
  /// `FullyShardedDataParallel` (FSDP2 style): parameters, gradients and optimizer state sharded over the
  /// ranks, each encoder layer all-gathered for its forward and reduce-scattered in its backward.
  case fsdp
}

/// The classifier as the training loop drives it: on its own, under DDP, or sharded under FSDP. Every method
/// that communicates is a collective: all ranks call it in the same order.
final class ParallelModel {
  let model: BertForSequenceClassification
  let processGroup: ProcessGroup?
  let mode: DistributedMode?
  private let ddp: DistributedDataParallel?
  private let fsdp: FullyShardedDataParallel?

  init(_ model: BertForSequenceClassification, mode: DistributedMode?, processGroup: ProcessGroup?) throws {
    self.model = model
    self.processGroup = processGroup
    self.mode = processGroup == nil ? nil : mode
    switch (self.mode, processGroup) {
    case (.ddp?, let pg?):
      ddp = try DistributedDataParallel(model, processGroup: pg)
      fsdp = nil
    case (.fsdp?, let pg?):
      ddp = nil
      fsdp = try FullyShardedDataParallel(model, processGroup: pg, units: Array(model.bert.encoder.layer))
    default:
      ddp = nil
      fsdp = nil
    }
  }

  var rank: Int { processGroup?.rank ?? 0 }
  var worldSize: Int { processGroup?.worldSize ?? 1 }
  /// Rank 0 (or the only process): the one that logs and writes.
  var isMain: Bool { rank == 0 }

  /// The tensors the optimizer updates, split into those with weight decay and those without (biases,
  /// LayerNorm weights): the model's parameters, or this rank's shards of them under FSDP.
  func optimizerParameters() -> (decay: [Tensor], noDecay: [Tensor]) {
    let (decay, noDecay) = decayAndNoDecayParameters(model)
    guard let fsdp else { return (decay, noDecay) }
    return (decay.compactMap { fsdp.shard(of: $0) }, noDecay.compactMap { fsdp.shard(of: $0) })
  }

  /// Runs a training forward. `sync: false` accumulates gradients locally under DDP (`no_sync`); FSDP
  /// reduce-scatters every backward into the shards' gradients, which then accumulate.
  func forward(sync: Bool, _ body: () throws -> Tensor) throws -> Tensor {
    if let ddp { return sync ? try ddp.forward(body) : try ddp.noSync { try ddp.forward(body) } }
    if let fsdp { return try fsdp.forward(body) }
    return try body()
  }

  /// The gradients' global 2-norm, clipped to `maxNorm` when it is positive (`clip_grad_norm_`; over all
  /// ranks' shards under FSDP).
  func gradNorm(parameters: [Tensor], maxNorm: Double) throws -> Double {
    if let fsdp { return try fsdp.clipGradNorm(maxNorm: maxNorm > 0 ? maxNorm : .infinity) }
    return try
      (maxNorm > 0
      ? clipGradNorm(parameters, maxNorm: maxNorm)
      : getTotalNorm(parameters.compactMap(\.grad))).item(Double.self)
  }

  /// Runs `body` with the model holding all of its weights (gathered under FSDP: a collective).
  func withFullModel<T>(_ body: () throws -> T) throws -> T {
    if let fsdp { return try fsdp.withFullParameters(body) }
    return try body()
  }

  /// Element-wise sum over the ranks (the values themselves in one process).
  func sum(_ values: [Double]) throws -> [Double] {
    guard let processGroup else { return values }
    return try processGroup.allReduce(values, op: .sum)
  }

  func barrier() throws { try processGroup?.barrier() }

  /// A distributed failure turned into a message naming the failing rank and what this one was doing.
  func explain(_ error: Error, during operation: String) -> Error {
    guard let processGroup else { return error }
    // Collectives fail as DistributedError; DDP's Reducer fails inside backward, as a libtorch error from Gloo/NCCL.
    let text = "\(error)"
    let communication =
      error is DistributedError
      || ["gloo", "nccl", "NCCL", "c10d", "Connection", "connection", "Timed out", "timed out"].contains {
        text.contains($0)
      }
    guard communication else { return error }
    return processGroup.explain(error, during: operation)
  }

  /// Is the optimizer state sharded (one file per rank in a checkpoint)?
  var shardsOptimizer: Bool { fsdp != nil }

  /// Elements of the parameters this rank holds (the shards under FSDP).
  var localParameterCount: Int { fsdp?.localParameterCount ?? model.parameters().reduce(0) { $0 + $1.numel } }
}
