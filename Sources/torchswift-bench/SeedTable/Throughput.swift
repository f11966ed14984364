import Foundation

/// Arithmetic precision a row's matmuls run in, for the peak-throughput table.
enum MatmulPrecision: String, Codable {
  case fp32, tf32, fp16, bf16
}

/// Training FLOPs of one step of a Transformer encoder stack, estimated analytically.
///
/// Per token and layer the matmul weights are 4·d² (Q, K, V and output projections) + 2·d·ff (feed-forward);
/// a training step costs 6 FLOPs per weight and token (2 forward, 4 backward). Attention adds, per layer and
/// sequence, 2·T²·d for Q·Kᵀ and 2·T²·d for attention·V forward, ×3 for training: 12·T²·d. A classification
/// head on the first token (BERT's pooler and classifier) adds 6·B·(d² + d·labels). Embedding lookups,
/// LayerNorm, softmax, dropout and the optimizer are left out (memory-bound, a few percent of the total).
struct TransformerFLOPs: Equatable {
  var layers: Int
  var dModel: Int
  var feedForward: Int
  /// Output classes of a pooler + classifier head on the first token; nil for a bare encoder.
  var headLabels: Int?

  /// Weights applied to every token: layers · (4·d² + 2·d·ff).
  var perTokenWeights: Double {
    Double(layers) * (4 * Double(dModel) * Double(dModel) + 2 * Double(dModel) * Double(feedForward))
  }

  func trainingFLOPs(batch: Int, seq: Int) -> Double {
    let b = Double(batch), t = Double(seq), d = Double(dModel), l = Double(layers)
    var flops = 6 * perTokenWeights * b * t  // the 6·N·tokens rule
    flops += 12 * l * t * t * d * b  // attention scores and weighted values
    if let labels = headLabels { flops += 6 * b * (d * d + d * Double(labels)) }
    return flops
  }
}

/// Dense (no sparsity) peak tensor throughput of known GPUs, by device name and precision, in TFLOP/s.
enum PeakThroughput {
  struct Entry {
    var family: String
    var fp32: Double
    var tf32: Double
    var half: Double  // fp16 and bf16 tensor cores
  }

  /// NVIDIA's published dense peaks: H100 SXM / H200 989 (bf16, fp16) · 494 (tf32) · 67 (fp32);
  /// H100 PCIe 756 · 378 · 51; H100 NVL 835 · 418 · 60; A100 312 · 156 · 19.5.
  static func entry(forDeviceName name: String) -> Entry? {
    let n = name.uppercased()
    if n.contains("H200") { return Entry(family: "H200", fp32: 67, tf32: 494, half: 989) }
    if n.contains("H100") {
      if n.contains("PCIE") { return Entry(family: "H100 PCIe", fp32: 51, tf32: 378, half: 756) }
      if n.contains("NVL") { return Entry(family: "H100 NVL", fp32: 60, tf32: 418, half: 835) }
      return Entry(family: "H100 SXM", fp32: 67, tf32: 494, half: 989)
    }
    if n.contains("A100") { return Entry(family: "A100", fp32: 19.5, tf32: 156, half: 312) }
    return nil
  }

  /// Peak TFLOP/s for `precision` on the named device, nil when the device is not in the table.
  static func tflops(deviceName: String, precision: MatmulPrecision) -> Double? {
    guard let e = entry(forDeviceName: deviceName) else { return nil }
    switch precision {
    case .fp32: return e.fp32
    case .tf32: return e.tf32
    case .fp16, .bf16: return e.half
    }
  }

  /// Model FLOPs utilisation: achieved FLOP/s over the peak, in [0, 1] for sane inputs; nil when unknown.
  static func mfu(flopsPerStep: Double, stepMs: Double, deviceName: String, precision: MatmulPrecision) -> Double? {
    guard stepMs > 0, let peak = tflops(deviceName: deviceName, precision: precision) else { return nil }
    return flopsPerStep / (stepMs / 1e3) / (peak * 1e12)
  }
}

/// Median and 90th percentile (nearest rank) of step times.
struct StepStatistics: Equatable {
  var median: Double
  var p90: Double

  init?(_ samples: [Double]) {
    guard !samples.isEmpty else { return nil }
    let s = samples.sorted()
    let n = s.count
    median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    p90 = s[min(n - 1, Int((0.9 * Double(n)).rounded(.up)) - 1)]
  }
}
