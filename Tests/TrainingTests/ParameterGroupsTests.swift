import NN
import Torch
import Training
import XCTest

/// The fine-tuning recipe's AdamW groups (as transformers' Trainer: no weight decay for biases and
/// LayerNorm weights).
final class ParameterGroupsTests: XCTestCase {
  func testMatricesDecayOneDimensionalParametersDoNot() throws {
    let lin = try Linear(inFeatures: 3, outFeatures: 2)
    let ln = try LayerNorm(2)
    let frozen = try Linear(inFeatures: 2, outFeatures: 2)
    for p in frozen.parameters() { try p.requiresGrad_(false) }
    let (decay, noDecay) = decayAndNoDecayParameters(try Sequential(lin, ln, frozen))
    XCTAssertEqual(decay.map(\.shape), [[2, 3]])
    XCTAssertEqual(
      noDecay.map(\.shape), [[2], [2], [2]], "Linear bias, LayerNorm weight and bias; frozen ones left out")
    XCTAssertTrue(decay[0] === lin.weight)
  }
}
