import ArgumentParser
import Torch

/// A command's `--device` value: parsed and checked to be usable on this machine before any work starts,
/// with the flag named in the error ("--device cuda: cuda:0 is not available: no NVIDIA driver ...").
package func deviceOption(_ text: String) throws -> Device {
  do {
    let device = try Device(parsing: text)
    try device.checkAvailable()
    return device
  } catch {
    throw ValidationError("--device \(text): \(error)")
  }
}
