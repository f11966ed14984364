import XCTest

import NN
import Torch

/// Every loss and option against PyTorch: value and gradient with respect to the input.
final class LossTests: XCTestCase {
  static func f(_ k: String) throws -> Tensor { try NNFixtures.get("loss." + k) }

  static let cases: [String: (Tensor) throws -> Tensor] = [
    "ce_mean": { try CrossEntropyLoss()($0, try f("labels")) },
    "ce_sum": { try CrossEntropyLoss(reduction: .sum)($0, try f("labels")) },
    "ce_none": { try CrossEntropyLoss(reduction: .none)($0, try f("labels")) },
    "ce_ignore": { try CrossEntropyLoss()($0, try f("labels_ignore")) },
    "ce_ignore_custom": { try CrossEntropyLoss(ignoreIndex: 3)($0, try f("labels")) },
    "ce_smooth": { try CrossEntropyLoss(labelSmoothing: 0.1)($0, try f("labels")) },
    "ce_weight": { try CrossEntropyLoss(weight: try f("weight"))($0, try f("labels")) },
    "ce_weight_smooth_ignore": {
      try CrossEntropyLoss(weight: try f("weight"), labelSmoothing: 0.2)($0, try f("labels_ignore"))
    },
    "ce_probs": { try CrossEntropyLoss()($0, try f("probs")) },
    "ce_probs_smooth_weight": {
      try CrossEntropyLoss(weight: try f("weight"), labelSmoothing: 0.1)($0, try f("probs"))
    },
    "mse_mean": { try MSELoss()($0, try f("reg_target")) },
    "mse_sum": { try MSELoss(reduction: .sum)($0, try f("reg_target")) },
    "mse_none": { try MSELoss(reduction: .none)($0, try f("reg_target")) },
    "bce_mean": { try BCEWithLogitsLoss()($0, try f("bin_target")) },
    "bce_sum_weight": { try BCEWithLogitsLoss(weight: try f("bce_weight"), reduction: .sum)($0, try f("bin_target")) },
    "bce_pos_weight": { try BCEWithLogitsLoss(posWeight: try f("pos_weight"))($0, try f("bin_target")) },
    "bce_none": { try BCEWithLogitsLoss(reduction: .none)($0, try f("bin_target")) },
    "kl_batchmean": { try KLDivLoss(reduction: .batchmean)(try $0.logSoftmax(dim: -1), try f("probs")) },
    "kl_mean": { try KLDivLoss()(try $0.logSoftmax(dim: -1), try f("probs")) },
    "kl_sum": { try KLDivLoss(reduction: .sum)(try $0.logSoftmax(dim: -1), try f("probs")) },
    "kl_none": { try KLDivLoss(reduction: .none)(try $0.logSoftmax(dim: -1), try f("probs")) },
    "kl_log_target": {
      try KLDivLoss(reduction: .batchmean, logTarget: true)(try $0.logSoftmax(dim: -1), try f("probs").log())
    },
    "distill": {
      try F.distillationLoss(
        student: $0, teacher: try f("teacher"), labels: try f("labels"), temperature: 2, alpha: 0.7)
    }
  ]

  static let inputs: [String: String] = [
    "mse": "reg_in", "bce": "reg_in", "ce": "logits", "kl": "logits", "distill": "logits"
  ]

  func testEveryLossAndOptionMatchesPyTorch() throws {
    for (name, fn) in Self.cases.sorted(by: { $0.key < $1.key }) {
      let family = String(name.split(separator: "_")[0])
      let x = try Self.f(Self.inputs[family]!).clone().requiresGrad_()
      let value = try fn(x)
      try assertRelative(value, try Self.f("\(name).value"), 1e-6, "\(name) value")
      try value.mul(try Self.f("\(name).w")).sum().backward()
      try assertRelative(x.grad!, try Self.f("\(name).grad"), 1e-6, "\(name) grad")
    }
  }

  func testDistillationModuleAndErrors() throws {
    let student = try Self.f("logits")
    let loss = try DistillationLoss(temperature: 2, alpha: 0.7)(
      student: student, teacher: try Self.f("teacher"), labels: try Self.f("labels"))
    try assertRelative(loss, try Self.f("distill.value"), 1e-6, "DistillationLoss")
    XCTAssertThrowsError(try DistillationLoss(temperature: 0))
    XCTAssertThrowsError(
      try F.distillationLoss(
        student: student, teacher: try Tensor.zeros([2, 2]), labels: try Self.f("labels"),
        temperature: 1, alpha: 0.5))
    XCTAssertThrowsError(try MSELoss()(try Tensor.zeros([2]), try Tensor.zeros([3])))
    XCTAssertThrowsError(try CrossEntropyLoss(labelSmoothing: 1.5))
    XCTAssertThrowsError(try CrossEntropyLoss()(student, try Tensor([9, 0, 0, 0, 0, 0] as [Int64]))) {
      print("  error:", $0)
    }
  }
}
