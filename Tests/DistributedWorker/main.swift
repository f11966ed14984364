// One rank of the distributed tests (Tests/DistributedTests): started 2× by hand (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT) or by torchrun, it runs a scenario and prints JSON lines for the test to compare
// with PyTorch's torch.distributed running the same scenario (Tests/DistributedTests/Fixtures/reference.py).
//
//   DistributedWorker collectives
//   DistributedWorker train --mode ddp|fsdp|zero|single [--steps N] [--accumulate N] [--unused]
//   DistributedWorker fault --rank R --at-step S --how exit|quit|stop|sleep [--timeout SECONDS]
//     (exit: SIGKILL itself; quit: exit(3); stop: SIGSTOP itself; sleep: hang with its heartbeat alive)
//   DistributedWorker env
//   DistributedWorker bench --mode ddp|single [--threads N] [--steps N] [--batch N]   (bench/ddp.sh)
import Distributed
import Foundation
import NN
import Optim
import Torch

setvbuf(stdout, nil, _IOLBF, 0)

func emit(_ object: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("error: \(message)\n".utf8))
  exit(1)
}

var args = Array(CommandLine.arguments.dropFirst())
guard let scenario = args.first else { fail("usage: DistributedWorker collectives|train|fault|env …") }
args.removeFirst()
func option(_ name: String) -> String? {
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}
let timeout = Double(option("--timeout") ?? "60")!

/// The same deterministic numbers the reference script makes: float32 of a float64 formula.
func values(_ n: Int, _ f: (Int) -> Double) -> [Float] { (0..<n).map { Float(f($0)) } }

final class TinyNet: Module {
  @ModuleInfo var fc1: Linear
  @ModuleInfo var fc2: Linear
  @ModuleInfo var spare: Linear?

  init(unused: Bool) throws {
    super.init()
    fc1 = try Linear(inFeatures: 8, outFeatures: 16)
    fc2 = try Linear(inFeatures: 16, outFeatures: 4)
    spare = unused ? try Linear(inFeatures: 4, outFeatures: 4) : nil
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    try fc2(try fc1(x).tanh())  // [B, 4]
  }
}

func initialize(_ net: TinyNet, rank: Int) throws {
  // Rank ≠ 0 starts elsewhere: DDP/FSDP must broadcast rank 0's parameters.
  let shift = rank == 0 ? 0.0 : 1.0
  try withNoGrad {
    for (k, (name, p)) in net.namedParameters().enumerated() {
      _ = name
      let v = values(p.numel) { 0.3 * sin(0.13 * Double($0) + Double(k)) + shift }
      try p.copy_(try Tensor(v, shape: p.shape))
    }
  }
}

func batch(step: Int, rows: Range<Int>) throws -> (Tensor, Tensor) {
  let x = values(rows.count * 8) { i in sin(0.1 * Double(step * 64 + rows.lowerBound * 8 + i) + 0.5) }
  let y = values(rows.count * 4) { i in cos(0.07 * Double(step * 32 + rows.lowerBound * 4 + i)) }
  return (try Tensor(x, shape: [rows.count, 8]), try Tensor(y, shape: [rows.count, 4]))
}

func mse(_ out: Tensor, _ y: Tensor) throws -> Tensor { try (out - y).pow(.double(2)).mean() }

func parameterDump(_ named: [(String, Tensor)]) throws -> [String: [Double]] {
  var out: [String: [Double]] = [:]
  for (n, p) in named { out[n] = try p.detach().to(dtype: .float64).reshape([-1]).toArray(Double.self) }
  return out
}

func stateElements(_ optimizer: Optimizer) throws -> Int {
  try optimizer.stateDict().filter { $0.key.hasPrefix("state.") && !$0.key.hasSuffix(".step") }.values.reduce(0) {
    $0 + $1.numel
  }
}

