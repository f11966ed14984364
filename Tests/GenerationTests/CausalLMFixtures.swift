import Foundation
import ReferenceTesting
import XCTest

@testable import Torch

/// The reference models and outputs of `Fixtures/causal_lm_reference.py`, made once per script version and
/// shared by every test (under .build/test-fixtures, keyed by the script's hash).
enum CausalLMFixtures {
  static let script = ReferenceTools.packageRoot.appendingPathComponent(
    "Tests/GenerationTests/Fixtures/causal_lm_reference.py"
  ).path
  static let variants = ["llama3", "llama_linear", "llama_dynamic", "mistral", "qwen2", "qwen3", "gpt2"]

  /// The fixture folder, made on first use (shared with the other targets through `SharedFixtures`).
  static func directory() throws -> String { try SharedFixtures.causalLM() }

  static func reference(_ variant: String) throws -> [String: Tensor] {
    try Torch.loadSafetensors(directory() + "/\(variant)/reference.safetensors")
  }
}

/// Largest absolute difference, and that difference relative to the reference's largest magnitude.
func worstDifference(_ a: Tensor, _ b: Tensor) throws -> (abs: Double, rel: Double) {
  let d = try a.sub(b).abs().max().item(Double.self)
  let scale = try b.abs().max().item(Double.self)
  return (d, d / Swift.max(scale, 1e-30))
}

func rows(_ t: Tensor) throws -> [[Int]] {
  let flat = try t.toArray(Int64.self).map { Int($0) }
  let width = t.shape[1]
  return stride(from: 0, to: flat.count, by: max(width, 1)).map { Array(flat[$0..<$0 + width]) }
}
