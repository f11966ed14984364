import ArgumentParser
import Foundation
import NN
import Optim
import Torch

/// `torchswift gpu-selftest`: checks that TorchSwift works on this machine's GPU. Without a GPU it prints
/// "skipped: no CUDA device" and succeeds.
struct GPUSelftest: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gpu-selftest",
    abstract:
      "GPU checks: transfers, matmul vs CPU, autocast, GradScaler, memory stats, pinned memory, CUDA graphs, fused kernels, the example."
  )

  @Option(help: "CUDA device index.")
  var device = 0

  @Flag(help: "Leave out the TransformerEncoder example run.")
  var skipExample = false

  func run() throws {
    guard CUDA.isAvailable else {
      let why = Torch.cudaBuildVersions == nil ? "libtorch is CPU-only" : "no NVIDIA driver or GPU visible"
      print("gpu-selftest: skipped: no CUDA device (\(why))")
      return
    }
    guard device >= 0, device < CUDA.deviceCount else {
      throw ValidationError("--device \(device): only \(CUDA.deviceCount) CUDA device(s) visible")
    }
    let dev = Device.cuda(device)
    var failures: [String] = []
    func check(_ name: String, _ body: () throws -> String) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      do {
        let detail = try body()
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        print("PASS  \(name): \(detail) (\(String(format: "%.0f", ms)) ms)")
      } catch {
        print("FAIL  \(name): \(error)")
        failures.append(name)
      }
      fflushStdout()
    }

    check("CUDA available") {
      let p = try CUDA.properties(device)
      let v = CUDA.driverAndRuntimeVersions
      return "\(CUDA.deviceCount) device(s); cuda:\(device) \(p.name), compute capability \(p.major).\(p.minor), "
        + "driver supports CUDA \(v.driver ?? "?"), runtime \(v.runtime ?? "?"), C layer CUDA extensions: \(CUDA.hasCUDAExtensions ? "yes" : "no")"
    }
    check("tensor round trip") {
      let x = try Tensor.randn([257, 33])
      let back = try x.to(device: dev).to(device: .cpu)
      guard try back.equal(x) else { throw SelftestError("CPU → GPU → CPU changed the values") }
      return "[257, 33] float32 CPU → cuda → CPU unchanged"
    }
    check("matmul vs CPU") {
      let saved = Backends.allowTF32Matmul
      Backends.allowTF32Matmul = false
      defer { Backends.allowTF32Matmul = saved }
      let a = try Tensor.randn([256, 384]), b = try Tensor.randn([384, 128])
      let cpu = try a.matmul(b)
      let gpu = try a.to(device: dev).matmul(b.to(device: dev)).to(device: .cpu)
      let diff = try (gpu - cpu).abs().max().item(Double.self)
      guard try gpu.allclose(cpu, rtol: 1e-4, atol: 1e-4) else { throw SelftestError("max |GPU - CPU| = \(diff)") }
      return String(format: "[256, 384] × [384, 128] float32, max |GPU - CPU| = %.2e", diff)
    }
    check("autocast dtypes") {
      let a = try Tensor.randn([64, 64], device: dev), b = try Tensor.randn([64, 64], device: dev)
      var seen: [String] = []
      for dt in [DType.float16, .bfloat16] {
        let (mm, sm) = try withAutocast(dt, device: dev) { (try a.matmul(b), try a.softmax(dim: -1)) }
        guard mm.dtype == dt else { throw SelftestError("matmul under \(dt) autocast gave \(mm.dtype)") }
        guard sm.dtype == .float32 else {
          throw SelftestError("softmax under \(dt) autocast gave \(sm.dtype), expected float32")
        }
        seen.append("\(dt): matmul \(mm.dtype), softmax \(sm.dtype)")
      }
      return seen.joined(separator: "; ")
    }
    check("GradScaler") {
      let w = try Tensor.randn([32, 32], device: dev).requiresGrad_()
      let x = try Tensor.randn([8, 32], device: dev)
      let opt = try AdamW([w], lr: 1e-3)
      let scaler = GradScaler(initScale: 1024, growthInterval: 1)
      let before = try w.detach().clone()
      let loss = try withAutocast(.float16, device: dev) { try x.matmul(w).float().pow(2).mean() }
      try scaler.scale(loss).backward()
      try scaler.step(opt)  // fused AdamW: scale and overflow flag stay on the GPU
      try scaler.update()
      guard !scaler.lastStepSkipped, !(try w.equal(before)) else { throw SelftestError("a clean step was skipped") }
      guard scaler.scale == 2048 else {
        throw SelftestError("scale after a clean step is \(scaler.scale), expected 2048")
      }
      // An overflowing gradient: the step is skipped and the scale backs off.
      try opt.zeroGrad()
      let frozen = try w.detach().clone()
      let bad = try withAutocast(.float16, device: dev) { try x.matmul(w).float().mean().mul(.double(Double.infinity)) }
      try scaler.scale(bad).backward()
      try scaler.step(opt)
      try scaler.update()
      guard scaler.lastStepSkipped, try w.equal(frozen) else {
        throw SelftestError("the optimizer stepped on inf gradients")
      }
      guard scaler.scale == 1024 else {
        throw SelftestError("scale after an overflow is \(scaler.scale), expected 1024")
      }
      return "fp16 step taken (scale 1024 → 2048), inf step skipped (scale → 1024)"
    }
    check("memory stats") {
      try CUDA.synchronize(device)
      try CUDA.emptyCache()
      let before = try CUDA.memoryStats(device)
      var big: Tensor? = try Tensor.zeros([64, 1024, 1024], device: dev)  // 256 MiB
      let during = try CUDA.memoryStats(device)
      guard during.allocated - before.allocated >= 256 << 20 else {
        throw SelftestError("allocated grew by \(during.allocated - before.allocated) bytes for a 256 MiB tensor")
      }
      big = nil
      _ = big
      try CUDA.emptyCache()
      let after = try CUDA.memoryStats(device)
      guard after.allocated <= before.allocated, during.peakAllocated >= during.allocated else {
        throw SelftestError("stats after freeing: \(after)")
      }
      return
        "256 MiB tensor: allocated +\((during.allocated - before.allocated) >> 20) MiB, back to \(after.allocated >> 20) MiB after free; reserved \(after.reserved >> 20) MiB after emptyCache"
    }
    check("pinned memory") {
      let host = try Tensor.randn([1024, 1024]).pinMemory()
      guard host.isPinned else { throw SelftestError("pinMemory() returned an unpinned tensor") }
      let onGPU = try host.to(device: dev, nonBlocking: true)
      try CUDA.synchronize(device)
      guard try onGPU.to(device: .cpu).equal(host) else { throw SelftestError("non-blocking copy changed the values") }
      return "4 MiB pinned host tensor copied non-blocking to cuda and back unchanged"
    }
    check("streams and events") { try streamsAndEvents(device) }
    check("CUDA graph training step") { try graphMatchesEager(dev) }
    check("fused kernels vs eager") { try FusedKernelCheck.run(dev) }
    if !skipExample {
      check("example transformer --device cuda") {
        let cmd = try Example.Transformer.parse(["--device", "cuda:\(device)", "--train-steps", "3"])
        try cmd.run()
        return "TransformerEncoder 6 × d512 forward and 3 training steps on cuda:\(device)"
      }
    }
    if failures.isEmpty {
      print("gpu-selftest: all checks passed")
    } else {
      print("gpu-selftest: \(failures.count) check(s) failed: \(failures.joined(separator: ", "))")
      throw ExitCode(1)
    }
  }

  /// A chain of matmuls queued on a side stream inside `withStream`, timed by events, waited for by the main
  /// stream through an event: the current stream is restored, the timing is positive and the result equals
  /// the same chain on the main stream.
  func streamsAndEvents(_ device: Int) throws -> String {
    guard CUDA.hasCUDAExtensions else { throw SelftestError("the C layer was built without CUDA headers (no streams)") }
    let dev = Device.cuda(device)
    let main = try CUDAStream.current(device: device)
    let side = try CUDAStream(device: device)
    guard side.id != main.id else { throw SelftestError("a new stream from the pool is the current stream") }
    let a = try Tensor.randn([1024, 1024], device: dev).div(.double(32))
    func chain() throws -> Tensor {
      var x = a
      for _ in 0..<8 { x = try x.matmul(a) }
      return x
    }
    let start = try CUDAEvent(enableTiming: true), end = try CUDAEvent(enableTiming: true)
    try side.wait(main)  // `a` was made on the main stream
    let onSide = try withStream(side) { () throws -> Tensor in
      try start.record(on: side)
      let x = try chain()
      try end.record(on: side)
      return x
    }
    guard try CUDAStream.current(device: device).id == main.id else {
      throw SelftestError("withStream did not restore the current stream")
    }
    try main.wait(end)
    let reference = try chain()
    let diff = try (onSide - reference).abs().max().item(Double.self)
    let scale = try reference.abs().max().item(Double.self)
    try end.synchronize()
    let ms = try start.elapsedTime(to: end)
    guard try end.query(), try side.query() else {
      throw SelftestError("the side stream has work left after synchronize")
    }
    guard ms > 0 else { throw SelftestError("elapsed time between the events is \(ms) ms") }
    guard diff <= 1e-5 * max(scale, 1e-30) else { throw SelftestError("side-stream result differs by \(diff)") }
    return String(
      format:
        "8 matmuls [1024²] on a side stream: %.3f ms by events, main stream waited on the event, result = main stream's",
      ms)
  }

  /// A small MLP trained 5 steps eagerly and 5 steps by replaying one captured step (fused AdamW with its
  /// step counts on the GPU): the parameters must agree.
  func graphMatchesEager(_ dev: Device) throws -> String {
    guard CUDA.hasCUDAExtensions else {
      throw SelftestError("the C layer was built without CUDA headers (no CUDA graphs)")
    }
    let saved = Backends.allowTF32Matmul
    Backends.allowTF32Matmul = false
    defer { Backends.allowTF32Matmul = saved }
    func makeModel() throws -> Sequential {
      Torch.manualSeed(7)
      let m = try Sequential(Linear(inFeatures: 16, outFeatures: 32), ReLU(), Linear(inFeatures: 32, outFeatures: 1))
      try m.to(device: dev)
      return m
    }
    Torch.manualSeed(11)
    let data = try (0..<5).map { _ in
      (try Tensor.randn([8, 16]).to(device: dev), try Tensor.randn([8, 1]).to(device: dev))
    }
    // Eager reference: 3 warm-up steps on the first batch (as the capture does), then the 5 batches.
    let eager = try makeModel()
    let eagerOpt = try AdamW(eager.parameters(), lr: 1e-2, fused: true)
    func eagerStep(_ x: Tensor, _ y: Tensor) throws {
      try eagerOpt.zeroGrad()
      try F.mseLoss(try eager.forward(x), y).backward()
      try eagerOpt.step()
    }
    for _ in 0..<3 { try eagerStep(data[0].0, data[0].1) }
    for (x, y) in data { try eagerStep(x, y) }

    let graphed = try makeModel()
    let opt = try AdamW(graphed.parameters(), lr: 1e-2, fused: true)
    let step = try CUDAGraphStep(example: [data[0].0, data[0].1], warmup: 3) { batch in
      try opt.zeroGrad()
      let loss = try F.mseLoss(try graphed.forward(batch[0]), batch[1])
      try loss.backward()
      try opt.step()
      return [loss]
    }
    guard step.mode == .graph else { throw SelftestError("CUDAGraphStep fell back to eager: \(step.mode)") }
    for (x, y) in data { try step([x, y]) }
    guard step.replays == 5, step.eagerCalls == 0 else {
      throw SelftestError(
        "\(step.replays) replays and \(step.eagerCalls) eager calls for 5 batches of the captured shape")
    }
    try CUDA.synchronize(device)
    var maxDiff = 0.0
    for (a, b) in zip(eager.parameters(), graphed.parameters()) {
      maxDiff = max(maxDiff, try (a - b).abs().max().item(Double.self))
    }
    guard maxDiff <= 1e-5 else { throw SelftestError("parameters after graph replays differ from eager by \(maxDiff)") }
    // A batch of another shape runs eagerly.
    let other = try step([try Tensor.randn([3, 16], device: dev), try Tensor.randn([3, 1], device: dev)])
    guard step.eagerCalls == 1, try other[0].isfinite().all().item(Bool.self) else {
      throw SelftestError("a batch of another shape did not fall back to an eager step")
    }
    return String(
      format: "MLP + fused AdamW, 3 warm-up + 5 replays vs eager: max |Δparam| = %.1e; another shape ran eagerly",
      maxDiff)
  }
}

struct SelftestError: Error, CustomStringConvertible {
  var description: String
  init(_ s: String) { description = s }
}

func fflushStdout() { fflush(stdout) }
