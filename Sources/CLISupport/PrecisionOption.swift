import ArgumentParser
import Foundation
import Torch
import Training

/// `--precision` as the commands document it.
package let precisionHelp =
  "fp32, bf16, fp16 (autocast) or auto: bf16 on GPUs that support it and on CPUs with AVX512_BF16 or AMX-BF16, else fp32."

/// A command's `--precision` value resolved for `device` (`auto` included); prints the warning for bf16 on a CPU
/// without native bfloat16 to stderr, once per process however often it is asked.
package func precisionOption(_ text: String, device: Device, cpu: CPUFeatures? = CPUFeatures.current()) throws
  -> FineTuneConfig.Precision
{
  let precision: FineTuneConfig.Precision
  do {
    precision = try PrecisionChoice.resolve(text, device: device, cpu: cpu)
  } catch {
    throw ValidationError("\(error)")
  }
  if let warning = PrecisionChoice.cpuWarning(precision, device: device, cpu: cpu) { PrecisionWarning.emit(warning) }
  return precision
}

/// The CPU precision warning, printed at most once per process.
package enum PrecisionWarning {
  nonisolated(unsafe) private static var printed = false
  private static let lock = NSLock()

  package static func emit(_ text: String) {
    lock.lock()
    defer { lock.unlock() }
    guard !printed else { return }
    printed = true
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }
}
