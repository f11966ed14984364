import Foundation
import CTorch

/// Where a tensor lives: `.cpu` or `.cuda(index)`. `.cuda(n)` counts the GPUs visible to the process,
/// so it honours `CUDA_VISIBLE_DEVICES` exactly as PyTorch does.
public enum Device: Equatable, Hashable, CustomStringConvertible, Sendable {
  case cpu
  case cuda(Int)

  /// The first GPU.
  public static var cuda: Device { .cuda(0) }

  /// libtorch's `c10::DeviceType` code.
  public var typeCode: Int32 {
    switch self {
    case .cpu: return 0
    case .cuda: return 1
    }
  }

  /// The device index passed to libtorch (-1 for the CPU).
  public var indexCode: Int32 {
    switch self {
    case .cpu: return -1
    case .cuda(let i): return Int32(i)
    }
  }

  init(typeCode: Int32, index: Int32) throws {
    switch typeCode {
    case 0: self = .cpu
    case 1: self = .cuda(Int(max(index, 0)))
    default: throw TorchError("tensor is on an unsupported device type (code \(typeCode))")
    }
  }

  /// Parses "cpu", "cuda", "cuda:1".
  public init(parsing text: String) throws {
    let t = text.lowercased()
    if t == "cpu" { self = .cpu; return }
    if t == "cuda" || t == "gpu" { self = .cuda(0); return }
    if t.hasPrefix("cuda:"), let i = Int(t.dropFirst(5)), i >= 0 { self = .cuda(i); return }
    throw TorchError("invalid device '\(text)': expected cpu, cuda or cuda:N")
  }

  public var description: String {
    switch self {
    case .cpu: return "cpu"
    case .cuda(let i): return "cuda:\(i)"
    }
  }

  public var isCUDA: Bool { if case .cuda = self { return true } else { return false } }

  /// Throws a clear error when this device cannot be used here: no NVIDIA driver or GPU visible, or an index
  /// past the visible devices (CUDA_VISIBLE_DEVICES renumbers them from 0).
  public func checkAvailable() throws {
    guard case .cuda(let i) = self else { return }
    guard CUDA.isAvailable else {
      throw TorchError("\(self) is not available: no NVIDIA driver or GPU is visible to this process")
    }
    let count = CUDA.deviceCount
    guard i < count else {
      let visible =
        ProcessInfo.processInfo.environment["CUDA_VISIBLE_DEVICES"].map { " (CUDA_VISIBLE_DEVICES=\($0))" } ?? ""
      throw TorchError("\(self) is not available: \(count) CUDA device(s) visible\(visible), numbered from 0")
    }
  }
}
