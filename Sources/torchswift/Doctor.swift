import ArgumentParser
import Foundation
import Torch

/// `torchswift doctor`: what this machine offers TorchSwift, and whether it is healthy.
struct Doctor: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check Swift, libtorch, CPU and CUDA: versions, ABI, devices; exits non-zero with advice on problems.")

  @Flag(help: "Print libtorch's full build configuration too.")
  var verbose = false

  func run() throws {
    var problems: [String] = []
    func line(_ k: String, _ v: String) { print(k.padding(toLength: 22, withPad: " ", startingAt: 0) + v) }
    line("Swift", swiftVersion())
    let runtime = Torch.runtime
    line("libtorch (built)", Torch.builtVersion)
    line("libtorch (loaded)", "\(runtime.version) from \(runtime.libraryPath)")
    if let problem = Torch.versionProblem() { problems.append(problem) }
    line("C++11 ABI", Torch.cxx11ABI ? "yes" : "no")
    if let cuda = Torch.cudaBuildVersions {
      line("built with CUDA", "\(cuda.cuda), cuDNN \(cuda.cudnn)")
    } else {
      line("built with CUDA", "no (CPU-only libtorch)")
    }
    line("CPU capability", Torch.cpuCapability)
    line("threads", "\(Torch.numThreads) intra-op (of \(ProcessInfo.processInfo.activeProcessorCount) cores)")
    if CUDA.isAvailable {
      line("CUDA", "available, \(CUDA.deviceCount) device(s)")
    } else {
      line("CUDA", "not available" + (Torch.cudaBuildVersions == nil ? "" : " (no NVIDIA driver or GPU visible)"))
    }
    if let v = ProcessInfo.processInfo.environment["CUDA_VISIBLE_DEVICES"] { line("CUDA_VISIBLE_DEVICES", v) }
    do {
      let a = try Tensor([1, 2, 3] as [Float])
      let b = try a.mul(a).sum().item(Float.self)
      line("smoke test", b == 14 ? "ok (CPU tensor math)" : "FAILED (got \(b), expected 14)")
      if b != 14 { problems.append("libtorch computed a wrong result on the CPU") }
    } catch {
      problems.append("libtorch failed a CPU smoke test: \(error)")
    }
    if verbose { print("\n" + Torch.config) }
    if problems.isEmpty {
      print("\nAll checks passed.")
    } else {
      print("\nProblems:")
      for p in problems { print("  - \(p)") }
      throw ExitCode(1)
    }
  }

  private func swiftVersion() -> String {
    #if compiler(>=6.4)
      return "6.4 or newer"
    #elseif compiler(>=6.3)
      return "6.3"
    #elseif compiler(>=6.2)
      return "6.2"
    #elseif compiler(>=6.1)
      return "6.1"
    #else
      return "6.0 or older"
    #endif
  }
}
