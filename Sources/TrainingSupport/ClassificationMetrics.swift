import Foundation

/// Per-class precision, recall, F1 and support.
public struct ClassMetrics: Codable, Equatable, Sendable {
  public var label: String
  public var precision: Double
  public var recall: Double
  public var f1: Double
  /// Number of true examples of this class.
  public var support: Int
}

/// Invalid metric inputs.
public enum MetricsError: Error, Equatable, CustomStringConvertible {
  case lengthMismatch(predictions: Int, labels: Int)
  case classOutOfRange(value: Int, numClasses: Int)
  case labelNamesMismatch(names: Int, numClasses: Int)
  case noClasses

  public var description: String {
    switch self {
    case .lengthMismatch(let p, let l): return "predictions (\(p)) and labels (\(l)) differ in length"
    case .classOutOfRange(let v, let n): return "class id \(v) outside 0..<\(n)"
    case .labelNamesMismatch(let names, let n): return "\(names) label names given for \(n) classes"
    case .noClasses: return "number of classes must be positive"
    }
  }
}

/// Classification metrics with scikit-learn's conventions (`zero_division=0`): every class in
/// `0..<numClasses` is reported, even if never predicted or absent; macro averages are plain
/// means over all classes and weighted averages weight by support, as
/// `precision_recall_fscore_support(y_true, y_pred, labels=range(numClasses), zero_division=0)`.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
  public var accuracy: Double
  public var macroPrecision: Double
  public var macroRecall: Double
  public var macroF1: Double
  public var weightedPrecision: Double
  public var weightedRecall: Double
  public var weightedF1: Double
  public var perClass: [ClassMetrics]
  /// `confusionMatrix[true][predicted]`, as `sklearn.metrics.confusion_matrix`.
  public var confusionMatrix: [[Int]]
  /// Number of examples.
  public var count: Int

  /// Computes the metrics. `labelNames` (one per class) default to `"0"`, `"1"`, ….
  public init(predictions: [Int], labels: [Int], numClasses: Int, labelNames: [String]? = nil) throws {
    guard numClasses > 0 else { throw MetricsError.noClasses }
    guard predictions.count == labels.count else {
      throw MetricsError.lengthMismatch(predictions: predictions.count, labels: labels.count)
    }
    let names = labelNames ?? (0..<numClasses).map(String.init)
    guard names.count == numClasses else {
      throw MetricsError.labelNamesMismatch(names: names.count, numClasses: numClasses)
    }
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: numClasses), count: numClasses)
    for (p, t) in zip(predictions, labels) {
      guard (0..<numClasses).contains(p) else { throw MetricsError.classOutOfRange(value: p, numClasses: numClasses) }
      guard (0..<numClasses).contains(t) else { throw MetricsError.classOutOfRange(value: t, numClasses: numClasses) }
      matrix[t][p] += 1
    }
    let n = labels.count
    var correct = 0
    var perClass: [ClassMetrics] = []
    for c in 0..<numClasses {
      let tp = matrix[c][c]
      correct += tp
      let support = matrix[c].reduce(0, +)
      let predicted = matrix.reduce(0) { $0 + $1[c] }
      let precision = predicted > 0 ? Double(tp) / Double(predicted) : 0
      let recall = support > 0 ? Double(tp) / Double(support) : 0
      // sklearn computes F1 as 2·tp / (2·tp + fp + fn), 0 when the denominator is 0.
      let denominator = predicted + support
      let f1 = denominator > 0 ? 2 * Double(tp) / Double(denominator) : 0
      perClass.append(ClassMetrics(label: names[c], precision: precision, recall: recall, f1: f1, support: support))
    }
    func mean(_ key: KeyPath<ClassMetrics, Double>) -> Double {
      perClass.map { $0[keyPath: key] }.reduce(0, +) / Double(numClasses)
    }
    func weighted(_ key: KeyPath<ClassMetrics, Double>) -> Double {
      n > 0 ? perClass.map { $0[keyPath: key] * Double($0.support) }.reduce(0, +) / Double(n) : 0
    }
    self.accuracy = n > 0 ? Double(correct) / Double(n) : 0
    self.macroPrecision = mean(\.precision)
    self.macroRecall = mean(\.recall)
    self.macroF1 = mean(\.f1)
    self.weightedPrecision = weighted(\.precision)
    self.weightedRecall = weighted(\.recall)
    self.weightedF1 = weighted(\.f1)
    self.perClass = perClass
    self.confusionMatrix = matrix
    self.count = n
  }

  /// Pretty-printed, key-sorted JSON.
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }
}
