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
    .library(name: "Models", targets: ["Models"]),
    .library(name: "Datasets", targets: ["Datasets"]),
    .library(name: "TrainingSupport", targets: ["TrainingSupport"]),
    .library(name: "Training", targets: ["Training"]),
    .executable(name: "torchswift", targets: ["torchswift"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    .systemLibrary(name: "CTorch", pkgConfig: "ctorch"),
    .target(name: "SafeTensors"),
    .executableTarget(name: "SafeTensorsFuzz", dependencies: ["SafeTensors"]),
    .target(name: "Torch", dependencies: ["CTorch", "SafeTensors"]),
    .target(name: "NN", dependencies: ["Torch"]),
    .target(name: "Optim", dependencies: ["Torch", "NN"]),
    .target(name: "Tokenizers"),
    .executableTarget(name: "TokenizersFuzz", dependencies: ["Tokenizers"]),
    .target(name: "Models", dependencies: ["Torch", "NN", "SafeTensors", "Tokenizers"]),
    .target(name: "Datasets"),
    .target(name: "Training", dependencies: ["Torch", "NN", "Optim", "Models", "Tokenizers", "Datasets", "TrainingSupport"]),
    .target(name: "TrainingSupport"),
    .executableTarget(
      name: "torchswift",
      dependencies: [
        "Torch", "NN", "Optim", "Models", "Tokenizers", "Datasets", "TrainingSupport", "Training",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .testTarget(name: "TorchTests", dependencies: ["Torch"], exclude: ["Fixtures", "KernelEmulator"]),
    .testTarget(name: "NNTests", dependencies: ["Torch", "NN"], exclude: ["Fixtures"]),
    .testTarget(name: "OptimTests", dependencies: ["Torch", "NN", "Optim", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Torch", "NN", "SafeTensors", "Tokenizers", "Datasets", "ReferenceTesting"], exclude: ["Fixtures"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Torch", "SafeTensors", "torchswift", "ReferenceTesting"]),
    .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"], exclude: ["Fixtures"]),
    .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Datasets", "ReferenceTesting"], exclude: ["Fixtures"]),
    .target(name: "ReferenceTesting", path: "Tests/ReferenceTesting"),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "ReferenceTesting"]),
    .testTarget(name: "TrainingSupportTests", dependencies: ["TrainingSupport", "ReferenceTesting"]),
    .testTarget(name: "TorchSwiftCLITests", dependencies: ["torchswift"]),
  ],
  swiftLanguageModes: [.v5]
)
