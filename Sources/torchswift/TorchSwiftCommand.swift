import ArgumentParser

@main
struct TorchSwiftCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torchswift",
    abstract: "TorchSwift: Swift tensors, models and training on libtorch.",
    subcommands: [Doctor.self, FineTune.self, Eval.self, Predict.self, Embed.self, Tokenize.self, Example.self, Bench.self, GPUSelftest.self])
}
