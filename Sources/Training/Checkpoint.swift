import FileIO
import Foundation
import NN
import Optim
import Torch

/// Training state that is not a tensor, stored as `trainer_state.json` in a checkpoint.
public struct TrainerState: Codable, Equatable {
  /// Optimizer steps taken.
  public var globalStep: Int
  /// Epoch to continue in and the next batch index inside it.
  public var epoch: Int
  public var nextBatch: Int
  public var bestMetric: Double?
  public var bestStep: Int?
  public var elapsedSeconds: Double
  /// Identifies the data, model and settings; resuming with different ones is refused.
  public var fingerprint: String
  public var scaler: [String: Double]
  public var samplesSeen: Int
  /// The distributed job that wrote it (nil: one process): its strategy and world size. A `fsdp` checkpoint
  /// holds one optimizer shard per rank (`optimizer-rank<R>-of-<W>.safetensors`) and resumes only with the
  /// same world size; model, scheduler and RNG are the full, rank-independent ones.
  public var distributed: String? = nil
  public var worldSize: Int? = nil
}

/// Checkpoints in `<dir>/checkpoint-<step>/` (model, optimizer, scheduler, RNG as safetensors + state JSON),
/// written atomically: everything goes to a temporary folder, each file is fsynced, and the folder is
/// renamed into place, so a write killed midway never leaves a checkpoint that fails to load. The last
/// `keep` checkpoints are kept.
public struct Checkpointer {
  public let directory: String
  public let keep: Int

  public init(directory: String, keep: Int) {
    self.directory = directory
    self.keep = max(1, keep)
  }

  public func save(step: Int, model: Module, optimizer: Optimizer, scheduler: LambdaLR, state: TrainerState) throws
    -> String
  {
    let tmp = try stage(step: step)
    try Self.write(
      to: tmp, model: try model.stateDict(), optimizer: try optimizer.stateDict(), rngFile: "rng.safetensors",
      scheduler: scheduler, state: state)
    return try commit(step: step, staged: tmp)
  }

  /// Creates the temporary folder a checkpoint is written into (`tag` makes it unique to the writing job; the
  /// process that commits must be the one whose pid ends it, so that pruning keeps it).
  public func stage(step: Int, tag: String = "\(getpid())") throws -> String {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let tmp = directory + "/.checkpoint-\(step).partial-\(tag)"
    try? FileManager.default.removeItem(atPath: tmp)
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    return tmp
  }

  /// Writes model, optimizer (into `optimizerFile`), scheduler, this process's RNG (into `rngFile`) and state
  /// files into a staged folder; a nil argument leaves that file to another writer (another rank).
  public static func write(
    to dir: String, model: [String: Tensor]?, optimizer: [String: Tensor]?,
    optimizerFile: String = "optimizer.safetensors", rngFile: String?, scheduler: LambdaLR?,
    state: TrainerState?
  ) throws {
    if let model { try Torch.saveSafetensors(model, to: dir + "/model.safetensors") }
    if let optimizer { try Torch.saveSafetensors(optimizer, to: dir + "/" + optimizerFile) }
    if let scheduler { try Torch.saveSafetensors(try scheduler.stateDict(), to: dir + "/scheduler.safetensors") }
    if let rngFile { try Torch.saveSafetensors(["cpu": try Torch.rngState()], to: dir + "/" + rngFile) }
    guard let state else { return }
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    // trainer_state.json marks a checkpoint complete (`list`), so it is written last by the committing process.
    try AtomicFile.write(try enc.encode(state), to: dir + "/trainer_state.json")
  }

