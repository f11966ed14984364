import Foundation
import ReferenceTesting
import XCTest
import TrainingSupport

/// Metrics compared with scikit-learn on random data.
final class ClassificationMetricsTests: XCTestCase {
  private struct Case: Encodable {
    var y_true: [Int]
    var y_pred: [Int]
    var num_classes: Int
    var names: [String]
    var digits: Int
  }

  private func randomCases() -> [Case] {
    var rng = SplitMix(state: 2024)
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    var cases: [Case] = []
    for i in 0..<60 {
      let k = 2 + below(9)  // 2...10 classes
      let n = [0, 1, 2, 5, 17, 100, 1000][i % 7]
      // Classes ≥ k/2 are rarely or never predicted; the last class never occurs at all in
      // some cases; predictions are right ~60% of the time.
      let unusedTrue = i % 3 == 0 ? k - 1 : k
      var t: [Int] = [], p: [Int] = []
      for _ in 0..<n {
        let label = below(max(unusedTrue, 1))
        t.append(label)
        let guess = below(10) < 6 ? label : below(max(k / 2, 1))
        p.append(guess)
      }
      let names = i % 4 == 0 ? (0..<k).map { "class \($0) ✓" } : (0..<k).map { "c\($0)" }
      cases.append(Case(y_true: t, y_pred: p, num_classes: k, names: names, digits: [2, 4, 3][i % 3]))
    }
    // Everything predicted as one class; a single class; perfect predictions.
    cases.append(
      Case(y_true: [0, 1, 2, 2, 1], y_pred: [1, 1, 1, 1, 1], num_classes: 4, names: ["a", "b", "c", "d"], digits: 2))
    cases.append(Case(y_true: [0, 0, 0], y_pred: [0, 0, 0], num_classes: 1, names: ["only"], digits: 2))
    cases.append(
      Case(y_true: [0, 1, 2], y_pred: [0, 1, 2], num_classes: 3, names: ["negative", "neutral", "positive"], digits: 2))
    return cases.filter { !$0.y_true.isEmpty }
  }

  func testMatchesScikitLearn() throws {
    let cases = randomCases()
    let reference = try XCTUnwrap(
      try ReferenceTools.json(script: "sklearn_reference.py", [], input: try JSONEncoder().encode(cases))
        as? [[String: Any]])
    XCTAssertEqual(reference.count, cases.count)
    let tolerance = 1e-12
    var reportsCompared = 0
    for (c, ref) in zip(cases, reference) {
      let m = try ClassificationMetrics(
        predictions: c.y_pred, labels: c.y_true, numClasses: c.num_classes, labelNames: c.names)
      let what = "case n=\(c.y_true.count) k=\(c.num_classes)"
      XCTAssertEqual(m.accuracy, ref["accuracy"] as? Double ?? -1, accuracy: tolerance, what)
      XCTAssertEqual(m.confusionMatrix, ref["confusion"] as? [[Int]], what)
      XCTAssertEqual(m.perClass.map(\.support), ref["support"] as? [Int], what)
      for (key, path) in [("precision", \ClassMetrics.precision), ("recall", \.recall), ("f1", \.f1)] {
        let expected = ref[key] as? [Double] ?? []
        XCTAssertEqual(expected.count, c.num_classes, what)
        for (a, e) in zip(m.perClass.map { $0[keyPath: path] }, expected) {
          XCTAssertEqual(a, e, accuracy: tolerance, "\(key) \(what)")
        }
      }
      let macro = ref["macro"] as? [Double] ?? []
      let weighted = ref["weighted"] as? [Double] ?? []
      XCTAssertEqual([m.macroPrecision, m.macroRecall, m.macroF1].count, macro.count)
      for (a, e) in zip([m.macroPrecision, m.macroRecall, m.macroF1], macro) {
        XCTAssertEqual(a, e, accuracy: tolerance, "macro \(what)")
      }
      for (a, e) in zip([m.weightedPrecision, m.weightedRecall, m.weightedF1], weighted) {
        XCTAssertEqual(a, e, accuracy: tolerance, "weighted \(what)")
      }
      // sklearn prints supports as floats ("1.0") when no prediction at all is correct
      // (its tp_sum == 0 code path builds float counts); the layout is otherwise the same.
      if m.accuracy > 0 {
        XCTAssertEqual(m.report(digits: c.digits), ref["report"] as? String, what)
        reportsCompared += 1
      }
    }
    XCTAssertGreaterThan(reportsCompared, 40)
  }

  func testNeverPredictedClassesAndJSON() throws {
    let m = try ClassificationMetrics(
      predictions: [0, 0, 0, 0], labels: [0, 1, 1, 2], numClasses: 4,
      labelNames: ["a", "b", "c", "d"])
    XCTAssertEqual(m.accuracy, 0.25)
    XCTAssertEqual(m.perClass.map(\.precision), [0.25, 0, 0, 0])
    XCTAssertEqual(m.perClass.map(\.recall), [1, 0, 0, 0])
    XCTAssertEqual(m.perClass[0].f1, 0.4, accuracy: 1e-15)
    XCTAssertEqual(m.macroF1, 0.1, accuracy: 1e-15)
    XCTAssertEqual(m.confusionMatrix, [[1, 0, 0, 0], [2, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    let decoded = try JSONDecoder().decode(ClassificationMetrics.self, from: try m.jsonData())
    XCTAssertEqual(decoded, m)
    let json = String(decoding: try m.jsonData(), as: UTF8.self)
    XCTAssertTrue(json.contains("\"macroF1\""), json)
  }

  func testInvalidInputs() {
    XCTAssertThrowsError(try ClassificationMetrics(predictions: [0], labels: [0, 1], numClasses: 2)) {
      XCTAssertEqual($0 as? MetricsError, .lengthMismatch(predictions: 1, labels: 2))
    }
    XCTAssertThrowsError(try ClassificationMetrics(predictions: [3], labels: [0], numClasses: 2)) {
      XCTAssertEqual("\($0)", "class id 3 outside 0..<2")
    }
    XCTAssertThrowsError(try ClassificationMetrics(predictions: [0], labels: [0], numClasses: 2, labelNames: ["x"]))
    XCTAssertThrowsError(try ClassificationMetrics(predictions: [], labels: [], numClasses: 0))
    XCTAssertEqual(try ClassificationMetrics(predictions: [], labels: [], numClasses: 2).accuracy, 0)
  }
}
