import CTorch

// Autograd: gradients, graph control and grad modes (thread-local in libtorch, so the closures run synchronously).
extension Tensor {
  /// Accumulates d(self)/d(leaf) into each leaf's `grad` (`tensor.backward()`).
  /// `gradient` is required for non-scalar tensors, as in PyTorch.
  public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
    var ts: [ts_tensor?] = [handle]
    var gs: [ts_tensor?] = [gradient?.handle]
    try withExtendedLifetime(gradient) {
      try check(ts_backward(&ts, 1, &gs, retainGraph ? 1 : 0, createGraph ? 1 : 0))
    }
  }

  /// The accumulated gradient, or nil.
  public var grad: Tensor? {
    get {
      var out: ts_tensor? = nil
      guard ts_tensor_grad(&out, handle) == 0, let out else { return nil }
      return Tensor(taking: out)
    }
    set { trapping { try check(ts_tensor_set_grad(handle, newValue?.handle)) } }
  }

  public var requiresGrad: Bool {
    var b: UInt8 = 0
    query { ts_tensor_requires_grad(handle, &b) }
    return b != 0
  }

  /// Sets `requires_grad` in place and returns self (`tensor.requires_grad_()`); throws for non-float
  /// tensors and for non-leaves asked to stop requiring grad, as PyTorch does.
  @discardableResult
  public func requiresGrad_(_ flag: Bool = true) throws -> Tensor {
    try check(ts_tensor_set_requires_grad(handle, flag ? 1 : 0))
    return self
  }

  public var isLeaf: Bool {
    var b: UInt8 = 0
    query { ts_tensor_is_leaf(handle, &b) }
    return b != 0
  }

  /// Name of the autograd node that produced this tensor ("AddBackward0"), or nil for leaves.
  public var gradFnName: String? {
    var p: UnsafeMutablePointer<CChar>? = nil
    guard ts_tensor_grad_fn_name(handle, &p) == 0, let p else { return nil }
    defer { ts_free(p) }
    let s = String(cString: p)
    return s.isEmpty ? nil : s
  }

  /// A tensor sharing storage but cut from the graph.
  public func detach() throws -> Tensor { try ATen.detach(self) }
  @discardableResult public func detach_() throws -> Tensor { _ = try ATen.detach_(self); return self }

  /// Replaces the data behind this tensor (keeping its identity for autograd and optimizers), as `p.data = new`.
  public func setData(_ other: Tensor) throws { try check(ts_tensor_set_data(handle, other.handle)) }
}

public enum Autograd {
  /// `torch.autograd.grad`: gradients of `outputs` with respect to `inputs` (nil for unused inputs when allowed).
  public static func grad(
    outputs: [Tensor], inputs: [Tensor], gradOutputs: [Tensor?]? = nil, retainGraph: Bool = false,
    createGraph: Bool = false, allowUnused: Bool = false
  ) throws -> [Tensor?] {
    let os: [ts_tensor?] = outputs.map { $0.handle }
    let gs: [ts_tensor?] = (gradOutputs ?? Array(repeating: nil, count: outputs.count)).map { $0?.handle }
    guard gs.count == os.count else {
      throw TorchError("grad: got \(gs.count) gradOutputs for \(os.count) outputs")
    }
    let ins: [ts_tensor?] = inputs.map { $0.handle }
    var out = [ts_tensor?](repeating: nil, count: inputs.count)
    try withExtendedLifetime((outputs, inputs, gradOutputs)) {
      try check(
        ts_autograd_grad(
          &out, os, Int64(os.count), gs, ins, Int64(ins.count), retainGraph ? 1 : 0,
          createGraph ? 1 : 0, allowUnused ? 1 : 0))
    }
    return out.map { $0.map { Tensor(taking: $0) } }
  }

  /// Whether operations record a graph on this thread.
  public static var isGradEnabled: Bool {
    var b: UInt8 = 0
    _ = ts_grad_enabled(&b)
    return b != 0
  }

  public static var isInferenceMode: Bool {
    var b: UInt8 = 0
    _ = ts_inference_mode_enabled(&b)
    return b != 0
  }

  static func setGradEnabled(_ on: Bool) { _ = ts_set_grad_enabled(on ? 1 : 0) }
}

/// Runs `body` without recording gradients (`with torch.no_grad():`), restoring the previous mode after.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
  let prev = Autograd.isGradEnabled
  Autograd.setGradEnabled(false)
  defer { Autograd.setGradEnabled(prev) }
  return try body()
}

/// Runs `body` with gradients recorded (`with torch.enable_grad():`).
public func withEnableGrad<R>(_ body: () throws -> R) rethrows -> R {
  let prev = Autograd.isGradEnabled
  Autograd.setGradEnabled(true)
  defer { Autograd.setGradEnabled(prev) }
  return try body()
}

/// Runs `body` in inference mode (`with torch.inference_mode():`): no graph, no version counters.
public func withInferenceMode<R>(_ body: () throws -> R) throws -> R {
  var guardPtr: UnsafeMutableRawPointer? = nil
  try check(ts_inference_mode_enter(&guardPtr))
  defer { ts_inference_mode_exit(guardPtr) }
  return try body()
}

extension Tensor {
  /// The address of the first element (`tensor.data_ptr()`): two tensors with the same address and layout share
  /// their data.
  public var dataPointer: UnsafeMutableRawPointer? {
    var ptr: UnsafeMutableRawPointer? = nil
    _ = ts_tensor_data_ptr(handle, &ptr)
    return ptr
  }
}
