import Distributed
import Foundation
import Torch

/// Doctor's distributed section: the c10d backends this build carries and, under torchrun, this rank's view
/// of the job (rank, world, store, backend, device) and an all-reduce smoke test over every rank.
enum DistributedCheck {
  /// Lines to print and problems found. Under torchrun every rank runs this (a collective): all ranks must.
  static func run(
    environment: [String: String] = ProcessInfo.processInfo.environment,
    timeout: Double = 60
  ) -> (lines: [(String, String)], problems: [String]) {
    let backends = ProcessGroup.availableBackends
    var lines = [
      (
        "c10d backends",
        Backend.allCases.map { "\($0.rawValue) \(backends.contains($0) ? "yes" : "no")" }.joined(separator: ", ")
      )
    ]
    guard DistributedEnvironment.isPresent(environment) else {
      lines.append(("distributed", "not started by torchrun (RANK, WORLD_SIZE unset): single process"))
      return (lines, [])
    }
    let env: DistributedEnvironment
    do { env = try DistributedEnvironment.read(environment) } catch {
      return (lines, ["torchrun's variables are not usable: \(error)"])
    }
    let me = "rank \(env.rank)"
    lines.append(
      (
        me,
        "of \(env.worldSize) (local rank \(env.localRank) of \(env.localWorldSize)), store \(env.masterAddr):\(env.masterPort)"
          + (env.useAgentStore ? " (torchrun's agent)" : "") + ", restart \(env.restartCount)"
      ))
    let useNCCL = CUDA.isAvailable && backends.contains(.nccl) && env.localRank < CUDA.deviceCount
    let device: Device = useNCCL ? .cuda(env.localRank) : .cpu
    let backend: Backend = useNCCL ? .nccl : .gloo
    let pg: ProcessGroup
    do {
      pg = try ProcessGroup.initFromEnvironment(
        backend: backend, device: device, timeout: timeout, environment: environment)
    } catch {
      lines.append((me, "store or process group FAILED"))
      return (lines, ["\(me): could not join the job: \(error)"])
    }
    lines.append((me, "store reachable, \(backend.rawValue) process group on \(device)"))
    do {
      // Each rank contributes rank + 1: the sum is w(w + 1) / 2 on every rank.
      let t = try Tensor.full([4], .double(Double(env.rank + 1)), dtype: .float32, device: device)
      try pg.allReduce(t, op: .sum)
      let got = try t.to(device: .cpu).toArray(Float.self)
      let want = Float(env.worldSize * (env.worldSize + 1) / 2)
      guard got.allSatisfy({ $0 == want }) else {
        lines.append((me, "all-reduce FAILED"))
        return (lines, ["\(me): all-reduce over \(env.worldSize) ranks gave \(got), expected \(want) everywhere"])
      }
      try pg.barrier()
      lines.append((me, "all-reduce ok (sum over \(env.worldSize) ranks = \(Int(want))), barrier ok"))
    } catch {
      lines.append((me, "all-reduce FAILED"))
      return (lines, ["\(pg.explain(error, during: "doctor's all-reduce smoke test"))"])
    }
    return (lines, [])
  }
}
