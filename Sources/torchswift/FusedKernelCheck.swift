import Torch

/// gpu-selftest's checks of TorchSwift's fused CUDA kernels against the eager ops they replace, with the
/// kernels' own dropout masks: outputs and every gradient, for the dtype mixes the models produce (float32;
/// bfloat16 matmul outputs on a float32 residual under autocast; all half precision), the masks' keep rate,
/// fresh masks per call and per CUDA-graph replay.
enum FusedKernelCheck {
  /// max |a − b| / max |b| over all elements, in float64.
  static func relativeError(_ a: Tensor, _ b: Tensor) throws -> Double {
    let a64 = try a.to(dtype: .float64), b64 = try b.to(dtype: .float64)
    let scale = max(try b64.abs().max().item(Double.self), 1e-30)
    return try (a64 - b64).abs().max().item(Double.self) / scale
  }

  static func expect(_ what: String, _ error: Double, _ tolerance: Double) throws {
    guard error <= tolerance, !error.isNaN else {
      throw SelftestError("\(what): relative error \(String(format: "%.2e", error)) > \(tolerance)")
    }
  }

  static func keepRate(_ mask: Tensor, among: Tensor? = nil) throws -> Double {
    guard let among else { return try mask.to(dtype: .float64).mean().item(Double.self) }
    let kept = try mask.logicalAnd(among).to(dtype: .float64).sum().item(Double.self)
    return kept / max(try among.to(dtype: .float64).sum().item(Double.self), 1)
  }

  /// LayerNorm(residual + dropout(x)): fused vs eager with the fused kernel's mask. Under autocast the kernel
  /// also writes the bfloat16 copy of its output; it must equal the cast of the output, and gradients
  /// through both (as when a matmul takes the copy and the residual path the output) must match eager's.
  static func dropoutAddLayerNorm(
    _ dev: Device, rows: Int, d: Int, x xType: DType, residual rType: DType,
    weight wType: DType, autocast: Bool, p: Double, tolerance: (y: Double, grad: Double)
  ) throws -> String {
    let x = try Tensor.randn([rows, d], device: dev).to(dtype: xType).requiresGrad_()
    let r = try Tensor.randn([rows, d], device: dev).to(dtype: rType).requiresGrad_()
    let w = try Tensor.randn([d], device: dev).mul(.double(0.5)).add(.double(1)).to(dtype: wType).requiresGrad_()
    let b = try Tensor.randn([d], device: dev).mul(.double(0.1)).to(dtype: wType).requiresGrad_()
    let fused =
      try autocast
      ? withAutocast(.bfloat16, device: dev) {
        try FusedKernels.dropoutAddLayerNorm(
          x, residual: r, weight: w, bias: b, eps: 1e-5, p: p, training: true,
          copy: .bfloat16)
      }
      : FusedKernels.dropoutAddLayerNorm(x, residual: r, weight: w, bias: b, eps: 1e-5, p: p, training: true)
    let y = fused.output
    let keep =
      p > 0
      ? try FusedKernels.unpackMask(fused.mask, rows: rows, columns: d)  // [rows, d]
      : try Tensor.ones([rows, d], dtype: .bool, device: dev)
    let g = try Tensor.randn([rows, d], device: dev), g2 = try Tensor.randn([rows, d], device: dev)
    var loss = try y.float().mul(g).sum()
    if let copy = fused.copy {
      guard copy.dtype == .bfloat16, try copy.equal(try y.detach().to(dtype: .bfloat16)) else {
        throw SelftestError("the bfloat16 copy is not the cast of the output")
      }
      loss = try loss.add(try copy.float().mul(g2).sum())
    } else if autocast {
      throw SelftestError("no bfloat16 copy under autocast")
    }
    try loss.backward()

    let (x2, r2, w2, b2) = (
      try x.detach().requiresGrad_(), try r.detach().requiresGrad_(),
      try w.detach().requiresGrad_(), try b.detach().requiresGrad_()
    )
    let sum = try FusedKernels.eagerResidualSum(x2, residual: r2, p: p, keep: keep)
    let yRef =
      autocast
      ? try F.layerNorm(sum.float(), normalizedShape: [d], weight: w2.float(), bias: b2.float(), eps: 1e-5)
      : try F.layerNorm(sum, normalizedShape: [d], weight: w2, bias: b2, eps: 1e-5)
    var lossRef = try yRef.float().mul(g).sum()
    if autocast { lossRef = try lossRef.add(try yRef.to(dtype: .bfloat16).float().mul(g2).sum()) }
    try lossRef.backward()
    guard y.dtype == yRef.dtype else { throw SelftestError("output dtype \(y.dtype), eager gives \(yRef.dtype)") }
    try expect("output", try relativeError(y, yRef), tolerance.y)
    for (name, a, e) in [("dx", x, x2), ("dresidual", r, r2), ("dweight", w, w2), ("dbias", b, b2)] {
      guard let ga = a.grad, let ge = e.grad else { throw SelftestError("\(name) missing") }
      guard ga.dtype == ge.dtype else { throw SelftestError("\(name) dtype \(ga.dtype), eager gives \(ge.dtype)") }
      try expect(name, try relativeError(ga, ge), tolerance.grad)
    }
    let rate = try keepRate(keep)
    guard abs(rate - (1 - p)) < 0.01 else {
      throw SelftestError(String(format: "kept %.4f of elements, expected %.2f", rate, 1 - p))
    }
    return String(format: "keep %.3f", rate)
  }

