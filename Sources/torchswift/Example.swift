import ArgumentParser
import CLISupport
import Foundation
import NN
import Optim
import Torch

/// `torchswift example …`: small runnable programs showing the library at work.
struct Example: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Runnable examples.",
    subcommands: [Transformer.self])

  /// `torchswift example transformer`: PyTorch's TransformerEncoder example (6 layers, d_model 512, 8 heads),
  /// and with `--train-steps N` a timed training loop (forward + MSE + backward + fused AdamW).
  struct Transformer: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run TransformerEncoder(TransformerEncoderLayer(dModel: 512, nhead: 8), numLayers: 6) on [10, 32, 512]."
    )

    @Option(help: "cpu, cuda or cuda:N.")
    var device = "cpu"

    @Flag(help: "Use batch-first layout: input [32, 10, 512] instead of [10, 32, 512].")
    var batchFirst = false

    @Option(help: "Also time N training steps (forward + MSE + backward + AdamW) and print the median.")
    var trainSteps = 0

    @Option(help: "Untimed training steps before the timed ones.")
    var warmupSteps = 2

    @Option(help: "Intra-op CPU threads (default: libtorch's choice).")
    var threads: Int?

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
      guard trainSteps >= 0, warmupSteps >= 0 else {
        throw ValidationError("--train-steps and --warmup-steps must be non-negative")
      }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
      let dev = try deviceOption(device)
      if let threads { Torch.numThreads = threads }
      Torch.manualSeed(seed)
      func sync() throws { if case .cuda(let i) = dev { try CUDA.synchronize(i) } }

      let layer = try TransformerEncoderLayer(dModel: 512, nhead: 8, batchFirst: batchFirst)
      let model = try TransformerEncoder(encoderLayer: layer, numLayers: 6)
      try model.to(device: dev)
      let shape = batchFirst ? [32, 10, 512] : [10, 32, 512]
      let src = try Tensor.rand(shape, device: dev)

      let start = DispatchTime.now()
      let out = try model(src)  // [10, 32, 512] (or [32, 10, 512])
      try sync()
      let ms = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
      print("Output shape: \(out.shape)")
      print("Device: \(dev)")
      print(String(format: "Time: %.1f ms (forward, training mode, %d threads)", ms, Torch.numThreads))

      guard trainSteps > 0 else { return }
      let target = try Tensor.randn(shape, device: dev)
      let optimizer = try AdamW(model.parameters(), lr: 1e-4)
      var times: [Double] = []
      for i in 0..<(warmupSteps + trainSteps) {
        let t0 = DispatchTime.now()
        try optimizer.zeroGrad()
        let loss = try F.mseLoss(try model(src), target)
        try loss.backward()
        try optimizer.step()
        try sync()
        if i >= warmupSteps { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6) }
      }
      let sorted = times.sorted()
      let median =
        sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
      print(
        String(
          format:
            "Train step (forward + MSE + backward + AdamW fused): median %.1f ms over %d steps (min %.1f, max %.1f, %d threads)",
          median, times.count, sorted.first!, sorted.last!, Torch.numThreads))
    }
  }
}
