import NN
import Torch

/// Linear layers that read the same input (q/k/v, gate/up), run as one GEMM when no gradient is recorded.
///
/// The layers' weights (and biases) become views of one merged tensor, so fusing costs no memory and the layers
/// keep their own parameters and checkpoint keys. The merge is redone whenever a layer's weight no longer lies in
/// the merged tensor (after loading, `Module.to`, or assigning new data). The layers are read from their owner on
/// every call, so a layer replaced in the module tree (e.g. by a `QuantizedLinear`) is the one that runs; quantized
/// layers run one by one.
final class FusedProjection {
  /// The layers as they are now (an adapter may have replaced one since).
  let current: () -> [Linear]
  private var layers: [Linear] = []
  private var weight: Tensor?
  private var bias: Tensor?

  init(_ layers: @escaping () -> [Linear]) { current = layers }

  /// Output sizes of the layers, in order (how to split the fused output).
  var sizes: [Int] { layers.map(\.outFeatures) }

  private var isCurrent: Bool {
    guard let weight else { return false }
    var offset = 0
    let rowBytes = weight.shape[1] * weight.dtype.byteSize
    for l in layers {
      guard let base = weight.dataPointer, l.weight.dataPointer == base + offset * rowBytes else { return false }
      offset += l.outFeatures
    }
    return true
  }

  private func merge() throws {
    let hasBias = layers.allSatisfy { $0.bias != nil }
    try withNoGrad {
      let w = try Tensor.cat(layers.map(\.weight))  // [Σout, in]
      let b = hasBias ? try Tensor.cat(layers.map { $0.bias! }) : nil  // [Σout]
      var offset = 0
      for l in layers {
        try l.weight.setData(w.narrow(dim: 0, start: offset, length: l.outFeatures))
        if let b { try l.bias!.setData(b.narrow(dim: 0, start: offset, length: l.outFeatures)) }
        offset += l.outFeatures
      }
      weight = w
      bias = b
    }
  }

  /// The layers' outputs for `x` `[*, in]`: one GEMM when fusable, else each layer on its own.
  func callAsFunction(_ x: Tensor) throws -> [Tensor] {
    let now = current()
    // Only plain `Linear` layers fuse: a subclass (a LoRA or quantized layer) computes something else.
    guard now.allSatisfy({ type(of: $0) == Linear.self }) else { return try now.map { try $0(x) } }
    if !(now.count == layers.count && zip(now, layers).allSatisfy { $0 === $1 }) {
      layers = now
      weight = nil
      bias = nil
    }
    let sameBiases = layers.allSatisfy { $0.bias == nil } || layers.allSatisfy { $0.bias != nil }
    let sameDTypes = layers.allSatisfy { $0.weight.dtype == layers[0].weight.dtype }
    guard !Autograd.isGradEnabled, sameBiases, sameDTypes else {
      return try layers.map { try $0(x) }
    }
    if !isCurrent { try merge() }
    let y = try F.linear(x, weight: weight!, bias: bias)  // [*, Σout]
    return try y.split(sizes: sizes, dim: -1)
  }
}