  /// dropout(activation(x)): fused vs eager with the fused kernel's mask.
  static func activationDropout(
    _ dev: Device, shape: [Int], dtype: DType, activation: FusedKernels.Activation, p: Double,
    tolerance: Double
  ) throws -> String {
    let x = try Tensor.randn(shape, device: dev).to(dtype: dtype).requiresGrad_()
    let (y, words) = try FusedKernels.activationDropout(x, activation: activation, p: p)
    let n = shape.reduce(1, *)
    let bits = try FusedKernels.unpackMask(words, rows: 1, columns: n).view(shape)
    let g = try Tensor.randn(shape, device: dev).to(dtype: dtype)
    try y.mul(g).sum().backward()
    let x2 = try x.detach().requiresGrad_()
    let yRef = try FusedKernels.eagerActivationDropout(x2, activation: activation, p: p, keep: bits)
    try yRef.mul(g).sum().backward()
    try expect("output", try relativeError(y, yRef), tolerance)
    guard let gx = x.grad, let gr = x2.grad else { throw SelftestError("dx missing") }
    try expect("dx", try relativeError(gx, gr), tolerance)
    let rate: Double
    if activation == .relu {
      let positive = try x.detach().gt(.double(0))
      guard try !bits.logicalAnd(try positive.logicalNot()).any().item(Bool.self) else {
        throw SelftestError("relu mask has bits where x <= 0")
      }
      rate = try keepRate(bits, among: positive)
    } else {
      rate = try keepRate(bits)
    }
    guard abs(rate - (1 - p)) < 0.01 else {
      throw SelftestError(String(format: "kept %.4f, expected %.2f", rate, 1 - p))
    }
    return String(format: "keep %.3f", rate)
  }

  /// F.linear through the fused Linear (bias gradient from the col_sum kernel) vs at::linear: output and the
  /// gradients of input, weight and bias.
  static func linear(_ dev: Device, rows: Int, k: Int, n: Int, autocast: Bool, tolerance: Double) throws -> String {
    let x = try Tensor.randn([rows, k], device: dev)
    let w = try Tensor.randn([n, k], device: dev).mul(.double(0.05)), b = try Tensor.randn([n], device: dev)
    let g = try Tensor.randn([rows, n], device: dev)
    func step(fused: Bool) throws -> [Tensor] {
      FusedKernels.isEnabled = fused
      defer { FusedKernels.isEnabled = true }
      let (xa, wa, ba) = (
        try x.detach().requiresGrad_(), try w.detach().requiresGrad_(), try b.detach().requiresGrad_()
      )
      let y =
        autocast
        ? try withAutocast(.bfloat16, device: dev) { try F.linear(xa, weight: wa, bias: ba) }
        : try F.linear(xa, weight: wa, bias: ba)
      guard (y.gradFnName ?? "").contains("Linear") == fused else {
        throw SelftestError("F.linear (fused kernels \(fused ? "on" : "off")) recorded \(y.gradFnName ?? "no node")")
      }
      try y.float().mul(g).sum().backward()
      return [try y.detach(), xa.grad!, wa.grad!, ba.grad!]
    }
    let fused = try step(fused: true), eager = try step(fused: false)
    for (name, (a, e)) in zip(["output", "dx", "dweight", "dbias"], zip(fused, eager)) {
      guard a.dtype == e.dtype else { throw SelftestError("linear \(name) dtype \(a.dtype), eager gives \(e.dtype)") }
      try expect("linear \(name)", try relativeError(a, e), tolerance)
    }
    return "\(rows)x\(k)→\(n)"
  }

