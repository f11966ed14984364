import XCTest

import NN
import Torch

/// `@ModuleInfo` children: declared once, found in declaration order, keyed as declared.
final class ModuleInfoTests: XCTestCase {
  class Block: Module {
    @ModuleInfo(key: "in_proj") var inProj: Linear
    @ModuleInfo var act: ReLU
    @ModuleInfo(key: "norm") var norm: LayerNorm?
    let width: Int

    init(width: Int, withNorm: Bool) throws {
      self.width = width
      super.init()
      inProj = try Linear(inFeatures: width, outFeatures: width)
      act = ReLU()
      norm = withNorm ? try LayerNorm(width) : nil
    }
  }

  final class Head: Block {
    @ModuleInfo(key: "out_proj") var outProj: Linear

    init() throws {
      try super.init(width: 4, withNorm: true)
      outProj = try Linear(inFeatures: 4, outFeatures: 2, bias: false)
      try registerModule("extra", Dropout(p: 0.5))
    }
  }

  func testKeysOrderOptionalAndSubclass() throws {
    let plain = try Block(width: 3, withNorm: false)
    XCTAssertEqual(plain.namedChildren().map(\.0), ["in_proj", "act"], "a nil optional child is absent")
    XCTAssertEqual(try plain.orderedStateDict().map(\.0), ["in_proj.weight", "in_proj.bias"])

    let head = try Head()
    XCTAssertEqual(head.namedChildren().map(\.0), ["in_proj", "act", "norm", "out_proj", "extra"])
    XCTAssertEqual(
      try head.orderedStateDict().map(\.0),
      ["in_proj.weight", "in_proj.bias", "norm.weight", "norm.bias", "out_proj.weight"])
    XCTAssertEqual(head.parameterCount, 4 * 4 + 4 + 4 + 4 + 2 * 4)
    XCTAssertTrue(head.description.hasPrefix("Head(\n  (in_proj): Linear(in_features=4, out_features=4, bias=True)"))
    head.eval()
    XCTAssertFalse(head.norm!.training)
    XCTAssertFalse(head.children().last!.training, "registered children follow train()/eval() too")
  }

  func testAssigningReplacesTheChild() throws {
    let block = try Block(width: 3, withNorm: false)
    let old = block.inProj.weight
    block.inProj = try Linear(inFeatures: 3, outFeatures: 3, bias: false)
    XCTAssertFalse(block.parameters().contains { $0 === old })
    XCTAssertEqual(try block.orderedStateDict().map(\.0), ["in_proj.weight"])
    block.norm = try LayerNorm(3)
    XCTAssertEqual(block.namedChildren().map(\.0), ["in_proj", "act", "norm"])
    try block.load(stateDict: try Block(width: 3, withNorm: true).stateDict().filter { $0.key != "in_proj.bias" })
  }

  func testRegisteringADeclaredNameIsAnError() throws {
    let block = try Block(width: 2, withNorm: true)
    XCTAssertThrowsError(try block.registerParameter("in_proj", try Tensor.zeros([1]))) {
      XCTAssertTrue("\($0)".contains("cannot register parameter 'in_proj'"), "\($0)")
    }
    XCTAssertThrowsError(try block.registerModule("norm", try LayerNorm(2))) {
      XCTAssertTrue("\($0)".contains("declared child (@ModuleInfo); assign the property instead"), "\($0)")
    }
  }
}
