import Foundation
import XCTest

@testable import Torch

/// `print(tensor)` equals PyTorch's `repr(tensor)` (fixtures: Fixtures/make_repr_fixtures.py).
final class TensorDescriptionTests: XCTestCase {
  func testMatchesPyTorchRepr() throws {
    let tensors = try Torch.load(fixturesDir + "/repr.pt")
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturesDir + "/repr.json"))
    let expected = try JSONDecoder().decode([String: String].self, from: data)
    XCTAssertGreaterThanOrEqual(expected.count, 20)
    for (name, repr) in expected.sorted(by: { $0.key < $1.key }) {
      guard let t = tensors[name] else { XCTFail("missing tensor \(name)"); continue }
      if name == "requires_grad" { try t.requiresGrad_() }
      XCTAssertEqual(t.description, repr, "repr of \(name)")
    }
  }

  func testGradFnSuffix() throws {
    let a = try Tensor([1, 2] as [Float]).requiresGrad_()
    let b = a * a
    XCTAssertEqual(b.description, "tensor([1., 4.], grad_fn=<MulBackward0>)")
  }
}
