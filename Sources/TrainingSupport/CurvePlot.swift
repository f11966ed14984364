import FileIO
import Foundation

/// A named series of (step, value) points.
public struct CurveSeries: Sendable {
  public var name: String
  public var points: [(step: Double, value: Double)]

  public init(name: String, points: [(step: Double, value: Double)]) {
    self.name = name
    self.points = points
  }
}

/// The curves of one training run.
public struct TrainingCurves: Sendable {
  public var trainLoss: [(step: Double, value: Double)]
  public var evalLoss: [(step: Double, value: Double)]
  public var evalAccuracy: [(step: Double, value: Double)]
  public var evalMacroF1: [(step: Double, value: Double)]

  public init(
    trainLoss: [(step: Double, value: Double)] = [], evalLoss: [(step: Double, value: Double)] = [],
    evalAccuracy: [(step: Double, value: Double)] = [], evalMacroF1: [(step: Double, value: Double)] = []
  ) {
    self.trainLoss = trainLoss
    self.evalLoss = evalLoss
    self.evalAccuracy = evalAccuracy
    self.evalMacroF1 = evalMacroF1
  }

  /// Curves from a metrics log, by tag name.
  public init(
    entries: [MetricsLogEntry], trainLossTag: String = "train/loss", evalLossTag: String = "eval/loss",
    accuracyTag: String = "eval/accuracy", macroF1Tag: String = "eval/macro_f1"
  ) {
    func series(_ tag: String) -> [(step: Double, value: Double)] {
      entries.compactMap { e in e.values[tag].map { (Double(e.step), $0) } }
    }
    self.init(
      trainLoss: series(trainLossTag), evalLoss: series(evalLossTag),
      evalAccuracy: series(accuracyTag), evalMacroF1: series(macroF1Tag))
  }
}

/// Renders training curves as a standalone SVG document: a loss panel (raw training loss,
/// its TensorBoard-style smoothed curve, eval loss) above an evaluation panel (accuracy,
/// macro-F1), sharing the step axis.
///
/// Non-finite values break a line; isolated points are drawn as dots; empty panels say so.
/// Every line is a `<polyline>` and every dot a `<circle>` with `data-series="<series id>"`.
public enum CurvePlot {
  /// Series identifiers used in `data-series` attributes.
  public enum SeriesID: String, CaseIterable, Sendable {
    case trainLossRaw = "train-loss-raw"
    case trainLossSmoothed = "train-loss-smoothed"
    case evalLoss = "eval-loss"
    case evalAccuracy = "eval-accuracy"
    case evalMacroF1 = "eval-macro-f1"
  }

  /// TensorBoard's scalar smoothing: a debiased exponential moving average with weight
  /// `weight` (0 = none); non-finite values pass through without updating the average.
  public static func smoothed(_ values: [Double], weight: Double = 0.6) -> [Double] {
    var last = 0.0
    var count = 0
    return values.map { v in
      guard v.isFinite else { return v }
      last = last * weight + (1 - weight) * v
      count += 1
      let debias = weight == 1 ? 1 : 1 - pow(weight, Double(count))
      return last / debias
    }
  }

  private struct Style {
    var id: SeriesID
    var label: String
    var color: String
    var width: Double
    var opacity: Double
    var dash: String?
  }

  /// The SVG document.
  public static func svg(
    _ curves: TrainingCurves, title: String = "Training curves", width: Int = 900,
    height: Int = 640, smoothing: Double = 0.6
  ) -> String {
    let rawLoss = curves.trainLoss
    let smoothLoss = zip(rawLoss, smoothed(rawLoss.map(\.value), weight: smoothing)).map { ($0.0.step, $0.1) }
    let lossSeries: [(Style, [(step: Double, value: Double)])] = [
      (Style(id: .trainLossRaw, label: "train loss", color: "#1f77b4", width: 1, opacity: 0.3, dash: nil), rawLoss),
      (
        Style(
          id: .trainLossSmoothed, label: "train loss (smoothed \(trim(smoothing)))", color: "#1f77b4", width: 2,
          opacity: 1, dash: nil),
        smoothLoss.map { (step: $0.0, value: $0.1) }
      ),
      (Style(id: .evalLoss, label: "eval loss", color: "#ff7f0e", width: 2, opacity: 1, dash: "6 3"), curves.evalLoss)
    ]
    let evalSeries: [(Style, [(step: Double, value: Double)])] = [
      (
        Style(id: .evalAccuracy, label: "eval accuracy", color: "#2ca02c", width: 2, opacity: 1, dash: nil),
        curves.evalAccuracy
      ),
      (
        Style(id: .evalMacroF1, label: "eval macro-F1", color: "#d62728", width: 2, opacity: 1, dash: "6 3"),
        curves.evalMacroF1
      )
    ]
    let allSteps = (lossSeries + evalSeries).flatMap { $0.1.map(\.step) }.filter(\.isFinite)
    let xTicks = AxisTicks(min: allSteps.min() ?? 0, max: allSteps.max() ?? 1)

    let W = Double(width), H = Double(height)
    let left = 72.0, right = 24.0, top = 56.0, bottom = 48.0, gap = 56.0
    let panelHeight = (H - top - bottom - gap) / 2
    var svg = SVGDocument(width: W, height: H)
    svg.text(W / 2, 30, title, size: 18, anchor: "middle", weight: "bold")
    drawPanel(
      &svg, frame: (left, top, W - left - right, panelHeight), title: "Loss", yLabel: "loss",
      series: lossSeries, xTicks: xTicks, fixedUnitRange: false)
    drawPanel(
      &svg, frame: (left, top + panelHeight + gap, W - left - right, panelHeight), title: "Evaluation",
      yLabel: "score", series: evalSeries, xTicks: xTicks, fixedUnitRange: true)
    return svg.finish()
  }

