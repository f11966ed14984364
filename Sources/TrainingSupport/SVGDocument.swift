/// A minimal SVG writer (absolute coordinates, two-decimal numbers, escaped text).
struct SVGDocument {
  private var body: [String] = []
  let width: Double
  let height: Double

  init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  static func num(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : String(format: "%.2f", r)
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }

  private typealias N = SVGDocument

  mutating func rect(
    _ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String, opacity: Double = 1
  ) {
    body.append(
      "<rect x=\"\(N.num(x))\" y=\"\(N.num(y))\" width=\"\(N.num(w))\" height=\"\(N.num(h))\" fill=\"\(fill)\" stroke=\"\(stroke)\"\(opacity < 1 ? " fill-opacity=\"\(opacity)\"" : "")/>"
    )
  }

  mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String) {
    body.append(
      "<line x1=\"\(N.num(x1))\" y1=\"\(N.num(y1))\" x2=\"\(N.num(x2))\" y2=\"\(N.num(y2))\" stroke=\"\(stroke)\" stroke-width=\"1\"/>"
    )
  }

  mutating func legendSwatch(
    _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double, opacity: Double,
    dash: String?
  ) {
    body.append(
      "<line class=\"legend\" x1=\"\(N.num(x1))\" y1=\"\(N.num(y1))\" x2=\"\(N.num(x2))\" y2=\"\(N.num(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(N.num(width))\" stroke-opacity=\"\(opacity)\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
    )
  }

  mutating func text(
    _ x: Double, _ y: Double, _ s: String, size: Double, anchor: String, weight: String? = nil,
    fill: String = "#222222", rotate: Double? = nil
  ) {
    let transform = rotate.map { " transform=\"rotate(\(N.num($0)) \(N.num(x)) \(N.num(y)))\"" } ?? ""
    let bold = weight.map { " font-weight=\"\($0)\"" } ?? ""
    body.append(
      "<text x=\"\(N.num(x))\" y=\"\(N.num(y))\" font-size=\"\(N.num(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\"\(bold)\(transform)>\(N.escape(s))</text>"
    )
  }

  mutating func polyline(
    _ points: [(Double, Double)], stroke: String, width: Double, opacity: Double, dash: String?, series: String
  ) {
    let pts = points.map { "\(N.num($0.0)),\(N.num($0.1))" }.joined(separator: " ")
    body.append(
      "<polyline data-series=\"\(series)\" points=\"\(pts)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(N.num(width))\" stroke-opacity=\"\(opacity)\" stroke-linejoin=\"round\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
    )
  }

  mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, opacity: Double, series: String) {
    body.append(
      "<circle data-series=\"\(series)\" cx=\"\(N.num(x))\" cy=\"\(N.num(y))\" r=\"\(N.num(r))\" fill=\"\(fill)\" fill-opacity=\"\(opacity)\"/>"
    )
  }

  func finish() -> String {
    let header =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(N.num(width))\" height=\"\(N.num(height))\" viewBox=\"0 0 \(N.num(width)) \(N.num(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>\n"
    return header + body.joined(separator: "\n") + "\n</svg>\n"
  }
}
