// swift-tools-version:6.0
// A package of your own that depends on TorchSwift (`make check-consumer` builds and runs a copy of it).
// The dependency is named, so the product references read "TorchSwift" whatever the checkout's folder is called;
// from a Git URL: .package(url: "https://…/torchswift.git", branch: "main") and package: "torchswift".
import PackageDescription

let package = Package(
  name: "consumer",
  dependencies: [
    .package(name: "TorchSwift", path: "../torchswift")
  ],
  targets: [
    .executableTarget(
      name: "consumer",
      dependencies: [.product(name: "Torch", package: "TorchSwift"), .product(name: "NN", package: "TorchSwift")])
  ]
)
