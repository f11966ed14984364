import Foundation
import Torch

/// Micro-batching on one dedicated thread (libtorch's grad mode is per thread): requests arriving within
/// `window` seconds of the first are run together, up to `maxBatchSize` items, by `run` under no-grad; each
/// request gets its own outputs back. Used by the embedding and classification endpoints.
final class BatchWorker<Input: Sendable, Output: Sendable>: @unchecked Sendable {
  typealias Completion = @Sendable (Result<[Output], Error>) -> Void
  private struct Job {
    var inputs: [Input]
    var done: Completion
  }

  let maxBatchSize: Int
  let maxQueue: Int
  let window: Double
  private let run: ([Input]) throws -> [Output]
  private let condition = NSCondition()
  private var jobs: [Job] = []
  private var stopping = false
  private var exited = false
  /// Called after each batch with its size (items) and seconds.
  var onBatch: (@Sendable (Int, Double) -> Void)?

  init(maxBatchSize: Int, maxQueue: Int, window: Double, run: @escaping ([Input]) throws -> [Output]) {
    self.maxBatchSize = maxBatchSize
    self.maxQueue = maxQueue
    self.window = window
    self.run = run
  }

  var queued: Int {
    condition.lock()
    defer { condition.unlock() }
    return jobs.count
  }

  func start() {
    let t = Thread { [self] in
      withNoGrad { loop() }
      condition.lock()
      exited = true
      condition.broadcast()
      condition.unlock()
    }
    t.stackSize = 8 << 20
    t.name = "torchswift-batch"
    t.start()
  }

  /// Runs every queued job, then ends the thread (and waits for it).
  func shutdown() {
    condition.lock()
    stopping = true
    condition.broadcast()
    while !exited { condition.wait() }
    condition.unlock()
  }

  /// The outputs for `inputs` (in order). Throws `QueueFullError` when `maxQueue` requests are waiting.
  func submit(_ inputs: [Input]) async throws -> [Output] {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Output], Error>) in
      condition.lock()
      if jobs.count >= maxQueue || stopping {
        condition.unlock()
        c.resume(throwing: APIError.queueFull(maxQueue))
        return
      }
      jobs.append(Job(inputs: inputs) { c.resume(with: $0) })
      condition.broadcast()
      condition.unlock()
    }
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty && !stopping { condition.wait() }
      if jobs.isEmpty && stopping {
        condition.unlock()
        return
      }
      // Wait up to `window` for more work to join the batch.
      let deadline = Date().addingTimeInterval(window)
      while jobs.reduce(0, { $0 + $1.inputs.count }) < maxBatchSize && !stopping {
        if !condition.wait(until: deadline) { break }
      }
      var batch: [Job] = []
      var count = 0
      while let first = jobs.first, batch.isEmpty || count + first.inputs.count <= maxBatchSize {
        batch.append(jobs.removeFirst())
        count += first.inputs.count
      }
      condition.unlock()
      let start = Date()
      let result = Result { try run(batch.flatMap(\.inputs)) }
      onBatch?(count, Date().timeIntervalSince(start))
      var offset = 0
      for job in batch {
        let n = job.inputs.count
        job.done(result.map { Array($0[offset..<offset + n]) })
        offset += n
      }
    }
  }
}