  /// Writes `svg(...)` to `url`.
  public static func write(_ curves: TrainingCurves, to url: URL, title: String = "Training curves") throws {
    try AtomicFile.write(svg(curves, title: title), to: url.path)
  }

  private static func drawPanel(
    _ svg: inout SVGDocument, frame: (x: Double, y: Double, w: Double, h: Double), title: String,
    yLabel: String, series: [(Style, [(step: Double, value: Double)])], xTicks: AxisTicks,
    fixedUnitRange: Bool
  ) {
    let values = series.flatMap { $0.1.map(\.value) }.filter(\.isFinite)
    var yMin = values.min() ?? 0, yMax = values.max() ?? 1
    if fixedUnitRange { yMin = Swift.min(yMin, 0); yMax = Swift.max(yMax, 1) }
    let yTicks = AxisTicks(min: yMin, max: yMax, targetCount: 5)
    func px(_ step: Double) -> Double { frame.x + (step - xTicks.lower) / (xTicks.upper - xTicks.lower) * frame.w }
    func py(_ v: Double) -> Double { frame.y + frame.h - (v - yTicks.lower) / (yTicks.upper - yTicks.lower) * frame.h }

    svg.rect(frame.x, frame.y, frame.w, frame.h, fill: "#ffffff", stroke: "#888888")
    svg.text(frame.x, frame.y - 8, title, size: 14, anchor: "start", weight: "bold")
    for t in yTicks.values {
      let y = py(t)
      svg.line(frame.x, y, frame.x + frame.w, y, stroke: "#e5e5e5")
      svg.line(frame.x - 5, y, frame.x, y, stroke: "#444444")
      svg.text(frame.x - 8, y + 4, yTicks.label(t), size: 11, anchor: "end")
    }
    for t in xTicks.values {
      let x = px(t)
      svg.line(x, frame.y, x, frame.y + frame.h, stroke: "#f0f0f0")
      svg.line(x, frame.y + frame.h, x, frame.y + frame.h + 5, stroke: "#444444")
      svg.text(x, frame.y + frame.h + 18, xTicks.label(t), size: 11, anchor: "middle")
    }
    svg.text(frame.x + frame.w / 2, frame.y + frame.h + 36, "step", size: 12, anchor: "middle")
    svg.text(frame.x - 52, frame.y + frame.h / 2, yLabel, size: 12, anchor: "middle", rotate: -90)

    if values.isEmpty {
      svg.text(frame.x + frame.w / 2, frame.y + frame.h / 2, "no data", size: 14, anchor: "middle", fill: "#999999")
    }
    for (style, points) in series {
      for segment in finiteSegments(points) {
        let coords = segment.map { (px($0.step), py($0.value)) }
        if coords.count == 1, let p = coords.first {
          svg.circle(p.0, p.1, r: 3, fill: style.color, opacity: style.opacity, series: style.id.rawValue)
        } else {
          svg.polyline(
            coords, stroke: style.color, width: style.width, opacity: style.opacity,
            dash: style.dash, series: style.id.rawValue)
        }
      }
    }
    // Legend inside the panel, listing only series with data, in the right-hand corner
    // (top or bottom) that hides fewer points.
    let shown = series.filter { !$0.1.isEmpty }
    guard !shown.isEmpty else { return }
    let legendWidth = 8.0 + 30 + 6.5 * Double(shown.map { $0.0.label.count }.max() ?? 0) + 8
    let legendHeight = 8 + 16 * Double(shown.count)
    let lx = frame.x + frame.w - legendWidth - 8
    let screenPoints = series.flatMap { $0.1 }.filter { $0.step.isFinite && $0.value.isFinite }.map {
      (px($0.step), py($0.value))
    }
    func hidden(_ y: Double) -> Int {
      screenPoints.filter { $0.0 >= lx && $0.0 <= lx + legendWidth && $0.1 >= y && $0.1 <= y + legendHeight }.count
    }
    let topY = frame.y + 8, bottomY = frame.y + frame.h - legendHeight - 8
    let ly = hidden(bottomY) < hidden(topY) ? bottomY : topY
    svg.rect(lx, ly, legendWidth, legendHeight, fill: "#ffffff", stroke: "#cccccc", opacity: 0.9)
    for (i, (style, _)) in shown.enumerated() {
      let y = ly + 14 + 16 * Double(i)
      svg.legendSwatch(
        lx + 8, y - 4, lx + 34, y - 4, stroke: style.color, width: style.width,
        opacity: Swift.max(style.opacity, 0.5), dash: style.dash)
      svg.text(lx + 40, y, style.label, size: 11, anchor: "start")
    }
  }

  /// Runs of consecutive points with finite step and value.
  static func finiteSegments(_ points: [(step: Double, value: Double)]) -> [[(step: Double, value: Double)]] {
    var segments: [[(step: Double, value: Double)]] = []
    var current: [(step: Double, value: Double)] = []
    for p in points {
      if p.step.isFinite && p.value.isFinite {
        current.append(p)
      } else if !current.isEmpty {
        segments.append(current)
        current = []
      }
    }
    if !current.isEmpty { segments.append(current) }
    return segments
  }

  private static func trim(_ v: Double) -> String {
    v == v.rounded() ? String(Int(v)) : String(v)
  }
}
