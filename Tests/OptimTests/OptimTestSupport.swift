import Foundation
import XCTest

import NN
import Torch

/// This target's fixtures folder, and the nn fixtures (the transformer training reference lives there).
let optimTestsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let optimFixturesPath = optimTestsDir.appendingPathComponent("Fixtures/optim.pt").path
let nnFixturesPath = optimTestsDir.deletingLastPathComponent().appendingPathComponent("NNTests/Fixtures/nn.pt").path

/// A torch.save'd fixture dict, loaded once.
final class FixtureFile: @unchecked Sendable {
  let tensors: Result<[String: Tensor], Error>
  init(_ path: String) { tensors = Result { try Torch.load(path) } }

  func get(_ key: String) throws -> Tensor {
    guard let t = try tensors.get()[key] else { throw TorchError("fixture has no tensor '\(key)'") }
    return t
  }

  func dict(_ prefix: String) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (k, v) in try tensors.get() where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
    return out
  }

  static let optim = FixtureFile(optimFixturesPath)
  static let nn = FixtureFile(nnFixturesPath)
}

/// Largest |a - e| over the largest |e|, with the worst element; asserts ≤ tolerance and prints it.
@discardableResult
func assertRelative(
  _ actual: Tensor, _ expected: Tensor, _ tolerance: Double, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) throws -> Double {
  XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
  guard actual.shape == expected.shape else { return .infinity }
  let a = try actual.toArray(Double.self)
  let e = try expected.toArray(Double.self)
  var worst = 0.0, index = 0, scale = 0.0
  for i in 0..<e.count {
    scale = Swift.max(scale, Swift.abs(e[i]))
    let d = a[i].isNaN != e[i].isNaN ? Double.infinity : Swift.abs(a[i] - e[i])
    if d > worst { worst = d; index = i }
  }
  let rel = worst == 0 ? 0 : worst / Swift.max(scale, 1e-30)
  let msg = String(
    format: "%@: rel %.3e (worst element #%d: got %.9g, expected %.9g)", what, rel, index,
    a.isEmpty ? 0 : a[index], e.isEmpty ? 0 : e[index])
  print("  " + msg)
  XCTAssertLessThanOrEqual(rel, tolerance, msg, file: file, line: line)
  return rel
}

/// The usual two AdamW groups: weights of 2+ dimensions, and the 1-D rest (biases, LayerNorm weights).
/// (Training's `decayAndNoDecayParameters` is the recipe; this target tests the optimizers, not it.)
func splitByDimension(_ module: Module) -> (decay: [Tensor], noDecay: [Tensor]) {
  let params = module.namedParameters().map(\.1).filter(\.requiresGrad)
  return (params.filter { $0.dim >= 2 }, params.filter { $0.dim < 2 })
}
