import Foundation
import ReferenceTesting
import XCTest

import Torch

/// Folder of this test target's fixtures.
let nnFixturesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The repository root.
let nnRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The PyTorch reference tensors written by Fixtures/make_nn_fixtures.py, loaded once.
enum NNFixtures {
  static let all: Result<[String: Tensor], Error> = Result { try Torch.load(nnFixturesDir + "/nn.pt") }

  static func get(_ key: String) throws -> Tensor {
    let dict = try all.get()
    guard let t = dict[key] else { throw TorchError("fixture nn.pt has no tensor '\(key)'") }
    return t
  }

  /// Every fixture under `prefix` with the prefix removed (e.g. a state dict).
  static func dict(_ prefix: String) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (k, v) in try all.get() where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
    return out
  }

  static func text(_ key: String) throws -> String {
    String(decoding: try get(key).toArray(UInt8.self), as: UTF8.self)
  }
}

/// Relative error of `actual` against `expected`: the largest |a - e| over the largest |e| (a tensor-wide
/// scale, so near-zero elements do not dominate), with the element where |a - e| is largest.
struct RelativeError: CustomStringConvertible {
  var relative = 0.0
  var index = -1
  var actual = 0.0
  var expected = 0.0
  var description: String {
    String(format: "rel %.3e (worst element #%d: got %.9g, expected %.9g)", relative, index, actual, expected)
  }
}

func relativeError(_ actual: Tensor, _ expected: Tensor) throws -> RelativeError {
  let a = try actual.toArray(Double.self)
  let e = try expected.toArray(Double.self)
  var r = RelativeError()
  var worstAbs = -1.0
  var scale = 0.0
  for i in 0..<e.count {
    if e[i].isFinite { scale = Swift.max(scale, Swift.abs(e[i])) }
    if a[i].isNaN != e[i].isNaN || (a[i].isInfinite || e[i].isInfinite) && a[i] != e[i] {
      return RelativeError(relative: .infinity, index: i, actual: a[i], expected: e[i])
    }
    let d = a[i].isFinite ? Swift.abs(a[i] - e[i]) : 0
    if d > worstAbs { worstAbs = d; r.index = i; r.actual = a[i]; r.expected = e[i] }
  }
  r.relative = worstAbs <= 0 ? 0 : worstAbs / Swift.max(scale, 1e-30)
  return r
}

/// Asserts equal shapes and a relative error ≤ `tolerance`; prints the worst element either way.
@discardableResult
func assertRelative(
  _ actual: Tensor, _ expected: Tensor, _ tolerance: Double, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) throws -> Double {
  XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
  guard actual.shape == expected.shape else { return .infinity }
  let err = try relativeError(actual, expected)
  print("  \(what): \(err)")
  XCTAssertLessThanOrEqual(err.relative, tolerance, "\(what): \(err)", file: file, line: line)
  return err.relative
}

/// Runs a Python program with the reference interpreter (the shared runner: stdout and stderr drained
/// together); returns stdout, throws with stderr on failure, skips when the interpreter is missing.
func runPython(_ script: String, arguments: [String] = []) throws -> String {
  String(decoding: try ReferenceTools.runPython(["-c", script] + arguments), as: UTF8.self)
}
