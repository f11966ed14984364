import ArgumentParser
import Foundation
import NN
import Torch

/// `--quantize int8|int4|dynamic-int8 [--group-size G]`, shared by generate, chat, predict, eval and embed.
struct QuantizeOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Quantize the linear layers after loading: int8 (weight-only, per-channel), int4 (weight-only, group-wise) or "
        + "dynamic-int8 (int8 weights and activations, CPU; PyTorch's quantize_dynamic). Output heads stay unquantized."
    ))
  var quantize: String?
  @Option(name: .customLong("group-size"), help: "With --quantize int4: input features per scale (32, 64, 128, 256).")
  var groupSize = 128

  func scheme() throws -> QuantizationScheme? {
    guard let quantize else {
      if groupSize != 128 { throw ValidationError("--group-size needs --quantize int4") }
      return nil
    }
    guard let s = QuantizationScheme(rawValue: quantize) else {
      throw ValidationError("--quantize must be int8, int4 or dynamic-int8, got '\(quantize)'")
    }
    if s == .int4, !QuantizationScheme.int4GroupSizes.contains(groupSize) {
      throw ValidationError("--group-size must be 32, 64, 128 or 256, got \(groupSize)")
    }
    if s != .int4, groupSize != 128 { throw ValidationError("--group-size applies to --quantize int4 only") }
    return s
  }

  /// Quantizes `model` in place when --quantize is given; prints the report (sizes, layers kept) on stderr.
  @discardableResult
  func apply(to model: Module) throws -> QuantizationReport? {
    guard let s = try scheme() else { return nil }
    if model.modules().contains(where: { $0 is QuantizedLinear }) {
      throw ValidationError(
        "--quantize: the model is already quantized (its folder was written by torchswift quantize)")
    }
    let report = try NN.quantize(model, scheme: s, groupSize: groupSize)
    FileHandle.standardError.write(Data((report.description + "\n").utf8))
    return report
  }
}
