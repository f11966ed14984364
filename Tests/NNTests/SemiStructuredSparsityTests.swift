import Foundation
import XCTest

@testable import NN
@testable import Torch

/// 2:4 pruning against torch.ao.pruning's WeightNormSparsifier (quantized_linear_reference.py), and training that
/// keeps the pattern. The cuSPARSELt path (`SemiStructuredLinear`) needs a GPU and is not run here.
final class SemiStructuredSparsityTests: XCTestCase {
  func testMaskMatchesWeightNormSparsifier() throws {
    let ref = try QuantizedReference.load()
    let m = try SemiStructuredSparsity.mask(ref["w"]!)
    XCTAssertEqual(try m.sub(ref["mask24"]!).abs().max().item(Double.self), 0)
    XCTAssertTrue(try SemiStructuredSparsity.isTwoFour(ref["w"]!.mul(m)))
    XCTAssertFalse(try SemiStructuredSparsity.isTwoFour(ref["w"]!))
  }

  func testPruneThenTrainKeepsTheMask() throws {
    Torch.manualSeed(0)
    let model = Sequential2()
    let report = try SemiStructuredSparsity.prune(model)
    XCTAssertEqual(report.pruned, ["a", "odd"])  // the classifier head stays dense
    XCTAssertEqual(report.zeroed * 2, report.total)
    XCTAssertTrue(try SemiStructuredSparsity.isTwoFour(model.a.weight))
    XCTAssertFalse(try model.stateDict().keys.contains { $0.hasSuffix("weight_mask") }, "masks are not saved")
    let x = try Tensor.randn([16, 256])
    let target = try Tensor.randint(0, 3, [16])
    var losses: [Double] = []
    for _ in 0..<20 {
      let loss = try F.crossEntropy(model(x), target)
      losses.append(try loss.item(Double.self))
      try loss.backward()
      try withNoGrad {
        for p in model.parameters() {
          if let g = p.grad { _ = try p.sub_(g.mul(0.05)) }
          p.grad = nil
        }
      }
      try SemiStructuredSparsity.applyMasks(model)
    }
    XCTAssertLessThan(losses.last!, losses.first!)
    XCTAssertTrue(try SemiStructuredSparsity.isTwoFour(model.a.weight))
    XCTAssertTrue(try SemiStructuredSparsity.isTwoFour(model.odd.weight))
    XCTAssertEqual(try SemiStructuredSparsity.accelerate(model), [], "on the CPU the pruned weights run dense")
  }
}
