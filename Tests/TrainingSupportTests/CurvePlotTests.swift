import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import ReferenceTesting
import XCTest
@testable import TrainingSupport

/// Collects elements of a parsed SVG.
private final class SVGCollector: NSObject, XMLParserDelegate {
  var elements: [(name: String, attributes: [String: String])] = []
  var texts: [String] = []
  private var inText = false
  private var current = ""
  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    elements.append((name, attributes))
    if name == "text" { inText = true; current = "" }
  }
  func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }
  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if name == "text" { texts.append(current); inText = false }
  }
}

final class CurvePlotTests: XCTestCase {
  private func parse(_ svg: String) throws -> SVGCollector {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = SVGCollector()
    parser.delegate = collector
    XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
    return collector
  }

  private func elements(_ c: SVGCollector, _ name: String, series: CurvePlot.SeriesID) -> [[String: String]] {
    c.elements.filter { $0.name == name && $0.attributes["data-series"] == series.rawValue }.map(\.attributes)
  }

  private func exampleCurves() -> TrainingCurves {
    var train: [(step: Double, value: Double)] = []
    var rng = SplitMix(state: 5)
    for s in 1...600 {
      let noise = Double(rng.next() % 1000) / 1000 - 0.5
      train.append((Double(s), 1.1 * exp(-Double(s) / 150) + 0.25 + 0.15 * noise))
    }
    train[300].value = .nan  // breaks the raw line in two
    let evalSteps = stride(from: 100, through: 600, by: 100).map(Double.init)
    return TrainingCurves(
      trainLoss: train,
      evalLoss: evalSteps.map { ($0, 0.35 + 0.5 * exp(-$0 / 200)) },
      evalAccuracy: evalSteps.map { ($0, 0.55 + 0.3 * (1 - exp(-$0 / 200))) },
      evalMacroF1: evalSteps.map { ($0, 0.45 + 0.33 * (1 - exp(-$0 / 250))) })
  }

  func testSVGIsWellFormedWithExpectedPolylines() throws {
    let svg = CurvePlot.svg(exampleCurves(), title: "Fine-tuning <tweets> & more")
    let c = try parse(svg)
    XCTAssertEqual(c.elements.first?.name, "svg")
    XCTAssertEqual(
      c.elements.first?.attributes["xmlns"] ?? c.elements.first?.attributes["xmlns:svg"]
        ?? "http://www.w3.org/2000/svg",
      "http://www.w3.org/2000/svg")
    XCTAssertEqual(elements(c, "polyline", series: .trainLossRaw).count, 2, "NaN splits the raw loss")
    XCTAssertEqual(elements(c, "polyline", series: .trainLossSmoothed).count, 2)
    let evalLoss = elements(c, "polyline", series: .evalLoss)
    XCTAssertEqual(evalLoss.count, 1)
    XCTAssertEqual(evalLoss.first?["points"]?.split(separator: " ").count, 6)
    XCTAssertEqual(elements(c, "polyline", series: .evalAccuracy).count, 1)
    XCTAssertEqual(elements(c, "polyline", series: .evalMacroF1).count, 1)
    let raw = elements(c, "polyline", series: .trainLossRaw).map { $0["points"]?.split(separator: " ").count ?? 0 }
    XCTAssertEqual(raw, [300, 299])
    // Every coordinate lies within the canvas.
    for e in c.elements where e.name == "polyline" {
      for pair in (e.attributes["points"] ?? "").split(separator: " ") {
        let xy = pair.split(separator: ",").compactMap { Double($0) }
        XCTAssertEqual(xy.count, 2)
        XCTAssertTrue((0...900).contains(xy[0]) && (0...640).contains(xy[1]), "\(pair)")
      }
    }
    XCTAssertTrue(c.texts.contains("Fine-tuning <tweets> & more"))
    for label in ["train loss", "eval loss", "eval accuracy", "eval macro-F1", "Loss", "Evaluation", "step"] {
      XCTAssertTrue(c.texts.contains(label), "missing text \(label)")
    }
    XCTAssertTrue(c.texts.contains("600"), "x ticks reach the last step: \(c.texts)")

    // Keep an example for people to look at (.build is ignored by git).
    let out = ReferenceTools.packageRoot.appendingPathComponent(".build/curve-plot-example.svg")
    try? Data(svg.utf8).write(to: out)
  }

