import ArgumentParser
import Foundation
import CLISupport
import Torch

@main
struct TorchSwiftCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torchswift",
    abstract: "TorchSwift: Swift tensors, models and training on libtorch.",
    subcommands: [
      Doctor.self, FineTune.self, Eval.self, Predict.self, Embed.self, Tokenize.self, Generate.self, Chat.self,
      SFT.self, ServeCommand.self, Quantize.self, Example.self, GPUSelftest.self
    ])

  /// Shows the library's log messages as the CLI's own lines, and stops (exit 70) when the libtorch loaded is
  /// not the one TorchSwift was built for, except for `doctor`, which reports it.
  static func main() {
    let first = CommandLine.arguments.dropFirst().first
    CommandStartup.prepare(checkRuntime: first != "doctor" && !CommandStartup.isHelp(first))
    runAsTool()
  }
}
