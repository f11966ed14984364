import ArgumentParser
import CLISupport
import Foundation
import Torch

/// `torchswift-bench …`: the Swift side of the benchmarks that `make bench` runs next to their PyTorch twins (a
/// tool of its own, so that the user's `torchswift` never starts Python).
@main
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torchswift-bench",
    abstract: "TorchSwift benchmarks (Swift side); `make bench` runs them beside PyTorch and prints the ratios.",
    subcommands: [
      OpOverhead.self, TokenizerThroughput.self, BPETokenizerThroughput.self, EmbedThroughput.self,
      LLMThroughput.self, SFTThroughput.self, Table.self
    ])

  static func main() {
    CommandStartup.prepare(checkRuntime: !CommandStartup.isHelp(CommandLine.arguments.dropFirst().first))
    runAsTool()
  }
}

/// Median of repeated timings, in nanoseconds per iteration.
func medianNanos(repeats: Int, iterations: Int, _ body: () throws -> Void) rethrows -> Double {
  var samples: [Double] = []
  for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { try body() }
    let end = DispatchTime.now().uptimeNanoseconds
    samples.append(Double(end - start) / Double(iterations))
  }
  samples.sort()
  return samples[samples.count / 2]
}

extension Bench {
  /// Per-op overhead: `a + b` on two 4-element float tensors.
  struct OpOverhead: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "op-overhead", abstract: "Time a tiny op (add of two 4-element tensors); prints JSON.")

    @Option(help: "Iterations per repeat.") var iterations = 200_000
    @Option(help: "Repeats (the median is reported).") var repeats = 7
    @Option(help: "libtorch intra-op threads.") var threads = 1

    func run() throws {
      Torch.numThreads = threads
      let a = try Tensor([1, 2, 3, 4] as [Float])
      let b = try Tensor([5, 6, 7, 8] as [Float])
      for _ in 0..<10_000 { _ = a + b }
      let op = medianNanos(repeats: repeats, iterations: iterations) { _ = a + b }
      let named = try medianNanos(repeats: repeats, iterations: iterations) { _ = try a.add(b) }
      print(
        #"{"benchmark": "op_overhead", "impl": "swift", "ns_per_op": \#(op), "ns_per_named_op": \#(named), "threads": \#(threads)}"#
      )
    }
  }
}