  /// All checks; returns a one-line summary.
  static func run(_ dev: Device) throws -> String {
    guard FusedKernels.status.available else {
      throw SelftestError("fused kernels unavailable: \(FusedKernels.status.detail)")
    }
    var parts: [String] = [FusedKernels.status.detail]
    let f32 = (y: 1e-5, grad: 1e-4), half = (y: 1e-2, grad: 2e-2)
    parts.append(
      "LN f32 "
        + (try dropoutAddLayerNorm(
          dev, rows: 4096, d: 512, x: .float32, residual: .float32,
          weight: .float32, autocast: false, p: 0.1, tolerance: f32)))
    parts.append(
      "LN autocast bf16+f32 "
        + (try dropoutAddLayerNorm(
          dev, rows: 4096, d: 768, x: .bfloat16, residual: .float32,
          weight: .float32, autocast: true, p: 0.1,
          tolerance: (y: 1e-5, grad: 1e-2))))
    parts.append(
      "LN bf16 "
        + (try dropoutAddLayerNorm(
          dev, rows: 1000, d: 384, x: .bfloat16, residual: .bfloat16,
          weight: .bfloat16, autocast: false, p: 0.1, tolerance: half)))
    parts.append(
      "LN f16 d=1000 "
        + (try dropoutAddLayerNorm(
          dev, rows: 333, d: 1000, x: .float16, residual: .float16,
          weight: .float16, autocast: false, p: 0.3, tolerance: half)))
    parts.append(
      "LN f32 p=0 d=33 "
        + (try dropoutAddLayerNorm(
          dev, rows: 77, d: 33, x: .float32, residual: .float32,
          weight: .float32, autocast: false, p: 0, tolerance: f32)))
    parts.append(
      "relu f32 "
        + (try activationDropout(
          dev, shape: [4096, 2048], dtype: .float32, activation: .relu, p: 0.1,
          tolerance: 1e-6)))
    parts.append(
      "relu bf16 odd "
        + (try activationDropout(
          dev, shape: [37, 1001], dtype: .bfloat16, activation: .relu, p: 0.1,
          tolerance: 1e-2)))
    parts.append(
      "gelu f16 "
        + (try activationDropout(
          dev, shape: [2048, 3072], dtype: .float16, activation: .gelu, p: 0.1,
          tolerance: 1e-2)))
    // TF32 off for float32 (both sides use the same cuBLAS call, but compare at float32 precision).
    let savedTF32 = Backends.allowTF32Matmul
    Backends.allowTF32Matmul = false
    defer { Backends.allowTF32Matmul = savedTF32 }
    parts.append("linear f32 " + (try linear(dev, rows: 8192, k: 512, n: 2048, autocast: false, tolerance: 1e-4)))
    parts.append("linear autocast " + (try linear(dev, rows: 16384, k: 768, n: 768, autocast: true, tolerance: 2e-2)))
    parts.append("linear short " + (try linear(dev, rows: 100, k: 64, n: 50, autocast: false, tolerance: 1e-4)))
    // Fresh masks per call, the same masks after the same seed.
    let x = try Tensor.ones([256, 1024], device: dev)
    Torch.manualSeed(5)
    let m1 = try FusedKernels.activationDropout(x, activation: .relu, p: 0.5).output
    let m2 = try FusedKernels.activationDropout(x, activation: .relu, p: 0.5).output
    Torch.manualSeed(5)
    let m3 = try FusedKernels.activationDropout(x, activation: .relu, p: 0.5).output
    guard try !m1.equal(m2), try m1.equal(m3) else {
      throw SelftestError("masks: two calls must differ and manualSeed must repeat them")
    }
    parts.append("masks fresh per call, repeated by manualSeed")
    // CUDA graph: each replay draws new masks from the generator's advancing offset.
    let step = try CUDAGraphStep(example: [x], warmup: 2) { batch in
      [try FusedKernels.activationDropout(batch[0], activation: .relu, p: 0.5).output]
    }
    guard step.mode == .graph else {
      throw SelftestError("capturing the fused kernel fell back to eager: \(step.mode)")
    }
    let r1 = try step([x])[0].clone(), r2 = try step([x])[0].clone()
    let rate = try keepRate(r1.ne(.double(0)))
    guard try !r1.equal(r2), abs(rate - 0.5) < 0.02 else {
      throw SelftestError(String(format: "graph replays: masks repeated or keep rate %.3f (expected 0.5)", rate))
    }
    parts.append("graph replays draw fresh masks")
    return parts.joined(separator: "; ")
  }
}
