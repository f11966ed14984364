// swift-tools-version:6.0
// TorchSwift: Swift tensors, autograd, nn and Hugging Face models on PyTorch's own engine (libtorch).
// Run `make setup` first (or any make target): it installs torch, builds the C layer and writes the
// pkg-config file that the CTorch target finds through PKG_CONFIG_PATH=.torchswift/pkgconfig.
import PackageDescription

let package = Package(
  name: "TorchSwift",
  products: [
    .library(name: "Torch", targets: ["Torch"]),
    .library(name: "NN", targets: ["NN"]),
    .library(name: "Optim", targets: ["Optim"]),
    .library(name: "SafeTensors", targets: ["SafeTensors"]),
    .library(name: "Tokenizers", targets: ["Tokenizers"]),
    .library(name: "ChatTemplates", targets: ["ChatTemplates"]),
    .library(name: "Models", targets: ["Models"]),
    .library(name: "Generation", targets: ["Generation"]),
    .library(name: "LoRA", targets: ["LoRA"]),
    .library(name: "Datasets", targets: ["Datasets"]),
    .library(name: "TrainingSupport", targets: ["TrainingSupport"]),
    .library(name: "Training", targets: ["Training"]),
    .library(name: "Distributed", targets: ["Distributed"]),
    .executable(name: "torchswift", targets: ["torchswift"]),
    .executable(name: "torchswift-bench", targets: ["torchswift-bench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    .systemLibrary(name: "CTorch", pkgConfig: "ctorch"),
    .target(name: "FileIO"),
    .target(name: "JSONSupport"),
    .target(name: "SafeTensors", dependencies: ["FileIO", "JSONSupport"]),
    .executableTarget(name: "SafeTensorsFuzz", dependencies: ["SafeTensors"]),
    .target(
      name: "Torch", dependencies: ["CTorch", "SafeTensors", "FileIO", .product(name: "Logging", package: "swift-log")]),
    .target(name: "NN", dependencies: ["Torch"]),
    .target(name: "Optim", dependencies: ["Torch"]),
    .target(name: "Tokenizers", dependencies: ["JSONSupport"]),
    // Hugging Face chat templates (a Jinja subset), rendered as transformers' apply_chat_template does.
    .target(name: "ChatTemplates", dependencies: ["JSONSupport"]),
    .executableTarget(name: "TokenizersFuzz", dependencies: ["Tokenizers"]),
    .target(name: "Models", dependencies: ["Torch", "NN", "SafeTensors", "Tokenizers", "FileIO"]),
    .target(name: "Generation", dependencies: ["Torch", "Models", "Tokenizers", "ChatTemplates", "LoRA", "Datasets"]),
    .target(name: "LoRA", dependencies: ["Torch", "NN", "Models", "SafeTensors", "FileIO"]),
    .target(name: "Datasets", dependencies: ["FileIO", "JSONSupport"]),
    .target(name: "Distributed", dependencies: ["CTorch", "Torch", "NN", "Optim"]),
    .target(
      name: "Training",
      dependencies: [
        "Torch", "NN", "Optim", "Models", "Tokenizers", "Datasets", "TrainingSupport", "FileIO", "Distributed",
        "ChatTemplates", "LoRA", "JSONSupport", .product(name: "Logging", package: "swift-log"),
      ]),
    .target(name: "TrainingSupport", dependencies: ["FileIO", "JSONSupport"]),
    // What the two command-line tools share: option parsing, the console log handler, the startup check.
    .target(
      name: "CLISupport",
      dependencies: [
        "Torch", "Training", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    // `torchswift serve`: an OpenAI-compatible HTTP server over the Generation engine, the sentence embedder and
    // the text classifier, with request batching and Prometheus metrics.
    .target(
      name: "Serve",
      dependencies: [
        "Torch", "Models", "Tokenizers", "Generation", "Training", "ChatTemplates", "JSONSupport",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .executableTarget(
      name: "torchswift",
      dependencies: [
        "Torch", "NN", "Optim", "Models", "Tokenizers", "Datasets", "TrainingSupport", "Training", "Distributed",
        "FileIO", "CLISupport", "Generation", "ChatTemplates", "Serve", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    // The benchmark harness (`make bench`): runs PyTorch twins through Python, so it is not part of `torchswift`.
    .executableTarget(
      name: "torchswift-bench",
      dependencies: [
        "Torch", "NN", "Optim", "Models", "Tokenizers", "Datasets", "Training", "CLISupport", "Generation", "LoRA",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(name: "FileIOTests", dependencies: ["FileIO"]),
    .testTarget(name: "JSONSupportTests", dependencies: ["JSONSupport", "ReferenceTesting"]),
    .testTarget(name: "TorchTests", dependencies: ["Torch", "ReferenceTesting"], exclude: ["Fixtures", "KernelEmulator"]),
    .testTarget(name: "NNTests", dependencies: ["Torch", "NN", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "OptimTests", dependencies: ["Torch", "NN", "Optim", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Torch", "NN", "SafeTensors", "Tokenizers", "Datasets", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(
      name: "GenerationTests", dependencies: ["Generation", "Models", "Tokenizers", "Torch", "ReferenceTesting", "torchswift"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "LoRATests", dependencies: ["LoRA", "Generation", "Models", "NN", "Torch", "ReferenceTesting", "torchswift"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "CausalLMTrainingTests",
      dependencies: ["Training", "LoRA", "Models", "ChatTemplates", "Tokenizers", "Torch", "ReferenceTesting", "torchswift"],
      exclude: ["Fixtures"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Torch", "NN", "SafeTensors", "torchswift", "ReferenceTesting"]),
    .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Datasets", "ReferenceTesting"], exclude: ["Fixtures"]),
    .target(name: "ReferenceTesting", path: "Tests/ReferenceTesting"),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "ReferenceTesting"]),
    .testTarget(name: "TrainingSupportTests", dependencies: ["TrainingSupport", "ReferenceTesting"]),
    .testTarget(name: "TorchSwiftCLITests", dependencies: ["torchswift"]),
    .testTarget(
      name: "ServeTests", dependencies: ["Serve", "Generation", "Models", "Torch", "ReferenceTesting", "torchswift"],
      exclude: ["Fixtures"]),
    .testTarget(name: "TorchSwiftBenchTests", dependencies: ["torchswift-bench"]),
    // The README's Swift snippets compiled (ReadmeSnippets.swift) and checked against the README; its command tables
    // checked against each command's --help.
    .testTarget(
      name: "ReadmeTests",
      dependencies: [
        "Torch", "NN", "Optim", "Tokenizers", "Models", "Training", "Generation", "Distributed", "torchswift",
        "torchswift-bench", "LoRA", "ChatTemplates",
      ]),
    // A rank of the distributed tests: launched as 2 processes (by hand or by torchrun) by DistributedTests.
    .executableTarget(name: "DistributedWorker", dependencies: ["Distributed", "Torch", "NN", "Optim"],
                      path: "Tests/DistributedWorker"),
    .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Torch", "ReferenceTesting", "DistributedWorker"],
                exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v5]
)
