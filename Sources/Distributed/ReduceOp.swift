/// `torch.distributed.ReduceOp`. On Gloo, `.avg` is a sum divided by the world size (Gloo has no average:
/// its all-reduce refuses it and its reduce-scatter silently sums), as NCCL's average computes it.
public enum ReduceOp: Int32, Sendable, CaseIterable {
  case sum = 0, avg, product, min, max
}

/// The collective backend of a process group.
public enum Backend: String, Sendable, CaseIterable {
  /// Gloo: CPU tensors (and CUDA tensors through host copies).
  case gloo
  /// NCCL: CUDA tensors, one GPU per rank.
  case nccl
}