  /// Moves a fully written staged folder into place as `checkpoint-<step>` and prunes old ones.
  public func commit(step: Int, staged tmp: String) throws -> String {
    let final = directory + "/checkpoint-\(step)"
    // Each file was written atomically (fsynced, by whichever rank wrote it); the folder's entries are made
    // durable before it moves.
    try AtomicFile.syncDirectory(tmp)
    if FileManager.default.fileExists(atPath: final) { discard(final) }
    guard rename(tmp, final) == 0 else {
      throw TrainingError("cannot move checkpoint into \(final): \(String(cString: strerror(errno)))")
    }
    try AtomicFile.syncDirectory(directory)
    try prune()
    return final
  }

  /// Completed checkpoints, oldest first.
  public func list() -> [(step: Int, path: String)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.compactMap { n -> (Int, String)? in
      guard n.hasPrefix("checkpoint-"), let s = Int(n.dropFirst("checkpoint-".count)) else { return nil }
      let p = directory + "/" + n
      return FileManager.default.fileExists(atPath: p + "/trainer_state.json") ? (s, p) : nil
    }.sorted { $0.0 < $1.0 }
  }

  public var latest: String? { list().last?.path }

  /// Deletes a checkpoint folder so that a kill midway never leaves a half-deleted `checkpoint-N` behind:
  /// it is first renamed out of the listed names (one atomic step), then removed; a later prune removes
  /// what a killed process left.
  private func discard(_ path: String) {
    let trash = directory + "/.checkpoint-discarded-\(UUID().uuidString)-\(getpid())"
    if rename(path, trash) == 0 { try? FileManager.default.removeItem(atPath: trash) }
  }

  private func prune() throws {
    let all = list()
    for c in all.dropLast(keep) { discard(c.path) }
    // Leftovers of writes that were killed midway.
    for n in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where n.hasPrefix(".checkpoint-") {
      if !n.hasSuffix("-\(getpid())") { try? FileManager.default.removeItem(atPath: directory + "/" + n) }
    }
  }

  /// Restores model, optimizer, scheduler and RNG from `path`; returns the trainer state.
  public static func load(_ path: String, model: Module, optimizer: Optimizer, scheduler: LambdaLR) throws
    -> TrainerState
  {
    let state = try loadState(path)
    try loadModel(path, into: model)
    try loadRest(path, optimizer: optimizer, scheduler: scheduler)
    return state
  }

  /// The trainer state of a checkpoint (nothing else is read).
  public static func loadState(_ path: String) throws -> TrainerState {
    guard let data = FileManager.default.contents(atPath: path + "/trainer_state.json") else {
      throw TrainingError("\(path) is not a checkpoint (no trainer_state.json)")
    }
    do { return try JSONDecoder().decode(TrainerState.self, from: data) } catch {
      throw TrainingError("\(path)/trainer_state.json is not valid: \(error)")
    }
  }

  /// The model's weights from a checkpoint.
  public static func loadModel(_ path: String, into model: Module) throws {
    try model.load(stateDict: try Torch.loadSafetensors(path + "/model.safetensors"))
  }

  /// Optimizer (from `optimizerFile`), scheduler and RNG (from `rngFile`: each rank has its own, as dropout
  /// draws as many numbers as its batches have elements) from a checkpoint.
  public static func loadRest(
    _ path: String, optimizer: Optimizer, optimizerFile: String = "optimizer.safetensors",
    rngFile: String = "rng.safetensors", scheduler: LambdaLR
  ) throws {
    let file = path + "/" + optimizerFile
    guard FileManager.default.fileExists(atPath: file) else { throw TrainingError("\(path) has no \(optimizerFile)") }
    try optimizer.load(stateDict: try Torch.loadSafetensors(file))
    try scheduler.load(stateDict: try Torch.loadSafetensors(path + "/scheduler.safetensors"))
    guard FileManager.default.fileExists(atPath: path + "/" + rngFile) else {
      throw TrainingError("\(path) has no \(rngFile)")
    }
    guard let rng = try Torch.loadSafetensors(path + "/" + rngFile)["cpu"] else {
      throw TrainingError("\(path)/\(rngFile) has no 'cpu' generator state")
    }
    try Torch.setRNGState(rng)
  }
}
