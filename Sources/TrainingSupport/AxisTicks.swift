import Foundation

/// "Nice" axis ranges and tick values: steps of 1, 2 or 5 × 10ⁿ near `(max - min) / (targetCount - 1)`,
/// bounds rounded outwards to multiples of the step.
public struct AxisTicks: Equatable, Sendable {
  /// Axis lower bound (a multiple of `step`, ≤ the data minimum).
  public var lower: Double
  /// Axis upper bound (a multiple of `step`, ≥ the data maximum).
  public var upper: Double
  public var step: Double
  /// Tick positions from `lower` to `upper`.
  public var values: [Double]

  /// Ticks covering `[min, max]` with about `targetCount` ticks. Degenerate ranges are widened
  /// (±1, or ±10% of the value); non-finite bounds give `0...1`.
  public init(min: Double, max: Double, targetCount: Int = 6) {
    var lo = Swift.min(min, max), hi = Swift.max(min, max)
    if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
    if hi - lo < 1e-12 * Swift.max(abs(lo), abs(hi), 1e-300) {
      let pad = lo == 0 ? 1 : abs(lo) * 0.1
      lo -= pad
      hi += pad
    }
    let step = Self.nice((hi - lo) / Double(Swift.max(targetCount - 1, 1)))
    let lower = (lo / step).rounded(.down) * step
    let upper = (hi / step).rounded(.up) * step
    var values: [Double] = []
    var k = 0.0
    while true {
      let v = lower + k * step
      if v > upper + step * 1e-9 { break }
      values.append(abs(v) < step * 1e-9 ? 0 : v)
      k += 1
    }
    self.lower = lower
    self.upper = upper
    self.step = step
    self.values = values
  }

  /// The nice number (1, 2, 5 or 10 × 10ⁿ) nearest to `x` on a roughly logarithmic scale.
  static func nice(_ x: Double) -> Double {
    let exponent = log10(x).rounded(.down)
    let fraction = x / pow(10, exponent)
    let niceFraction: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
    return niceFraction * pow(10, exponent)
  }

  /// A tick label: as many decimals as the step needs; thousands abbreviated as "k"/"M"
  /// for large integral ticks.
  public func label(_ v: Double) -> String {
    if step >= 1000, v.rounded() == v {
      if step >= 1_000_000, abs(v) >= 1_000_000 { return trim(String(format: "%.3f", v / 1_000_000)) + "M" }
      if abs(v) >= 1000 { return trim(String(format: "%.3f", v / 1000)) + "k" }
    }
    let decimals = Swift.max(0, Int(-log10(step).rounded(.down)))
    return String(format: "%.\(decimals)f", v)
  }

  private func trim(_ s: String) -> String {
    guard s.contains(".") else { return s }
    var t = s
    while t.hasSuffix("0") { t.removeLast() }
    if t.hasSuffix(".") { t.removeLast() }
    return t
  }
}
