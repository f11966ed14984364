import Foundation

/// What `torchswift doctor` says about running inside a container (TorchSwift's image, or any other): which engine,
/// the GPUs the NVIDIA Container Toolkit was asked to expose (`NVIDIA_VISIBLE_DEVICES`), advice when a CUDA
/// libtorch finds no driver there, and the `/dev/shm` advice (Docker gives containers 64 MiB by default).
enum ContainerCheck {
  /// The container engine this process runs under, nil outside one: Podman writes `/run/.containerenv` and sets
  /// `container=podman`, Docker writes `/.dockerenv`; other engines set `container` (the systemd convention).
  static func engine(environment: [String: String], fileExists: (String) -> Bool) -> String? {
    if fileExists("/run/.containerenv") || environment["container"] == "podman" { return "Podman" }
    if fileExists("/.dockerenv") { return "Docker" }
    if let c = environment["container"], !c.isEmpty { return c }
    return nil
  }

  /// `NVIDIA_VISIBLE_DEVICES` as the NVIDIA Container Toolkit reads it.
  static func describeNvidiaVisibleDevices(_ value: String?) -> String {
    guard let value else { return "(not set)" }
    switch value.trimmingCharacters(in: .whitespaces).lowercased() {
    case "all": return "all (every GPU of the host, when the container runs with --gpus)"
    case "", "void", "none": return "\(value.isEmpty ? "(empty)" : value): no GPU exposed to the container"
    default: return value
    }
  }

  /// Advice when libtorch was built with CUDA but no NVIDIA driver is visible inside a container.
  static func noDriverAdvice(engine: String, cuda: String) -> String {
    "no NVIDIA driver is visible in this \(engine) container: run it with --gpus all (Docker, with the NVIDIA Container Toolkit)"
      + " or --device nvidia.com/gpu=all (Podman, CDI); the host's driver must support CUDA \(cuda)"
  }

  /// A warning when /dev/shm is under 1 GiB, too small for multi-process data loading and NCCL.
  static func sharedMemoryWarning(bytes: UInt64) -> String? {
    guard bytes < 1 << 30 else { return nil }
    return
      "/dev/shm is \(bytes / (1 << 20)) MiB: small for multi-process data loading and NCCL (Docker/Podman: run with --shm-size=8g or --ipc=host)"
  }

  /// The engine for this process.
  static var current: String? {
    engine(environment: ProcessInfo.processInfo.environment, fileExists: { FileManager.default.fileExists(atPath: $0) })
  }
}
