/// A whole training step captured once in a CUDA graph and then replayed, as
/// `torch.compile(mode="reduce-overhead")` does, with an eager fallback.
///
/// ```swift
/// let step = try CUDAGraphStep(example: [ids, labels]) { batch in
///   try optimizer.zeroGrad()
///   let loss = try withAutocast(.bfloat16, device: .cuda(0), cacheEnabled: false) { try lossOf(model, batch) }
///   try loss.backward()
///   try optimizer.step()            // fused AdamW: its step counts live on the GPU
///   return [loss]
/// }
/// for batch in batches {
///   let loss = try step([batch.ids, batch.labels])[0]   // copied into the captured inputs, then one replay
/// }
/// ```
///
/// Building it runs the step `warmup` times on the example inputs on a side stream (these are real steps:
/// they update the model, as in PyTorch's recipe), then captures one. Each call copies its inputs into the
/// captured ones and replays; the returned outputs are the captured tensors, overwritten by the next call
/// (clone what you keep). The step runs eagerly instead — and `mode` says why — when the inputs are not on a
/// CUDA device or capture fails (an op that reads a value on the host, such as `item()`, or a CPU tensor);
/// a call whose inputs differ in shape, dtype or device from the example's also runs eagerly
/// (`eagerCalls` counts them). Inside the step, turn the autocast cache off (`cacheEnabled: false`) and keep
/// optimizer state on the GPU; shapes, devices and memory addresses are fixed at capture.
public final class CUDAGraphStep {
  public enum Mode: Equatable {
    case graph
    case eager(reason: String)
  }

  public private(set) var mode: Mode
  /// The captured input tensors (graph mode) that each call copies its inputs into.
  public let staticInputs: [Tensor]
  /// Calls that replayed the graph, and calls that ran the step eagerly.
  public private(set) var replays = 0
  public private(set) var eagerCalls = 0

  private let body: ([Tensor]) throws -> [Tensor]
  private var graph: CUDAGraph?
  private var staticOutputs: [Tensor] = []

  public init(example inputs: [Tensor], warmup: Int = 3, _ body: @escaping ([Tensor]) throws -> [Tensor]) throws {
    self.body = body
    guard !inputs.isEmpty else {
      staticInputs = []
      mode = .eager(reason: "no input tensors to capture")
      return
    }
    guard inputs.allSatisfy({ $0.device.isCUDA }) else {
      staticInputs = inputs
      mode = .eager(reason: "inputs are not all on a CUDA device")
      return
    }
    guard CUDA.hasCUDAExtensions else {
      staticInputs = inputs
      mode = .eager(reason: "the C layer was built without CUDA headers (no CUDA graphs)")
      return
    }
    staticInputs = try inputs.map { try $0.clone() }
    do {
      var outputs: [Tensor] = []
      let captured = staticInputs
      graph = try CUDAGraph.make(warmup: warmup) { outputs = try body(captured) }
      staticOutputs = outputs
      mode = .graph
    } catch {
      graph = nil
      mode = .eager(reason: "capture failed: \(error)")
    }
  }

  /// Whether `inputs` can be copied into the captured ones.
  func matchesCapture(_ inputs: [Tensor]) -> Bool {
    inputs.count == staticInputs.count
      && zip(inputs, staticInputs).allSatisfy { $0.shape == $1.shape && $0.dtype == $1.dtype && $0.device == $1.device }
  }

  /// Runs one step on `inputs` and returns the step's outputs.
  @discardableResult
  public func callAsFunction(_ inputs: [Tensor]) throws -> [Tensor] {
    guard let graph, matchesCapture(inputs) else {
      eagerCalls += 1
      return try body(inputs)
    }
    for (dst, src) in zip(staticInputs, inputs) where dst !== src { try dst.copy_(src, nonBlocking: true) }
    try graph.replay()
    replays += 1
    return staticOutputs
  }
}
