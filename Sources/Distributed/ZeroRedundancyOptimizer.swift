import Optim
import Torch

/// `torch.distributed.optim.ZeroRedundancyOptimizer`: each rank keeps optimizer state for, and updates, only
/// its partition of the parameters (ZeRO stage 1); after its step every rank broadcasts the parameters it
/// owns. Gradients must already be averaged across ranks (use it with `DistributedDataParallel`).
///
/// Parameters are assigned as PyTorch does: per group, largest first, each to the rank with the fewest
/// elements so far.
///
///     let zero = try ZeroRedundancyOptimizer(groups, processGroup: pg) { try AdamW($0) }
public final class ZeroRedundancyOptimizer<Options: OptimizerOptions>: Optimizer {
  public let processGroup: ProcessGroup
  /// The optimizer over this rank's partition.
  public let local: Optimizer
  /// Every group of every rank (the optimizer's view of all parameters).
  public private(set) var paramGroups: [ParamGroup<Options>]
  /// The rank owning each parameter (by identity).
  public let owner: [ObjectIdentifier: Int]
  private let localGroupIndex: [Int]

  /// - Parameter makeOptimizer: builds the wrapped optimizer from this rank's groups (PyTorch's `optimizer_class`).
  public init(
    _ groups: [ParamGroup<Options>], processGroup: ProcessGroup,
    makeOptimizer: ([ParamGroup<Options>]) throws -> Optimizer
  ) throws {
    self.processGroup = processGroup
    self.paramGroups = groups
    var sizes = [Int](repeating: 0, count: processGroup.worldSize)
    var owner: [ObjectIdentifier: Int] = [:]
    var localGroups: [ParamGroup<Options>] = []
    var localGroupIndex: [Int] = []
    for (gi, group) in groups.enumerated() {
      var mine: [Tensor] = []
      // Largest first; ties keep the group's order (a stable sort, as Python's sorted).
      let order = group.params.enumerated().sorted { a, b in
        a.element.numel != b.element.numel ? a.element.numel > b.element.numel : a.offset < b.offset
      }
      var assigned: [ObjectIdentifier: Int] = [:]
      for (_, p) in order {
        let r = sizes.enumerated().min { $0.element != $1.element ? $0.element < $1.element : $0.offset < $1.offset }!
          .offset
        sizes[r] += p.numel
        assigned[ObjectIdentifier(p)] = r
      }
      for p in group.params {
        let r = assigned[ObjectIdentifier(p)]!
        owner[ObjectIdentifier(p)] = r
        if r == processGroup.rank { mine.append(p) }
      }
      // Every group is kept (possibly empty) so that learning rates line up with the groups.
      localGroups.append(ParamGroup(params: mine, options: group.options))
      localGroupIndex.append(gi)
    }
    self.owner = owner
    self.localGroupIndex = localGroupIndex
    self.local = try makeOptimizer(localGroups)
  }

  public var learningRates: [Double] { local.learningRates }

  public func setLearningRates(_ rates: [Double]) throws {
    try local.setLearningRates(rates)
    for i in paramGroups.indices where i < rates.count { paramGroups[i].options.lr = rates[i] }
  }

  public var parameters: [Tensor] { paramGroups.flatMap(\.params) }

  /// The local step, then each rank's parameters broadcast from their owner.
  public func step() throws {
    try local.step()
    try withNoGrad {
      for r in 0..<processGroup.worldSize {
        let owned = parameters.filter { owner[ObjectIdentifier($0)] == r }
        try processGroup.broadcastCoalesced(owned, src: r)
      }
    }
  }

  public func zeroGrad(setToNone: Bool) throws {
    for p in parameters where p.grad != nil {
      if setToNone { p.grad = nil } else { try p.grad!.zero_() }
    }
  }

  /// This rank's partition of the state (`consolidate_state_dict` is not needed to resume: each rank saves its own).
  public func stateDict() throws -> [String: Tensor] { try local.stateDict() }
  public func load(stateDict: [String: Tensor]) throws { try local.load(stateDict: stateDict) }

  /// Elements of optimizer-owned parameters on this rank.
  public var localParameterCount: Int { local.parameters.reduce(0) { $0 + $1.numel } }
}
