import Foundation

/// Pure formatting helpers for training progress (no terminal needed).
public enum ProgressFormat {
  /// `MM:SS`, or `H:MM:SS` from one hour; `--:--` for unknown (nil, negative or non-finite).
  public static func duration(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite, seconds >= 0 else { return "--:--" }
    let total = Int(seconds.rounded())
    let h = total / 3600, m = (total % 3600) / 60, s = total % 60
    return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%02d:%02d", m, s)
  }

  /// `[=====>    ]` with `width` cells between the brackets; full bars have no arrow head.
  public static func bar(fraction: Double, width: Int) -> String {
    let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
    let w = max(width, 1)
    let filled = Int((f * Double(w)).rounded(.down))
    if filled >= w { return "[" + String(repeating: "=", count: w) + "]" }
    let body = String(repeating: "=", count: filled) + ">" + String(repeating: " ", count: w - filled - 1)
    return "[" + body + "]"
  }

  /// Whole percent, rounded down (so 100% only when done).
  public static func percent(_ fraction: Double) -> String {
    let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
    return "\(Int((f * 100).rounded(.down)))%"
  }

  /// A loss with four decimals, scientific notation when tiny or huge, `nan`/`inf` as such.
  public static func loss(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    let a = abs(v)
    return (a != 0 && (a < 1e-3 || a >= 1e5)) ? String(format: "%.3e", v) : String(format: "%.4f", v)
  }

  /// Throughput with one decimal (`31.2`), or `-` when unknown.
  public static func rate(_ v: Double?) -> String {
    guard let v, v.isFinite, v >= 0 else { return "-" }
    return String(format: "%.1f", v)
  }
}

/// A snapshot of training progress.
public struct ProgressSnapshot: Equatable, Sendable {
  /// 1-based epoch.
  public var epoch: Int
  public var epochs: Int
  /// Steps done (1-based step just finished) and total steps (of the epoch or the run).
  public var step: Int
  public var totalSteps: Int
  public var loss: Double?
  /// Samples per second, if known.
  public var samplesPerSecond: Double?
  /// Estimated seconds left, if known.
  public var eta: Double?

  public init(
    epoch: Int, epochs: Int, step: Int, totalSteps: Int, loss: Double? = nil,
    samplesPerSecond: Double? = nil, eta: Double? = nil
  ) {
    self.epoch = epoch
    self.epochs = epochs
    self.step = step
    self.totalSteps = totalSteps
    self.loss = loss
    self.samplesPerSecond = samplesPerSecond
    self.eta = eta
  }

  public var fraction: Double { totalSteps > 0 ? Double(step) / Double(totalSteps) : 0 }

  /// `epoch 1/3 | step 120/500 [=====>    ] 24% | loss 0.5123 | 31.2 samples/s | ETA 02:13`.
  public func barLine(barWidth: Int = 20) -> String {
    var parts = [
      "epoch \(epoch)/\(epochs)",
      "step \(step)/\(totalSteps) \(ProgressFormat.bar(fraction: fraction, width: barWidth)) \(ProgressFormat.percent(fraction))"
    ]
    if let loss { parts.append("loss \(ProgressFormat.loss(loss))") }
    parts.append("\(ProgressFormat.rate(samplesPerSecond)) samples/s")
    parts.append("ETA \(ProgressFormat.duration(eta))")
    return parts.joined(separator: " | ")
  }

  /// The same information without the bar, for logs: `epoch 1/3 step 120/500 (24%) loss … ETA 02:13`.
  public func logLine() -> String {
    var parts = ["epoch \(epoch)/\(epochs)", "step \(step)/\(totalSteps) (\(ProgressFormat.percent(fraction)))"]
    if let loss { parts.append("loss \(ProgressFormat.loss(loss))") }
    parts.append("\(ProgressFormat.rate(samplesPerSecond)) samples/s")
    parts.append("ETA \(ProgressFormat.duration(eta))")
    return parts.joined(separator: " | ")
  }
}
