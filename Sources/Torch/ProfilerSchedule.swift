import CTorch

extension Profiler {
  /// Labels the work `body` does as one range of the recording (`torch.profiler.record_function(name)`); costs
  /// next to nothing when no recording runs.
  public static func recordFunction<T>(_ name: String, _ body: () throws -> T) throws -> T {
    var handle: UnsafeMutableRawPointer? = nil
    try check(ts_record_function_enter(name, &handle))
    defer { ts_record_function_exit(handle) }
    return try body()
  }
}

/// When a `ProfilerSession` records (`torch.profiler.schedule`): skip `skipFirst` steps, then cycles of `wait` idle
/// steps, `warmup` steps with the tracers running but nothing kept, and `active` recorded steps, handed over after
/// the last of them; `repeat` cycles (0: until the session stops). With `skipFirstWait` the first cycle starts
/// without its wait.
public struct ProfilerSchedule: Sendable, Equatable {
  /// What a step does (`torch.profiler.ProfilerAction`).
  public enum Action: String, Sendable {
    case none = "NONE", warmup = "WARMUP", record = "RECORD", recordAndSave = "RECORD_AND_SAVE"
  }

  public let wait: Int
  public let warmup: Int
  public let active: Int
  public let repeatCount: Int
  public let skipFirst: Int
  public let skipFirstWait: Bool

  public init(
    wait: Int, warmup: Int, active: Int, repeat repeatCount: Int = 0, skipFirst: Int = 0,
    skipFirstWait: Bool = false
  ) throws {
    guard wait >= 0, warmup >= 0, active > 0, repeatCount >= 0, skipFirst >= 0 else {
      throw TorchError(
        "invalid profiler schedule: wait \(wait), warmup \(warmup), active \(active), repeat \(repeatCount), skip_first \(skipFirst) (active must be positive, the rest non-negative)"
      )
    }
    (self.wait, self.warmup, self.active, self.repeatCount, self.skipFirst, self.skipFirstWait) =
      (wait, warmup, active, repeatCount, skipFirst, skipFirstWait)
  }

  /// The action for step `step` (0-based), as the function `torch.profiler.schedule` returns.
  public func action(at step: Int) -> Action {
    guard step >= skipFirst else { return .none }
    var s = step - skipFirst
    if skipFirstWait { s += wait }
    let cycle = wait + warmup + active
    if repeatCount > 0 && s >= repeatCount * cycle { return .none }
    let m = s % cycle
    if m < wait { return .none }
    if m < wait + warmup { return .warmup }
    return m < cycle - 1 ? .record : .recordAndSave
  }
}

/// A profiler driven by training steps (`torch.profiler.profile(schedule=…, on_trace_ready=…)` with `prof.step()`):
/// `start()`, then `step()` after every training step, then `stop()`. It records the steps the schedule says and
/// hands each finished cycle to `onTraceReady` (say, `exportTensorBoardTrace`). Each step is a `ProfilerStep#N`
/// range in the recording, as PyTorch names them.
///
/// ```swift
/// let session = try ProfilerSession(schedule: try ProfilerSchedule(wait: 1, warmup: 1, active: 3, repeat: 1)) {
///   try $0.exportTensorBoardTrace(logdir: "runs/profile")
/// }
/// try session.start()
/// for batch in batches { try trainStep(batch); try session.step() }
/// try session.stop()
/// ```
public final class ProfilerSession {
  public let activities: Profiler.Activity
  public let schedule: ProfilerSchedule
  public let recordShapes: Bool
  public let profileMemory: Bool
  private let onTraceReady: (ProfileResult) throws -> Void
  /// The step now running (0 after `start()`).
  public private(set) var stepNumber = 0
  private var action: ProfilerSchedule.Action = .none
  private var stepRange: UnsafeMutableRawPointer? = nil
  private var running = false
  /// What this session did to the profiler: started its tracers (warm-up), and is recording.
  private var prepared = false
  private var recording = false

  public init(
    activities: Profiler.Activity = .available, schedule: ProfilerSchedule, recordShapes: Bool = false,
    profileMemory: Bool = false, onTraceReady: @escaping (ProfileResult) throws -> Void
  ) {
    self.activities = activities
    self.schedule = schedule
    self.recordShapes = recordShapes
    self.profileMemory = profileMemory
    self.onTraceReady = onTraceReady
  }

  deinit {
    exitStep()
    release()
  }

  /// Ends whatever this session left running in the profiler, dropping it.
  private func release() {
    if prepared && !recording { try? enable() }  // a warm-up is ended by a (discarded) recording, as PyTorch does
    if recording { _ = try? finish() }
    prepared = false
  }

  /// Begins step 0.
  public func start() throws {
    guard !running else { throw TorchError("ProfilerSession.start: the session is already running") }
    stepNumber = 0
    let first = schedule.action(at: 0)
    do {
      try transit(from: .none, to: first)
      try enterStep()
    } catch {
      exitStep()
      release()
      throw error
    }
    action = first
    running = true
  }

  /// Ends the current step and begins the next (`prof.step()`).
  public func step() throws {
    guard running else { throw TorchError("ProfilerSession.step: call start() first") }
    exitStep()
    stepNumber += 1
    let next = schedule.action(at: stepNumber)
    let previous = action
    action = next
    try transit(from: previous, to: next)
    try enterStep()
  }

  /// Ends the session; a cycle in progress is handed over (as PyTorch does on leaving the `with` block).
  public func stop() throws {
    guard running else { return }
    exitStep()
    running = false
    defer { release() }
    try transit(from: action, to: nil)
  }

  private func enterStep() throws {
    try check(ts_record_function_enter("ProfilerStep#\(stepNumber)", &stepRange))
  }

  private func exitStep() {
    if let stepRange { ts_record_function_exit(stepRange) }
    stepRange = nil
  }

  private func prepare() throws {
    try Profiler.prepare(activities, recordShapes: recordShapes, profileMemory: profileMemory)
    prepared = true
  }

  private func enable() throws {
    try Profiler.enable(activities, recordShapes: recordShapes, profileMemory: profileMemory)
    recording = true
  }

  /// Stops this session's recording (never another one) and returns it.
  private func finish() throws -> ProfileResult {
    guard recording else { throw TorchError("ProfilerSession: no recording of this session is running") }
    recording = false
    prepared = false
    try? Profiler.synchronize(activities)  // stop even if the GPU reports an error
    return try Profiler.stop()
  }

  /// PyTorch's action map: what happens between two steps' actions (nil: the session ends).
  private func transit(from previous: ProfilerSchedule.Action, to next: ProfilerSchedule.Action?) throws {
    switch (previous, next) {
    case (.none, .warmup?):
      try prepare()
    case (.none, .record?), (.none, .recordAndSave?):
      try prepare()
      try enable()
    case (.warmup, .none?), (.warmup, nil):
      try enable()
      _ = try finish()  // warm-up only: nothing to keep
    case (.warmup, .record?), (.warmup, .recordAndSave?):
      try enable()
    case (.record, .none?), (.record, .warmup?):
      _ = try finish()  // a cycle cut short by the schedule: dropped, as PyTorch drops it
    case (.record, nil), (.recordAndSave, nil), (.recordAndSave, .none?):
      try onTraceReady(try finish())
    case (.recordAndSave, .warmup?):
      try onTraceReady(try finish())
      try prepare()
    case (.recordAndSave, .record?), (.recordAndSave, .recordAndSave?):
      try onTraceReady(try finish())
      try prepare()
      try enable()
    default:
      break  // none → none/end, warmup → warmup, record → record/recordAndSave
    }
  }
}
