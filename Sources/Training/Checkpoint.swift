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

  public func save(step: Int, model: Module, optimizer: Optimizer, scheduler: LambdaLR, state: TrainerState) throws -> String {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let final = directory + "/checkpoint-\(step)"
    let tmp = directory + "/.checkpoint-\(step).partial-\(getpid())"
    try? FileManager.default.removeItem(atPath: tmp)
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    try Torch.saveSafetensors(try model.stateDict(), to: tmp + "/model.safetensors")
    try Torch.saveSafetensors(try optimizer.stateDict(), to: tmp + "/optimizer.safetensors")
    try Torch.saveSafetensors(try scheduler.stateDict(), to: tmp + "/scheduler.safetensors")
    try Torch.saveSafetensors(["cpu": try Torch.rngState()], to: tmp + "/rng.safetensors")
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try enc.encode(state), to: tmp + "/trainer_state.json")
    // Each file was written atomically (fsynced); the folder's entries are made durable before it moves.
    try AtomicFile.syncDirectory(tmp)
    if FileManager.default.fileExists(atPath: final) { discard(final) }
    guard rename(tmp, final) == 0 else { throw TrainingError("cannot move checkpoint into \(final): \(String(cString: strerror(errno)))") }
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
  public static func load(_ path: String, model: Module, optimizer: Optimizer, scheduler: LambdaLR) throws -> TrainerState {
    guard let data = FileManager.default.contents(atPath: path + "/trainer_state.json") else {
      throw TrainingError("\(path) is not a checkpoint (no trainer_state.json)")
    }
    let state: TrainerState
    do { state = try JSONDecoder().decode(TrainerState.self, from: data) } catch {
      throw TrainingError("\(path)/trainer_state.json is not valid: \(error)")
    }
    try model.load(stateDict: try Torch.loadSafetensors(path + "/model.safetensors"))
    try optimizer.load(stateDict: try Torch.loadSafetensors(path + "/optimizer.safetensors"))
    try scheduler.load(stateDict: try Torch.loadSafetensors(path + "/scheduler.safetensors"))
    guard let rng = try Torch.loadSafetensors(path + "/rng.safetensors")["cpu"] else {
      throw TrainingError("\(path)/rng.safetensors has no 'cpu' generator state")
    }
    try Torch.setRNGState(rng)
    return state
  }
}