  func testEmptySinglePointAndNaNOnly() throws {
    let empty = try parse(CurvePlot.svg(TrainingCurves()))
    XCTAssertEqual(empty.elements.filter { $0.name == "polyline" }.count, 0)
    XCTAssertEqual(empty.texts.filter { $0 == "no data" }.count, 2)

    let single = try parse(CurvePlot.svg(TrainingCurves(trainLoss: [(10, 0.7)], evalAccuracy: [(10, 0.5)])))
    XCTAssertEqual(elements(single, "circle", series: .trainLossRaw).count, 1)
    XCTAssertEqual(elements(single, "circle", series: .trainLossSmoothed).count, 1)
    XCTAssertEqual(elements(single, "circle", series: .evalAccuracy).count, 1)
    XCTAssertEqual(single.elements.filter { $0.name == "polyline" }.count, 0)

    let nanOnly = try parse(CurvePlot.svg(TrainingCurves(trainLoss: [(1, .nan), (2, .infinity)])))
    XCTAssertEqual(nanOnly.elements.filter { $0.name == "polyline" || $0.name == "circle" }.count, 0)
    XCTAssertTrue(nanOnly.texts.contains("no data"))
  }

  func testTensorBoardSmoothing() {
    // TensorBoard: last = last·w + (1-w)·v; smoothed = last / (1 - w^n).
    let s = CurvePlot.smoothed([1, 2, .nan, 3], weight: 0.6)
    XCTAssertEqual(s[0], 1, accuracy: 1e-12)
    XCTAssertEqual(s[1], (0.4 * 0.6 + 0.8) / (1 - 0.36), accuracy: 1e-12)
    XCTAssertTrue(s[2].isNaN)
    XCTAssertEqual(s[3], ((0.4 * 0.6 + 0.8) * 0.6 + 1.2) / (1 - 0.216), accuracy: 1e-12)
    XCTAssertEqual(CurvePlot.smoothed([5, 7], weight: 0), [5, 7])
    XCTAssertEqual(CurvePlot.smoothed([4, 4, 4], weight: 0.9).map { ($0 * 1e9).rounded() / 1e9 }, [4, 4, 4])
  }

  func testNiceTicks() {
    let a = AxisTicks(min: 0, max: 600)
    XCTAssertEqual(a.values, [0, 100, 200, 300, 400, 500, 600])
    let b = AxisTicks(min: 0.213, max: 1.37, targetCount: 5)
    XCTAssertEqual(b.step, 0.2)
    XCTAssertEqual(b.lower, 0.2, accuracy: 1e-12)
    XCTAssertEqual(b.upper, 1.4, accuracy: 1e-12)
    XCTAssertEqual(b.values.map(b.label), ["0.2", "0.4", "0.6", "0.8", "1.0", "1.2", "1.4"])
    let c = AxisTicks(min: 3, max: 3)
    XCTAssertLessThan(c.lower, 3)
    XCTAssertGreaterThan(c.upper, 3)
    let d = AxisTicks(min: 0, max: 25_000)
    XCTAssertEqual(d.values.map(d.label), ["0", "5k", "10k", "15k", "20k", "25k"])
    let e = AxisTicks(min: .nan, max: .infinity)
    XCTAssertEqual(e.lower, 0)
    XCTAssertEqual(e.upper, 1)
    let f = AxisTicks(min: -0.004, max: 0.0013)
    XCTAssertTrue(f.values.allSatisfy { $0 >= f.lower && $0 <= f.upper })
    XCTAssertEqual(f.label(0.001), "0.001")
  }

  func testCurvesFromMetricsLog() {
    let entries = [
      MetricsLogEntry(step: 1, wallTime: 0, values: ["train/loss": 1.0]),
      MetricsLogEntry(
        step: 2, wallTime: 0, values: ["train/loss": 0.8, "eval/loss": 0.9, "eval/accuracy": 0.5, "eval/macro_f1": 0.4])
    ]
    let curves = TrainingCurves(entries: entries)
    XCTAssertEqual(curves.trainLoss.map(\.value), [1.0, 0.8])
    XCTAssertEqual(curves.evalLoss.map(\.step), [2])
    XCTAssertEqual(curves.evalMacroF1.map(\.value), [0.4])
  }
}
