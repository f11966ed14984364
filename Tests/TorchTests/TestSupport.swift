import Foundation
import ReferenceTesting
import XCTest

@testable import Torch

/// Folder of this test target's fixtures.
let fixturesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The repository root (for the venv's Python and scripts).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// What `python -c program` prints on stdout, through the shared reference runner (stdout and stderr drained
/// together; throws with stderr when it fails; skips the test when the reference venv is missing).
func pythonOutput(_ program: String) throws -> Data {
  try ReferenceTools.runPython(["-c", program])
}

/// Largest element-wise difference, and where, between two tensors of the same shape (compared in float64).
struct Difference: CustomStringConvertible {
  var maxAbs: Double = 0
  var maxRel: Double = 0
  var worstIndex = -1
  var actual = 0.0
  var expected = 0.0
  var description: String {
    "worst element #\(worstIndex): got \(actual), expected \(expected) (abs \(maxAbs), rel \(maxRel))"
  }
}

func difference(_ a: Tensor, _ b: Tensor) throws -> Difference {
  let x = try a.toArray(Double.self)
  let y = try b.toArray(Double.self)
  var d = Difference()
  for i in 0..<Swift.min(x.count, y.count) {
    let e = Swift.abs(x[i] - y[i])
    if x[i].isNaN != y[i].isNaN || (x[i].isInfinite && x[i] != y[i]) {
      d.maxAbs = .infinity; d.worstIndex = i; d.actual = x[i]; d.expected = y[i]
      return d
    }
    if e.isNaN { continue }
    let r = e / Swift.max(Swift.abs(y[i]), 1e-30)
    if e > d.maxAbs { d.maxAbs = e; d.worstIndex = i; d.actual = x[i]; d.expected = y[i] }
    d.maxRel = Swift.max(d.maxRel, Swift.min(r, e))
  }
  return d
}

/// Asserts same shape, dtype and |a - b| <= atol + rtol·|b| element-wise; reports the worst element.
func assertClose(
  _ a: Tensor, _ b: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6, checkDType: Bool = true,
  _ what: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) throws {
  XCTAssertEqual(a.shape, b.shape, "\(what()): shape", file: file, line: line)
  if checkDType { XCTAssertEqual(a.dtype, b.dtype, "\(what()): dtype", file: file, line: line) }
  guard a.shape == b.shape else { return }
  let x = try a.toArray(Double.self)
  let y = try b.toArray(Double.self)
  for i in 0..<x.count {
    let ok = (x[i].isNaN && y[i].isNaN) || x[i] == y[i] || Swift.abs(x[i] - y[i]) <= atol + rtol * Swift.abs(y[i])
    if !ok {
      XCTFail("\(what()): \(try difference(a, b)) (rtol \(rtol), atol \(atol))", file: file, line: line)
      return
    }
  }
}
