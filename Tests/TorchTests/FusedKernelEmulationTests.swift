import Foundation
import XCTest

@testable import Torch

/// The fused CUDA kernels' own source (csrc/core/fused_kernels.h) run on the CPU under a small emulator
/// (KernelEmulator/: threads for lanes, barriers for warp shuffles, ballots and __syncthreads), compared with
/// libtorch's eager ops using the masks the kernels drew: outputs, the kept sum, the low-precision copy and
/// every gradient, for the dtype mixes the models produce, ragged rows and several rows per warp.
final class FusedKernelEmulationTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let work = FileManager.default.temporaryDirectory.appendingPathComponent(
    "torchswift-kernel-emulation-\(getpid())")

  override class func tearDown() { try? FileManager.default.removeItem(at: work) }

  func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// Builds the driver for one set of kernel macros (g++, C++20); skips when g++ is missing.
  func build(_ macros: [String: String]) throws -> URL {
    try XCTSkipUnless(try run("g++", ["--version"]).status == 0, "needs g++")
    let fm = FileManager.default
    try fm.createDirectory(at: Self.work, withIntermediateDirectories: true)
    let header = try String(contentsOf: Self.root.appendingPathComponent("csrc/core/fused_kernels.h"), encoding: .utf8)
    guard let start = header.range(of: "R\"CUDA("), let end = header.range(of: ")CUDA\"") else {
      throw TorchError("fused_kernels.h: no R\"CUDA( … )CUDA\" source")
    }
    try String(header[start.upperBound..<end.lowerBound]).write(
      to: Self.work.appendingPathComponent("kernels.cu"),
      atomically: true, encoding: .utf8)
    let name = macros.keys.sorted().map { "\($0)\(macros[$0]!)" }.joined(separator: "_")
    let binary = Self.work.appendingPathComponent("driver_\(name)")
    let flags = macros.keys.sorted().map { "-D\($0)=\(macros[$0]!)" }
    let result = try run(
      "g++",
      ["-std=c++20", "-O1", "-pthread", "-Wno-unknown-pragmas", "-DTS_HOST_EMULATION"] + flags
        + [
          "-I", Self.root.appendingPathComponent("Tests/TorchTests/KernelEmulator").path, "-I", Self.work.path,
          Self.root.appendingPathComponent("Tests/TorchTests/KernelEmulator/driver.cpp").path, "-o", binary.path
        ])
    guard result.status == 0 else { throw TorchError("g++ failed for \(flags):\n\(result.output)") }
    return binary
  }

  func write(_ t: Tensor, _ name: String, in dir: URL) throws {
    let values = try t.to(dtype: .float32).contiguous().flatten().toArray(Float.self)
    try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: dir.appendingPathComponent(name))
  }

  func read(_ name: String, shape: [Int], in dir: URL) throws -> Tensor {
    let data = try Data(contentsOf: dir.appendingPathComponent(name))
    let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    return try Tensor(values, shape: shape)
  }

  func readWords(_ name: String, in dir: URL) throws -> Tensor {
    let data = try Data(contentsOf: dir.appendingPathComponent(name))
    let values = data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    return try Tensor(values)
  }

  /// Five standard deviations of the kept fraction of `count` independent draws.
  static func keepRateTolerance(p: Double, count: Int) -> Double {
    5 * (p * (1 - p) / Double(max(count, 1))).squareRoot()
  }

  /// torch.promote_types over float32, float16, bfloat16.
  func promoteTypes(_ a: DType, _ b: DType) -> DType { a == b ? a : .float32 }

  static func code(_ t: DType) -> String { t == .float32 ? "f32" : t == .float16 ? "f16" : "bf16" }

  /// max |a − b| / max |b|.
  func relative(_ a: Tensor, _ b: Tensor) throws -> Double {
    let a64 = try a.to(dtype: .float64), b64 = try b.to(dtype: .float64)
    return try (a64 - b64).abs().max().item(Double.self) / max(try b64.abs().max().item(Double.self), 1e-30)
  }

  struct LayerNormCase {
    var rows: Int, d: Int, x: DType, residual: DType, weight: DType, out: DType
    var copy: DType? = nil
    var affine = true, p: Double
    var tolerance: Double
  }

  func checkLayerNorm(_ c: LayerNormCase, seed: UInt64 = 42, offset: UInt64 = 8) throws {
    let sum = promoteTypes(c.x, c.residual)
    let binary = try build([
      "TX": Self.code(c.x), "TR": Self.code(c.residual), "TS": Self.code(sum),
      "TO": Self.code(c.out), "TL": Self.code(c.copy ?? c.out), "TW": Self.code(c.weight),
      "D": "\(c.d)", "HAS_W": c.affine ? "1" : "0", "HAS_B": c.affine ? "1" : "0",
      "DROPOUT": c.p > 0 ? "1" : "0"
    ])
    let dir = Self.work.appendingPathComponent("case-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let shape = [c.rows, c.d]
    Torch.manualSeed(seed)
    let x = try Tensor.randn(shape).to(dtype: c.x), r = try Tensor.randn(shape).to(dtype: c.residual)
    let w = try Tensor.randn([c.d]).mul(.double(0.5)).add(.double(1)).to(dtype: c.weight)
    let b = try Tensor.randn([c.d]).mul(.double(0.2)).to(dtype: c.weight)
    let dy = try Tensor.randn(shape).to(dtype: c.out), dy2 = try Tensor.randn(shape).to(dtype: c.copy ?? c.out)
    for (t, n) in [(x, "x"), (r, "r"), (w, "w"), (b, "b"), (dy, "dy"), (dy2, "dy2")] { try write(t, n, in: dir) }
    let result = try run(
      binary.path,
      [
        dir.path, "\(c.rows)", "\(c.p)", "1e-5", "\(seed)", "\(offset)",
        c.copy != nil ? "1" : "0", c.copy != nil ? "1" : "0", "2", "3"
      ])
    XCTAssertEqual(result.status, 0, result.output)

    let keep =
      c.p > 0
      ? try FusedKernels.unpackMask(try readWords("bits", in: dir), rows: c.rows, columns: c.d)
      : try Tensor.ones(shape, dtype: .bool)
    let (xg, rg) = (try x.detach().requiresGrad_(), try r.detach().requiresGrad_())
    let (wg, bg) = (try w.detach().requiresGrad_(), try b.detach().requiresGrad_())
    let s = try FusedKernels.eagerResidualSum(xg, residual: rg, p: c.p, keep: keep)  // [rows, d] in the promoted dtype
    let y =
      c.out == .float32 && sum != .float32
      ? try F.layerNorm(
        s.float(), normalizedShape: [c.d], weight: c.affine ? wg.float() : nil,
        bias: c.affine ? bg.float() : nil)  // LayerNorm under autocast
      : try F.layerNorm(s, normalizedShape: [c.d], weight: c.affine ? wg : nil, bias: c.affine ? bg : nil)
    var loss = try y.float().mul(dy.float()).sum()
    if let copy = c.copy { loss = try loss.add(try y.to(dtype: copy).float().mul(dy2.float()).sum()) }
    try loss.backward()

    XCTAssertTrue(
      try read("s", shape: shape, in: dir).equal(s.detach().float()), "s = residual + dropout(x), rounded as eager")
    let yKernel = try read("y", shape: shape, in: dir)
    XCTAssertLessThanOrEqual(try relative(yKernel, y.detach()), c.tolerance, "output")
    if let copy = c.copy {
      XCTAssertTrue(
        try read("y2", shape: shape, in: dir).equal(yKernel.to(dtype: copy).float()), "the copy is the output's cast")
    }
    // Gradients: float32 within 10× the output's tolerance; a half-precision gradient within about one unit in the
    // last place of its largest value (eager rounds dx twice — the add's cast, then dropout — the kernel once).
    func gradTolerance(_ t: DType) -> Double { t == .bfloat16 ? 1e-2 : t == .float16 ? 2e-3 : c.tolerance * 10 }
    XCTAssertLessThanOrEqual(try relative(try read("dx", shape: shape, in: dir), xg.grad!), gradTolerance(c.x), "dx")
    XCTAssertLessThanOrEqual(
      try relative(try read("dr", shape: shape, in: dir), rg.grad!), gradTolerance(c.residual), "dresidual")
    if c.affine {
      XCTAssertLessThanOrEqual(
        try relative(try read("dw", shape: [c.d], in: dir), wg.grad!), gradTolerance(c.weight), "dweight")
      XCTAssertLessThanOrEqual(
        try relative(try read("db", shape: [c.d], in: dir), bg.grad!), gradTolerance(c.weight), "dbias")
    }
    if c.p > 0 {
      let rate = try keep.to(dtype: .float64).mean().item(Double.self)
      XCTAssertEqual(rate, 1 - c.p, accuracy: Self.keepRateTolerance(p: c.p, count: c.rows * c.d), "keep rate")
      let rows = try keep.to(dtype: .int64)
      XCTAssertFalse(try rows[0].equal(rows[1]), "rows draw different masks")
    }
  }

  func testLayerNormKernelsMatchEagerOps() throws {
    // float32 everywhere; a ragged row (100 = 3 full words + 4 columns); 37 rows over 8 and 12 warps.
    try checkLayerNorm(
      LayerNormCase(
        rows: 37, d: 100, x: .float32, residual: .float32, weight: .float32, out: .float32,
        p: 0.2, tolerance: 1e-5))
    // BERT under bfloat16 autocast: bf16 matmul output on a float32 residual, float32 output and its bf16 copy.
    try checkLayerNorm(
      LayerNormCase(
        rows: 40, d: 768, x: .bfloat16, residual: .float32, weight: .float32, out: .float32,
        copy: .bfloat16, p: 0.1, tolerance: 1e-5))
    // All half precision without affine parameters; a row shorter than a warp.
    try checkLayerNorm(
      LayerNormCase(
        rows: 29, d: 33, x: .float16, residual: .float16, weight: .float16, out: .float16,
        affine: false, p: 0.3, tolerance: 2e-3))
    // bfloat16 model, no dropout (evaluation): residual + x, LayerNorm.
    try checkLayerNorm(
      LayerNormCase(
        rows: 16, d: 64, x: .bfloat16, residual: .bfloat16, weight: .bfloat16, out: .bfloat16,
        p: 0, tolerance: 1e-2))
  }

  func checkActivation(n: Int, dtype: DType, gelu: Bool, p: Double, tolerance: Double) throws {
    let binary = try build(["TX": Self.code(dtype), "ACT": gelu ? "1" : "0"])
    let dir = Self.work.appendingPathComponent("case-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    Torch.manualSeed(UInt64(n))
    let x = try Tensor.randn([n]).to(dtype: dtype), dy = try Tensor.randn([n]).to(dtype: dtype)
    try write(x, "x", in: dir)
    try write(dy, "dy", in: dir)
    let result = try run(binary.path, [dir.path, "\(n)", "\(p)", "7", "12", "3", "2"])
    XCTAssertEqual(result.status, 0, result.output)
    let bits = try FusedKernels.unpackMask(try readWords("bits", in: dir), rows: 1, columns: n).view([n])
    let xg = try x.detach().requiresGrad_()
    let yRef = try FusedKernels.eagerActivationDropout(xg, activation: gelu ? .gelu : .relu, p: p, keep: bits)
    try yRef.float().mul(dy.float()).sum().backward()
    XCTAssertLessThanOrEqual(try relative(try read("y", shape: [n], in: dir), yRef.detach()), tolerance, "output")
    XCTAssertLessThanOrEqual(try relative(try read("dx", shape: [n], in: dir), xg.grad!), tolerance, "dx")
    let positive = try x.gt(.double(0))
    let among = gelu ? try Tensor.ones([n], dtype: .bool) : positive
    if !gelu {
      XCTAssertFalse(try bits.logicalAnd(try positive.logicalNot()).any().item(Bool.self), "relu: no bits where x <= 0")
    }
    let kept = try bits.logicalAnd(among).to(dtype: .float64).sum().item(Double.self)
    let count = try among.to(dtype: .float64).sum().item(Double.self)
    XCTAssertEqual(kept / max(count, 1), 1 - p, accuracy: Self.keepRateTolerance(p: p, count: Int(count)), "keep rate")
  }

  /// The C layer's host code and autograd around the kernels (argument arrays, saved tensors, gradient counts,
  /// output dtypes under autocast, the low-precision copy and F.linear taking it), with the kernels emulated on
  /// CPU tensors: the same path as on a GPU except the launch itself.
  /// Makes the fused functions take CPU tensors and run the kernels under the emulator (undo with `emulator = nil`).
  func useEmulator() throws {
    try XCTSkipUnless(try run("g++", ["--version"]).status == 0, "needs g++")
    let dir = Self.work.appendingPathComponent("emulator")
    let fm = FileManager.default
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    for file in ["emulator.h", "trampolines.cpp"] {
      let target = dir.appendingPathComponent(file)
      try? fm.removeItem(at: target)
      try fm.copyItem(at: Self.root.appendingPathComponent("Tests/TorchTests/KernelEmulator/\(file)"), to: target)
    }
    FusedKernels.emulator = dir
  }

  func testTheCLayerAroundTheKernelsRunsUnderTheEmulator() throws {
    try useEmulator()
    defer { FusedKernels.emulator = nil }
    Torch.manualSeed(3)
    let shape = [4, 10, 96]  // 40 rows of 96
    let x = try Tensor.randn(shape).to(dtype: .bfloat16).requiresGrad_(), r = try Tensor.randn(shape).requiresGrad_()
    let w = try Tensor.randn([96]).mul(.double(0.5)).add(.double(1)).requiresGrad_()
    let b = try Tensor.randn([96]).mul(.double(0.1)).requiresGrad_()
    let g = try Tensor.randn(shape), g2 = try Tensor.randn(shape)

    // BERT's case under bfloat16 autocast: a bf16 matmul output on a float32 residual; float32 output and its copy.
    let fused = try withAutocast(.bfloat16, device: .cpu) {
      try FusedKernels.dropoutAddLayerNorm(
        x, residual: r, weight: w, bias: b, eps: 1e-5, p: 0.1, training: true,
        copy: .bfloat16)
    }
    XCTAssertEqual(fused.output.dtype, .float32, "LayerNorm runs in float32 under autocast")
    let copy = try XCTUnwrap(fused.copy)
    XCTAssertTrue(try copy.equal(try fused.output.detach().to(dtype: .bfloat16)), "the copy is the output's cast")
    try fused.output.mul(g).sum().add(try copy.float().mul(g2).sum()).backward()
    let keep = try FusedKernels.unpackMask(fused.mask, rows: 40, columns: 96).view(shape)
    let (x2, r2, w2, b2) = (
      try x.detach().requiresGrad_(), try r.detach().requiresGrad_(),
      try w.detach().requiresGrad_(), try b.detach().requiresGrad_()
    )
    let y = try F.layerNorm(
      FusedKernels.eagerResidualSum(x2, residual: r2, p: 0.1, keep: keep), normalizedShape: [96],
      weight: w2, bias: b2)
    try y.mul(g).sum().add(try y.to(dtype: .bfloat16).float().mul(g2).sum()).backward()
    XCTAssertLessThanOrEqual(try relative(fused.output, y), 1e-5, "output")
    XCTAssertLessThanOrEqual(try relative(x.grad!, x2.grad!), 1e-2, "dx (bfloat16)")
    XCTAssertEqual(x.grad!.dtype, .bfloat16)
    XCTAssertLessThanOrEqual(try relative(r.grad!, r2.grad!), 1e-4, "dresidual")
    XCTAssertLessThanOrEqual(try relative(w.grad!, w2.grad!), 1e-4, "dweight")
    XCTAssertLessThanOrEqual(try relative(b.grad!, b2.grad!), 1e-4, "dbias")

    // No rows: zero weight and bias gradients (the kernel writes no partial sums).
    do {
      let (w0, b0) = (try w.detach().requiresGrad_(), try b.detach().requiresGrad_())
      let empty = try FusedKernels.dropoutAddLayerNorm(
        try Tensor.randn([0, 96]), residual: try Tensor.randn([0, 96]),
        weight: w0, bias: b0, eps: 1e-5, p: 0.1, training: true)
      try empty.output.sum().backward()
      XCTAssertTrue(try w0.grad!.equal(try Tensor.zeros([96])), "dweight of no rows")
      XCTAssertTrue(try b0.grad!.equal(try Tensor.zeros([96])), "dbias of no rows")
    }

    // Through F: the copy rides on the output and F.linear takes it; the same step with eager ops agrees.
    let lin = try Tensor.randn([5, 96]).mul(.double(0.1))
    func step(fusedKernels: Bool) throws -> (out: Tensor, dx: Tensor, dr: Tensor, copied: Bool) {
      FusedKernels.isEnabled = fusedKernels
      defer { FusedKernels.isEnabled = true }
      let (xa, ra) = (try x.detach().requiresGrad_(), try r.detach().requiresGrad_())
      let (out, copied) = try withAutocast(.bfloat16, device: .cpu) { () throws -> (Tensor, Bool) in
        let h = try F.dropoutAddLayerNorm(xa, residual: ra, weight: w, bias: b, p: 0, training: true)
        return (try F.linear(h, weight: lin), h.autocastCopy != nil)
      }
      try out.float().pow(2).sum().backward()
      return (try out.detach(), xa.grad!, ra.grad!, copied)
    }
    let viaKernels = try step(fusedKernels: true), eager = try step(fusedKernels: false)
    XCTAssertTrue(viaKernels.copied, "the fused output carries its copy")
    XCTAssertFalse(eager.copied)
    XCTAssertLessThanOrEqual(try relative(viaKernels.out, eager.out), 1e-2, "linear(LayerNorm(...)) under autocast")
    XCTAssertLessThanOrEqual(try relative(viaKernels.dx, eager.dx), 2e-2, "dx")
    XCTAssertLessThanOrEqual(try relative(viaKernels.dr, eager.dr), 2e-2, "dresidual")

    // dropout(relu) and dropout(gelu) through the C layer.
    for (activation, dtype) in [(FusedKernels.Activation.relu, DType.float32), (.gelu, .bfloat16)] {
      let xa = try Tensor.randn([3, 7, 33]).to(dtype: dtype).requiresGrad_()
      let (out, words) = try FusedKernels.activationDropout(xa, activation: activation, p: 0.25)
      let bits = try FusedKernels.unpackMask(words, rows: 1, columns: 3 * 7 * 33).view([3, 7, 33])
      let dy = try Tensor.randn([3, 7, 33]).to(dtype: dtype)
      try out.mul(dy).sum().backward()
      let xb = try xa.detach().requiresGrad_()
      let ref = try FusedKernels.eagerActivationDropout(xb, activation: activation, p: 0.25, keep: bits)
      try ref.mul(dy).sum().backward()
      let tolerance = dtype == .float32 ? 1e-6 : 1e-2
      XCTAssertLessThanOrEqual(try relative(out, ref), tolerance, "\(activation) output")
      XCTAssertLessThanOrEqual(try relative(xa.grad!, xb.grad!), tolerance, "\(activation) dx")
    }
  }

  /// F.linear through FusedKernels.linear (its bias gradient from the col_sum kernel, one pass and two) against
  /// at::linear: output, and the gradients of input, weight and bias; in float32 and under bfloat16 autocast.
  func testLinearWithTheFusedBiasGradientMatchesEager() throws {
    try useEmulator()
    defer { FusedKernels.emulator = nil }
    Torch.manualSeed(5)
    // (input shape, out features): a ragged column tile; 3-D input; 1,000 rows (two passes: partial sums per split).
    for (shape, n) in [([6, 24], 40), ([4, 5, 24], 72), ([1000, 16], 20)] {
      let k = shape.last!
      let x = try Tensor.randn(shape), w = try Tensor.randn([n, k]).mul(.double(0.2)), b = try Tensor.randn([n])
      let dy = try Tensor.randn(Array(shape.dropLast()) + [n])
      for autocast in [false, true] {
        func step(fused: Bool) throws -> (y: Tensor, dx: Tensor, dw: Tensor, db: Tensor, node: String?) {
          FusedKernels.isEnabled = fused
          defer { FusedKernels.isEnabled = true }
          let (xa, wa, ba) = (
            try x.detach().requiresGrad_(), try w.detach().requiresGrad_(), try b.detach().requiresGrad_()
          )
          let y =
            autocast
            ? try withAutocast(.bfloat16, device: .cpu) { try F.linear(xa, weight: wa, bias: ba) }
            : try F.linear(xa, weight: wa, bias: ba)
          try y.float().mul(dy).sum().backward()
          return (try y.detach(), xa.grad!, wa.grad!, ba.grad!, y.gradFnName)
        }
        let fused = try step(fused: true), eager = try step(fused: false)
        let what = "\(shape) → \(n)\(autocast ? " under autocast" : "")"
        XCTAssertTrue(fused.node?.contains("Linear") ?? false, "\(what): fused node, got \(fused.node ?? "none")")
        XCTAssertFalse(eager.node?.contains("CppNode") ?? true, "\(what): eager node \(eager.node ?? "none")")
        XCTAssertEqual(fused.y.dtype, eager.y.dtype, what)
        XCTAssertEqual(fused.y.shape, eager.y.shape, what)
        for (name, a, e) in [("dx", fused.dx, eager.dx), ("dw", fused.dw, eager.dw), ("db", fused.db, eager.db)] {
          XCTAssertEqual(a.dtype, e.dtype, "\(what) \(name) dtype")
        }
        let tolerance = autocast ? 1e-2 : 1e-5
        XCTAssertLessThanOrEqual(try relative(fused.y, eager.y), tolerance, "\(what) output")
        XCTAssertLessThanOrEqual(try relative(fused.dx, eager.dx), tolerance, "\(what) dx")
        XCTAssertLessThanOrEqual(try relative(fused.dw, eager.dw), tolerance, "\(what) dw")
        XCTAssertLessThanOrEqual(try relative(fused.db, eager.db), tolerance, "\(what) db")
      }
    }
    // A frozen weight with a trained bias: no weight gradient, the same input and bias gradients.
    do {
      let x = try Tensor.randn([50, 12]), w = try Tensor.randn([7, 12]), b = try Tensor.randn([7])
      func run(fused: Bool) throws -> (Tensor, Tensor, Tensor?) {
        FusedKernels.isEnabled = fused
        defer { FusedKernels.isEnabled = true }
        let (xa, ba) = (try x.detach().requiresGrad_(), try b.detach().requiresGrad_())
        let y = try F.linear(xa, weight: w, bias: ba)
        try y.pow(2).sum().backward()
        return (xa.grad!, ba.grad!, w.grad)
      }
      let fused = try run(fused: true), eager = try run(fused: false)
      XCTAssertNil(fused.2)
      XCTAssertLessThanOrEqual(try relative(fused.0, eager.0), 1e-5, "frozen weight: dx")
      XCTAssertLessThanOrEqual(try relative(fused.1, eager.1), 1e-5, "frozen weight: db")
    }
    // A frozen bias, no bias, or mismatched dtypes without autocast: at::linear (its error for the last).
    let x = try Tensor.randn([3, 8]), w = try Tensor.randn([4, 8]), b = try Tensor.randn([4])
    XCTAssertFalse(try F.linear(x.requiresGrad_(), weight: w, bias: b).gradFnName?.contains("CppNode") ?? true)
    XCTAssertThrowsError(try F.linear(x, weight: w.to(dtype: .float64), bias: b.to(dtype: .float64).requiresGrad_()))
    XCTAssertThrowsError(try FusedKernels.linear(x, weight: try Tensor.randn([4, 7]), bias: b)) { error in
      XCTAssertTrue("\(error)".contains("do not fit"), "\(error)")
    }
  }

  func testActivationKernelsMatchEagerOps() throws {
    try checkActivation(n: 1000, dtype: .float32, gelu: false, p: 0.1, tolerance: 1e-6)  // a ragged last word
    try checkActivation(n: 4099, dtype: .bfloat16, gelu: true, p: 0.2, tolerance: 1e-2)
    try checkActivation(n: 3000, dtype: .float16, gelu: false, p: 0.5, tolerance: 1e-3)
  }
}
