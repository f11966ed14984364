import Foundation
import ReferenceTesting
import Training
import XCTest

/// The library's inference path (`TextClassifier`, behind `predict`, `eval` and evaluation during fine-tuning)
/// against transformers: the text-classification pipeline's scores, the logits of each text run alone
/// (so length-sorted batches and padding change nothing), accuracy and mean loss.
final class TextClassifierTests: XCTestCase {
  let texts = [
    "good morning", "", "the flight was delayed for three hours and nobody told us anything at all, again and again",
    "awful day", "Thanks @united, great crew!", "ok", "Müller's café was fine 👍", "why is my bag in Denver"
  ]
  let labels = [2, 1, 0, 0, 2, 1, 2, 0]

  func testPredictionsAndMetricsMatchTransformers() throws {
    let s = try TrainEnv.scratch("text-classifier")
    let dir = try TrainEnv.tinyModel(in: s)
    let request = try JSONSerialization.data(
      withJSONObject: [
        "model": dir, "max_length": 16, "texts": texts, "labels": labels
      ] as [String: Any])
    let ref =
      try ReferenceTools.json(script: "text_classification_reference.py", [], input: request) as! [String: Any]
    let refScores = ref["scores"] as! [[Double]]
    let refLogits = ref["logits"] as! [[Double]]

    for batchSize in [3, 1] {
      let clf = try TextClassifier.fromPretrained(dir, maxLength: 16, batchSize: batchSize)
      XCTAssertEqual(clf.labelNames, ["negative", "neutral", "positive"])
      let predictions = try clf.predict(texts)
      XCTAssertEqual(predictions.count, texts.count)
      for (i, p) in predictions.enumerated() {
        for c in 0..<3 {
          XCTAssertEqual(Double(p.logits[c]), refLogits[i][c], accuracy: 1e-5 * max(1, abs(refLogits[i][c])), "\(i)")
          XCTAssertEqual(Double(p.scores[c]), refScores[i][c], accuracy: 1e-5, "text \(i) label \(c)")
        }
        let sorted = refScores[i].sorted(by: >)
        if sorted[0] - sorted[1] > 1e-5 {
          XCTAssertEqual(p.label, (ref["labels"] as! [String])[i], "text \(i)")
          XCTAssertEqual(p.labelId, clf.labelNames.firstIndex(of: p.label))
        }
      }
      let (metrics, loss) = try clf.evaluate(try clf.encode(texts, labels: labels))
      XCTAssertEqual(metrics.accuracy, ref["accuracy"] as! Double, accuracy: 1e-12)
      XCTAssertEqual(metrics.count, texts.count)
      XCTAssertEqual(loss, ref["loss"] as! Double, accuracy: 1e-5 * (ref["loss"] as! Double))
    }
  }

  func testBadInputIsAnErrorNamingTheProblem() throws {
    let s = try TrainEnv.scratch("text-classifier-bad")
    let clf = try TextClassifier.fromPretrained(try TrainEnv.tinyModel(in: s))
    XCTAssertEqual(try clf.predict([]), [])
    XCTAssertThrowsError(try clf.encode(["a", "b"], labels: [0])) {
      XCTAssertTrue("\($0)".contains("2 texts but 1 labels"), "\($0)")
    }
    XCTAssertThrowsError(try clf.evaluate(try clf.encode(["a"], labels: [5]))) {
      XCTAssertTrue("\($0)".contains("label 5"), "\($0)")
    }
    let noTokenizer = try TextClassifier(model: clf.model, tokenizer: nil)
    XCTAssertThrowsError(try noTokenizer.predict(["a"])) { XCTAssertTrue("\($0)".contains("no tokenizer"), "\($0)") }
    XCTAssertThrowsError(try TextClassifier(model: clf.model, tokenizer: nil, batchSize: 0))
  }

  /// The pipeline's score function follows the config: sigmoid for one label or `multi_label_classification`,
  /// the raw logits for `regression`, softmax otherwise (checked above).
  func testScoresFollowTheConfigAsThePipelineDoes() throws {
    let s = try TrainEnv.scratch("text-classifier-scores")
    let variants: [(String, [Int: String], String?)] = [
      ("one-label", [0: "LABEL_0"], nil),
      ("multi-label", [0: "delay", 1: "service", 2: "luggage"], "multi_label_classification"),
      ("regression", [0: "LABEL_0", 1: "LABEL_1"], "regression")
    ]
    for (name, id2label, problemType) in variants {
      let dir = try TrainEnv.tinyModel(in: s, name: name, id2label: id2label, problemType: problemType)
      let request = try JSONSerialization.data(
        withJSONObject: [
          "model": dir, "max_length": 16, "texts": texts, "labels": labels.map { _ in 0 }, "loss": false
        ] as [String: Any])
      let ref =
        try ReferenceTools.json(script: "text_classification_reference.py", [], input: request) as! [String: Any]
      let refScores = ref["scores"] as! [[Double]]
      let predictions = try TextClassifier.fromPretrained(dir, maxLength: 16, batchSize: 4).predict(texts)
      for (i, p) in predictions.enumerated() {
        XCTAssertEqual(p.scores.count, id2label.count, name)
        for c in 0..<id2label.count {
          XCTAssertEqual(
            Double(p.scores[c]), refScores[i][c], accuracy: 1e-5 * max(1, abs(refScores[i][c])), "\(name) \(i)")
        }
        if problemType == "regression" { XCTAssertEqual(p.scores, p.logits, name) }
      }
    }
  }
}
