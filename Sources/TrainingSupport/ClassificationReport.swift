import Foundation

extension ClassificationMetrics {
  /// A text table laid out exactly like `sklearn.metrics.classification_report(y_true, y_pred,
  /// labels=range(n), target_names=names, digits=digits, zero_division=0)`:
  ///
  /// ```
  ///               precision    recall  f1-score   support
  ///
  ///     negative       0.80      0.67      0.73         6
  ///     ...
  ///
  ///     accuracy                           0.70        10
  ///    macro avg       0.71      0.70      0.69        10
  /// weighted avg       0.74      0.70      0.71        10
  /// ```
  public func report(digits: Int = 2) -> String {
    let headers = ["precision", "recall", "f1-score", "support"]
    let lastHeading = "weighted avg"
    let width = max(perClass.map { $0.label.unicodeScalars.count }.max() ?? 0, lastHeading.count, digits)
    func right(_ s: String, _ w: Int) -> String {
      String(repeating: " ", count: max(0, w - s.unicodeScalars.count)) + s
    }
    func number(_ v: Double) -> String { right(String(format: "%.\(digits)f", v), 9) }
    func row(_ name: String, _ p: Double, _ r: Double, _ f: Double, _ support: Int) -> String {
      right(name, width) + " " + " " + number(p) + " " + number(r) + " " + number(f) + " " + right(String(support), 9)
        + "\n"
    }
    var out = right("", width) + " " + headers.map { " " + right($0, 9) }.joined() + "\n\n"
    for c in perClass { out += row(c.label, c.precision, c.recall, c.f1, c.support) }
    out += "\n"
    out +=
      right("accuracy", width) + " " + " " + right("", 9) + " " + right("", 9) + " " + number(accuracy) + " "
      + right(String(count), 9) + "\n"
    out += row("macro avg", macroPrecision, macroRecall, macroF1, count)
    out += row(lastHeading, weightedPrecision, weightedRecall, weightedF1, count)
    return out
  }
}
