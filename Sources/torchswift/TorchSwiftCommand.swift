import ArgumentParser

@main
struct TorchSwiftCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torchswift",
    abstract: "TorchSwift: Swift tensors, models and training on libtorch.",
    subcommands: [Doctor.self, Example.self, Bench.self, GPUSelftest.self])
}
