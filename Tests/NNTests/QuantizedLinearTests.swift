import Foundation
import ReferenceTesting
import XCTest

@testable import NN
@testable import Torch

/// `Fixtures/quantized_linear_reference.py`'s outputs, made once per script version (under .build/test-fixtures).
enum QuantizedReference {
  static let script = ReferenceTools.packageRoot.appendingPathComponent(
    "Tests/NNTests/Fixtures/quantized_linear_reference.py"
  ).path
  private static let lock = NSLock()
  nonisolated(unsafe) private static var made: [String: Tensor]?

  static func load() throws -> [String: Tensor] {
    lock.lock()
    defer { lock.unlock() }
    if let made { return made }
    var hash: UInt64 = 1_469_598_103_934_665_603
    for byte in try Data(contentsOf: URL(fileURLWithPath: script)) { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    let file = ReferenceTools.packageRoot.appendingPathComponent(
      ".build/test-fixtures/quantized-linear-\(String(hash, radix: 16)).safetensors"
    ).path
    if !FileManager.default.fileExists(atPath: file) {
      try FileManager.default.createDirectory(
        atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      _ = try ReferenceTools.runPython([script, file + ".tmp"])
      try FileManager.default.moveItem(atPath: file + ".tmp", toPath: file)
    }
    made = try Torch.loadSafetensors(file)
    return made!
  }
}

final class QuantizedLinearTests: XCTestCase {
  var ref: [String: Tensor] = [:]

  override func setUpWithError() throws { ref = try QuantizedReference.load() }

  func linear() throws -> Linear {
    let l = try Linear(inFeatures: 256, outFeatures: 96, initialize: false)
    try withNoGrad {
      try l.weight.copy_(ref["w"]!)
      try l.bias!.copy_(ref["b"]!)
    }
    return l
  }

  func maxDiff(_ a: Tensor, _ b: Tensor) throws -> Double {
    try a.to(dtype: .float32).sub(b.to(dtype: .float32)).abs().max().item(Double.self)
  }

  /// Error relative to the float layer's largest output, printed for the record.
  func floatError(_ y: Tensor, _ name: String) throws -> Double {
    let e = try maxDiff(y, ref["float_out"]!) / ref["float_out"]!.abs().max().item(Double.self)
    print(String(format: "quantized linear %@: max |y − y_float| / max |y_float| = %.4f", name, e))
    return e
  }

  func testInt8MatchesGptFastAndWeightInt8PackMM() throws {
    let q = try QuantizedLinear.quantizing(linear(), scheme: .int8)
    XCTAssertEqual(try maxDiff(q.weight, ref["int8_q"]!), 0, "int8 values differ from gpt-fast's")
    XCTAssertLessThan(try maxDiff(q.weightScale, ref["int8_scales"]!), 1e-9)
    let y = try q(ref["x"]!)
    XCTAssertEqual(y.shape, [2, 5, 96])
    XCTAssertLessThan(try maxDiff(y, ref["int8_out"]!), 1e-5)
    XCTAssertLessThan(try floatError(y, "int8"), 0.02)
  }

  func testInt4MatchesGptFastAndCPUKernelForEveryGroupSize() throws {
    for g in QuantizationScheme.int4GroupSizes {
      let q = try QuantizedLinear.quantizing(linear(), scheme: .int4, groupSize: g)
      XCTAssertEqual(q.weight.shape, [96, 128])
      let values = try QuantizedLinear.unpackNibbles(q.weight)
      XCTAssertEqual(try maxDiff(values, ref["int4_g\(g)_q"]!), 0, "group \(g): int4 values differ from gpt-fast's")
      XCTAssertLessThan(try maxDiff(q.weightScale, ref["int4_g\(g)_scales"]!), 1e-7)
      XCTAssertLessThan(try maxDiff(q.weightZero!, ref["int4_g\(g)_zeros"]!), 1e-7)
      let y = try q(ref["x"]!)
      XCTAssertLessThan(try maxDiff(y, ref["int4_g\(g)_out"]!), 1e-4, "group \(g)")
      // The kernel computes what the dequantized weight computes.
      let dense = try F.linear(ref["x"]!, weight: q.dequantizedWeight(), bias: q.bias)
      XCTAssertLessThan(try maxDiff(y, dense), 1e-4, "group \(g)")
      XCTAssertLessThan(try floatError(y, "int4 g\(g)"), 0.2)
    }
  }

  func testDynamicInt8MatchesQuantizeDynamic() throws {
    let q = try QuantizedLinear.quantizing(linear(), scheme: .dynamicInt8, perChannel: false)
    XCTAssertEqual(try maxDiff(q.weight, ref["dyn_q"]!), 0, "int8 values differ from quantize_dynamic's")
    XCTAssertLessThan(try maxDiff(q.weightScale, ref["dyn_scale"]!), 1e-9)
    let y = try q(ref["x"]!)
    XCTAssertLessThan(try maxDiff(y, ref["dyn_out"]!), 1e-5)
    _ = try floatError(y, "dynamic-int8 (fbgemm)")
    q.dynamicKernel = .intMM
    let y2 = try q(ref["x"]!)
    XCTAssertLessThan(try maxDiff(y2, ref["intmm_out"]!), 1e-5)
    _ = try floatError(y2, "dynamic-int8 (_int_mm)")
  }

  /// Inputs with many rows take dequantize-then-GEMM on the CPU: the same outputs as the kernels.
  func testManyRowsTakeTheDensePathWithTheSameResult() throws {
    let saved = QuantizedLinear.cpuKernelMaxRows
    QuantizedLinear.cpuKernelMaxRows = 0
    defer { QuantizedLinear.cpuKernelMaxRows = saved }
    let int8 = try QuantizedLinear.quantizing(linear(), scheme: .int8)
    XCTAssertLessThan(try maxDiff(int8(ref["x"]!), ref["int8_out"]!), 1e-5)
    let int4 = try QuantizedLinear.quantizing(linear(), scheme: .int4, groupSize: 64)
    XCTAssertLessThan(try maxDiff(int4(ref["x"]!), ref["int4_g64_out"]!), 1e-4)
  }

  func testBFloat16ActivationsOnTheCPU() throws {
    let l = try linear()
    let x = try ref["x"]!.to(dtype: .bfloat16)
    for (scheme, tol) in [(QuantizationScheme.int8, 0.05), (.int4, 0.25), (.dynamicInt8, 0.05)] {
      let q = try QuantizedLinear.quantizing(l, scheme: scheme, groupSize: 64)
      let y = try q(x)
      XCTAssertEqual(y.dtype, .bfloat16, "\(scheme)")
      let e = try maxDiff(y, ref["float_out"]!) / ref["float_out"]!.abs().max().item(Double.self)
      XCTAssertLessThan(e, tol, "\(scheme)")
    }
  }

  func testStateDictRoundTrip() throws {
    for scheme in QuantizationScheme.allCases {
      let q = try QuantizedLinear.quantizing(linear(), scheme: scheme, groupSize: 32)
      let fresh = try QuantizedLinear(
        scheme: scheme, inFeatures: 256, outFeatures: 96, bias: true, groupSize: scheme == .int4 ? 32 : 0)
      XCTAssertEqual(fresh.weightScale.shape, q.weightScale.shape)
      XCTAssertEqual(Set(try fresh.stateDict().keys), Set(try q.stateDict().keys))
      _ = try fresh.load(stateDict: try q.stateDict())
      XCTAssertEqual(try maxDiff(fresh(ref["x"]!), q(ref["x"]!)), 0, "\(scheme)")
    }
  }

  func testQuantizeReplacesLinearsAndReportsWhatItKept() throws {
    let model = Sequential2()
    let before = try model(ref["x"]!)
    let report = try quantize(model, scheme: .int4, groupSize: 64)
    XCTAssertEqual(report.quantized, ["a"])
    XCTAssertEqual(report.skipped.map(\.name).sorted(), ["classifier", "odd"])
    XCTAssertTrue(report.skipped.first { $0.name == "odd" }!.reason.contains("not a multiple of the group size"))
    XCTAssertTrue(model.a is QuantizedLinear)
    XCTAssertFalse(model.odd is QuantizedLinear)
    XCTAssertLessThan(report.bytesAfter, report.bytesBefore)
    XCTAssertEqual(try model(ref["x"]!).shape, before.shape)
    XCTAssertThrowsError(try quantize(Sequential2(), scheme: .int4, groupSize: 48)) {
      XCTAssertTrue("\($0)".contains("group-size"), "\($0)")
    }
    // A folder's quantization_config rebuilds the same layout.
    let fresh = Sequential2()
    try QuantizationConfig(report).prepare(fresh)
    _ = try fresh.load(stateDict: try model.stateDict())
    XCTAssertEqual(try maxDiff(fresh(ref["x"]!), model(ref["x"]!)), 0)
  }
}

/// 256 → 96 → (odd: 96 → 100, not a multiple of int4's groups) → classifier 100 → 3.
final class Sequential2: Module {
  @ModuleInfo var a: Linear
  @ModuleInfo var odd: Linear
  @ModuleInfo var classifier: Linear?

  override init() {
    super.init()
    a = try! Linear(inFeatures: 256, outFeatures: 96)
    odd = try! Linear(inFeatures: 96, outFeatures: 100)
    classifier = try! Linear(inFeatures: 100, outFeatures: 3)
  }

  func callAsFunction(_ x: Tensor) throws -> Tensor { try classifier!(odd(a(x).relu())) }
}