do {
  switch scenario {
  case "env":
    let env = try DistributedEnvironment.read()
    emit([
      "rank": env.rank, "world_size": env.worldSize, "local_rank": env.localRank, "agent_store": env.useAgentStore,
      "restart": env.restartCount
    ])

  case "collectives":
    let pg = try ProcessGroup.initFromEnvironment(timeout: timeout)
    let r = Double(pg.rank)
    var out: [String: Any] = ["rank": pg.rank, "world_size": pg.worldSize]
    for op in ReduceOp.allCases {
      let t = try Tensor(values(6) { Double($0) * 0.5 - r * 1.25 + 0.1 }, shape: [2, 3])
      try pg.allReduce(t, op: op)
      out["all_reduce_\(op)"] = try t.to(dtype: .float64).reshape([-1]).toArray(Double.self)
    }
    let ints = try Tensor((0..<5).map { Int64($0 * 3 + pg.rank * 7) })
    try pg.allReduce(ints, op: .max)
    out["all_reduce_int_max"] = try ints.toArray(Int.self)
    let b = try Tensor(values(4) { Double($0) + r * 10 })
    try pg.broadcast(b, src: 1)
    out["broadcast_from_1"] = try b.to(dtype: .float64).toArray(Double.self)
    let input = try Tensor(values(3) { Double($0) + r * 100 })
    let gathered = try Tensor.zeros([pg.worldSize * 3])
    try pg.allGather(intoTensor: gathered, input)
    out["all_gather_into_tensor"] = try gathered.to(dtype: .float64).toArray(Double.self)
    let parts = try (0..<pg.worldSize).map { _ in try Tensor.zeros([3]) }
    try pg.allGather(parts, input)
    out["all_gather"] = try parts.map { try $0.to(dtype: .float64).toArray(Double.self) }
    for op in [ReduceOp.sum, .avg, .max, .min] {
      let rsIn = try Tensor(values(pg.worldSize * 4) { Double($0) * 0.25 + r })
      let rsOut = try Tensor.zeros([4])
      try pg.reduceScatter(intoTensor: rsOut, rsIn, op: op)
      out["reduce_scatter_\(op)"] = try rsOut.to(dtype: .float64).toArray(Double.self)
    }
    let c1 = try Tensor(values(3) { Double($0) + r })
    let c2 = try Tensor(values(2) { Double($0) * r - 1 })
    try pg.allReduceCoalesced([c1, c2], op: .sum)
    out["all_reduce_coalesced"] = try [c1, c2].map { try $0.to(dtype: .float64).toArray(Double.self) }
    // The barrier must hold rank 0 until rank 1, which arrives 0.5 s late, has entered it.
    if pg.rank == 1 { Thread.sleep(forTimeInterval: 0.5) }
    let barrierStart = Date()
    try pg.barrier()
    out["barrier_wait_s"] = Date().timeIntervalSince(barrierStart)
    emit(out)

  case "train":
    let mode = option("--mode") ?? "ddp"
    let steps = Int(option("--steps") ?? "5")!
    let accumulate = Int(option("--accumulate") ?? "1")!
    let unused = args.contains("--unused")
    let net = try TinyNet(unused: unused)
    let globalRows = 8
    var rank = 0
    var world = 1
    var pg: ProcessGroup? = nil
    if mode != "single" {
      pg = try ProcessGroup.initFromEnvironment(timeout: timeout)
      rank = pg!.rank
      world = pg!.worldSize
    }
    try initialize(net, rank: rank)
    let rows = (rank * globalRows / world)..<((rank + 1) * globalRows / world)
    let named = net.namedParameters()
    var ddp: DistributedDataParallel? = nil
    var fsdp: FullyShardedDataParallel? = nil
    let optimizer: Optimizer
    switch mode {
    case "ddp", "single":
      if mode == "ddp" { ddp = try DistributedDataParallel(net, processGroup: pg!, findUnusedParameters: unused) }
      optimizer = try AdamW(net.parameters(), lr: 0.01)
    case "zero":
      ddp = try DistributedDataParallel(net, processGroup: pg!, findUnusedParameters: unused)
      optimizer = try ZeroRedundancyOptimizer(
        [ParamGroup(params: net.parameters(), options: AdamOptions(lr: 0.01, weightDecay: 0.01))],
        processGroup: pg!
      ) { try AdamW($0) }
    case "fsdp":
      fsdp = try FullyShardedDataParallel(net, processGroup: pg!, units: [net.fc1, net.fc2])
      optimizer = try AdamW(fsdp!.shardedParameters, lr: 0.01)
    default: fail("unknown mode \(mode)")
    }
    // Gradient elements held after the last backward (before the step frees them): the module's parameters'
    // .grad for DDP/ZeRO/single, the shards' .grad for FSDP (measured, not assumed).
    var gradElements = 0
    for step in 0..<steps {
      var losses: [Double] = []
      var gradSums: [Double] = []
      for micro in 0..<accumulate {
        let (x, y) = try batch(step: step * accumulate + micro, rows: rows)
        func run() throws -> Tensor { try mse(try net(x), y).div(.int(accumulate)) }
        let loss: Tensor
        if let ddp {
          if micro < accumulate - 1 {
            loss = try ddp.noSync { try ddp.forward { try run() } }
            try loss.backward()
          } else {
            loss = try ddp.forward { try run() }
            try loss.backward()
          }
        } else if let fsdp {
          loss = try fsdp.forward { try run() }
          try loss.backward()
        } else {
          loss = try run()
          try loss.backward()
        }
        losses.append(try loss.item(Double.self) * Double(accumulate))
        // The module's gradients so far (float64 sum, parameter order): local after a noSync micro-batch,
        // averaged over the ranks after a synchronised one.
        var gradSum = 0.0
        for p in net.parameters() { if let g = p.grad { gradSum += try g.to(dtype: .float64).sum().item(Double.self) } }
        gradSums.append(gradSum)
      }
      gradElements = (fsdp?.shardedParameters ?? net.parameters()).compactMap(\.grad).reduce(0) { $0 + $1.numel }
      try optimizer.step()
      try optimizer.zeroGrad(setToNone: true)
      emit(["step": step, "rank": rank, "losses": losses, "grad_sums": gradSums])
    }
    let finalParams = try fsdp.map { try $0.fullStateDict().map { ($0.key, $0.value) } } ?? named
    // Per-rank memory of parameters (what the module holds between steps plus FSDP's shards), gradients (after
    // the last backward) and optimizer state (exp_avg, exp_avg_sq of the parameters this rank updates), in
    // elements of float32.
    let paramElements = net.parameters().reduce(0) { $0 + $1.numel } + (fsdp?.localParameterCount ?? 0)
    emit([
      "rank": rank, "params": try parameterDump(finalParams), "param_elements": paramElements,
      "optimizer_elements": try stateElements(optimizer), "grad_elements": gradElements
    ])

  case "fault":
    let victim = Int(option("--rank") ?? "1")!
    let atStep = Int(option("--at-step") ?? "3")!
    let how = option("--how") ?? "exit"
    let pg = try ProcessGroup.initFromEnvironment(timeout: timeout)
    let net = try TinyNet(unused: false)
    try initialize(net, rank: pg.rank)
    let ddp = try DistributedDataParallel(net, processGroup: pg)
    let optimizer = try AdamW(net.parameters(), lr: 0.01)
    for step in 0..<1_000_000 {
      pg.status = "step \(step)"
      if pg.rank == victim && step == atStep {
        emit(["rank": pg.rank, "event": how, "step": step])
        if how == "exit" { kill(getpid(), SIGKILL) }
        if how == "quit" { exit(3) }  // a clean exit in the middle of training
        if how == "stop" { kill(getpid(), SIGSTOP) }
        if how == "sleep" { Thread.sleep(forTimeInterval: 3600) }
      }
      let (x, y) = try batch(step: step, rows: 0..<4)
      do {
        let loss = try ddp.forward { try mse(try net(x), y) }
        try loss.backward()
        try optimizer.step()
        try optimizer.zeroGrad(setToNone: true)
      } catch {
        fail("\(pg.explain(error, during: "training step \(step)"))")
      }
    }

  case "bench":
    // A 256→1024→1024→16 ReLU MLP, MSE, AdamW; `--batch` rows per step over all ranks. Rank 0 prints the
    // job's samples/s over the timed steps (after warm-up steps, between barriers).
    let mode = option("--mode") ?? "ddp"
    let threads = Int(option("--threads") ?? "1")!
    let steps = Int(option("--steps") ?? "40")!
    let warmup = Int(option("--warmup") ?? "5")!
    let globalBatch = Int(option("--batch") ?? "64")!
    Torch.numThreads = threads
    Torch.manualSeed(0)
    let pg = mode == "ddp" ? try ProcessGroup.initFromEnvironment(timeout: timeout) : nil
    let world = pg?.worldSize ?? 1
    let net = try Sequential([
      try Linear(inFeatures: 256, outFeatures: 1024), ReLU(),
      try Linear(inFeatures: 1024, outFeatures: 1024), ReLU(),
      try Linear(inFeatures: 1024, outFeatures: 16)
    ])
    let ddp = try pg.map { try DistributedDataParallel(net, processGroup: $0) }
    let optimizer = try AdamW(net.parameters(), lr: 1e-3)
    let x = try Tensor.randn([globalBatch / world, 256])
    let y = try Tensor.randn([globalBatch / world, 16])
    var start = Date()
    for step in 0..<(warmup + steps) {
      if step == warmup {
        try pg?.barrier()
        start = Date()
      }
      let loss = try ddp.map { d in try d.forward { try mse(try net(x), y) } } ?? mse(try net(x), y)
      try loss.backward()
      try optimizer.step()
      try optimizer.zeroGrad(setToNone: true)
    }
    try pg?.barrier()
    let seconds = Date().timeIntervalSince(start)
    if (pg?.rank ?? 0) == 0 {
      emit([
        "impl": "swift", "mode": mode, "world_size": world, "threads": threads, "steps": steps,
        "batch": globalBatch / world * world, "seconds": seconds,
        "samples_per_s": Double(globalBatch / world * world * steps) / seconds
      ])
    }

  default:
    fail("unknown scenario \(scenario)")
  }
} catch {
  fail("\(error)")
}
