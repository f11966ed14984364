import CTorch
import Foundation

/// libtorch's profiler (Kineto), as `torch.profiler.profile`: records the operators a block of code calls and, on
/// CUDA, the kernels, copies and fills the GPU ran (through CUPTI), then summarises them (`keyAverages`, `table`)
/// or writes a Chrome trace that Perfetto, `chrome://tracing` and TensorBoard's profiler plugin open.
///
/// ```swift
/// let (loss, profile) = try Profiler.profile { try step(batch) }   // activities: .available (CPU, plus CUDA if present)
/// print(profile.table(sortBy: .deviceTotal, rowLimit: 15))
/// try profile.exportChromeTrace(to: "trace.json")
/// ```
/// Autograd's backward threads are recorded too. One recording runs at a time, started and stopped on the same thread.
public enum Profiler {
  /// What to record (`torch.profiler.ProfilerActivity`).
  public struct Activity: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Operator calls on the host.
    public static let cpu = Activity(rawValue: 1)
    /// Kernels, copies and fills on CUDA devices, and the CUDA runtime calls that queued them.
    public static let cuda = Activity(rawValue: 2)
    /// `.cpu`, plus `.cuda` when a CUDA device is present.
    public static var available: Activity { CUDA.isAvailable ? [.cpu, .cuda] : [.cpu] }
  }

  /// Whether a recording is running (in this process).
  public static var isRunning: Bool {
    var on: UInt8 = 0
    return ts_profiler_is_running(&on) == 0 && on != 0
  }

  /// Starts a recording; end it with `stop()` on the same thread. `recordShapes` keeps each operator's input shapes.
  public static func start(
    activities: Activity = .available, recordShapes: Bool = false,
    profileMemory: Bool = false
  ) throws {
    try prepare(activities, recordShapes: recordShapes, profileMemory: profileMemory)
    try enable(activities, recordShapes: recordShapes, profileMemory: profileMemory)
  }

  /// Starts the tracers without keeping anything (a schedule's warm-up); `enable` then starts the recording.
  static func prepare(_ activities: Activity, recordShapes: Bool, profileMemory: Bool) throws {
    // Checked here, before libtorch's tracer asks the CUDA driver (and prints its own errors) on a CPU-only machine.
    if activities.contains(.cuda) && !CUDA.isAvailable {
      throw TorchError(
        "the profiler cannot record .cuda: no CUDA device is available here; use activities: .available (the default: .cpu, plus .cuda when a GPU is present) or .cpu"
      )
    }
    try quietingKinetoOnCPUOnlyMachines {
      try check(
        ts_profiler_prepare(
          activities.contains(.cpu) ? 1 : 0, activities.contains(.cuda) ? 1 : 0,
          recordShapes ? 1 : 0, profileMemory ? 1 : 0))
    }
  }

  nonisolated(unsafe) private static var kinetoQuieted: Set<String> = []

  /// With a CUDA build of libtorch and no driver, Kineto's first start prints
  /// `ERROR: … DeviceProperties.cpp:47] gpuGetDeviceCount failed with code 35` (once per process; CPU recording
  /// works). That first start runs with standard error sent to /dev/null; failures come back as errors regardless.
  private static func quietingKinetoOnCPUOnlyMachines<T>(_ call: String = #function, _ body: () throws -> T) throws
    -> T
  {
    guard !kinetoQuieted.contains(call), Torch.cudaBuildVersions != nil, !CUDA.isAvailable else { return try body() }
    kinetoQuieted.insert(call)
    FileHandle.standardError.synchronizeFile()
    let saved = dup(2)
    let null = open("/dev/null", O_WRONLY)
    guard saved >= 0, null >= 0 else {
      if saved >= 0 { close(saved) }
      if null >= 0 { close(null) }
      return try body()
    }
    dup2(null, 2)
    close(null)
    defer {
      dup2(saved, 2)
      close(saved)
    }
    return try body()
  }

  static func enable(_ activities: Activity, recordShapes: Bool, profileMemory: Bool) throws {
    try quietingKinetoOnCPUOnlyMachines {
      try check(
        ts_profiler_enable(
          activities.contains(.cpu) ? 1 : 0, activities.contains(.cuda) ? 1 : 0,
          recordShapes ? 1 : 0, profileMemory ? 1 : 0))
    }
  }

  /// Waits for every CUDA device when `activities` records them, so that their work is in the recording.
  static func synchronize(_ activities: Activity) throws {
    if activities.contains(.cuda) { for d in 0..<CUDA.deviceCount { try CUDA.synchronize(d) } }
  }

  /// Ends the recording and returns it (GPU events are complete once the GPU work has finished: synchronise first).
  public static func stop() throws -> ProfileResult {
    var raw: UnsafeMutableRawPointer? = nil
    var count: Int64 = 0
    try quietingKinetoOnCPUOnlyMachines { try check(ts_profiler_stop(&raw, &count)) }
    return ProfileResult(adopting: raw!, count: Int(count))
  }

  /// Records `body` (synchronising CUDA devices before the recording ends) and returns its result with the recording.
  public static func profile<T>(
    activities: Activity = .available, recordShapes: Bool = false,
    profileMemory: Bool = false, _ body: () throws -> T
  ) throws -> (T, ProfileResult) {
    try start(activities: activities, recordShapes: recordShapes, profileMemory: profileMemory)
    let value: T
    do {
      value = try body()
      try synchronize(activities)
    } catch {
      _ = try? stop()
      throw error
    }
    return (value, try stop())
  }
}

/// One recorded event (`torch.autograd.profiler_util.FunctionEvent` / a Kineto activity).
public struct ProfileEvent: Sendable {
  /// What kind of activity it is.
  public enum Kind: Int32, Sendable {
    /// An operator (or other recorded scope) on the host, such as `aten::addmm`.
    case cpuOp = 0
    /// A `record_function`-style annotation.
    case userAnnotation = 1
    /// A GPU kernel.
    case kernel = 2
    /// A copy on the GPU (host↔device or device↔device).
    case memcpy = 3
    /// A fill on the GPU.
    case memset = 4
    /// A CUDA runtime or driver call on the host (a kernel launch, a synchronisation).
    case runtime = 5
    /// A point event on the host (such as a memory allocation with `profileMemory`).
    case instant = 6
    case other = 7

    /// Whether the activity ran on the GPU.
    public var onDevice: Bool { self == .kernel || self == .memcpy || self == .memset }
  }

  public var name: String
  public var kind: Kind
  /// Input shapes as text (`[[8, 16], [16]]`), empty unless recorded with `recordShapes`.
  public var shapes: String
  /// The device the event ran on (the GPU for device activity).
  public var device: Device
  /// Host thread of a host event.
  public var thread: Int64
  /// Start and duration in nanoseconds (start on the profiler's clock).
  public var startNs: Int64
  public var durationNs: Int64
  /// CUDA correlation id that links a launch on the host to the kernel it queued.
  public var correlation: Int64
  /// Autograd's sequence number of a forward operator, shared with its backward (−1 when none).
  public var sequenceNr: Int64
  /// Bytes allocated (positive) or freed (negative), for memory events.
  public var bytes: Int64
}

/// A finished recording (`torch.profiler.profile` after the block).
public final class ProfileResult {
  private let raw: UnsafeMutableRawPointer
  /// Every recorded event in the order libtorch returns them.
  public let events: [ProfileEvent]

  init(adopting raw: UnsafeMutableRawPointer, count: Int) {
    self.raw = raw
    let base = ts_profile_events(raw)
    let all = (0..<count).map { i in
      let e = base![i]
      return ProfileEvent(
        name: String(cString: e.name), kind: ProfileEvent.Kind(rawValue: e.kind) ?? .other,
        shapes: String(cString: e.shapes),
        device: (try? Device(typeCode: e.device_type, index: max(e.device_index, 0))) ?? .cpu,
        thread: e.thread, startNs: e.start_ns, durationNs: e.duration_ns, correlation: e.correlation,
        sequenceNr: e.sequence_nr, bytes: e.bytes)
    }
    events = Self.removingRedispatches(all)
  }

  /// Parent of each host operator or annotation: the innermost one on the same thread whose interval holds it.
  static func parents(_ events: [ProfileEvent]) -> [Int?] {
    var parent = [Int?](repeating: nil, count: events.count)
    var byThread: [Int64: [Int]] = [:]
    for (i, e) in events.enumerated() where e.kind == .cpuOp || e.kind == .userAnnotation {
      byThread[e.thread, default: []].append(i)
    }
    for (_, list) in byThread {
      // Parents first: earlier start, and for equal starts the longer event.
      let order = list.sorted {
        let a = events[$0], b = events[$1]
        return a.startNs != b.startNs ? a.startNs < b.startNs : a.durationNs > b.durationNs
      }
      var stack: [Int] = []
      for i in order {
        let e = events[i]
        while let top = stack.last, events[top].startNs + events[top].durationNs <= e.startNs { stack.removeLast() }
        parent[i] = stack.last
        stack.append(i)
      }
    }
    return parent
  }

  /// Drops an operator that is the only child of an operator with the same name (a dispatcher redispatch, such as
  /// `aten::sum` calling its `dim_IntList` overload), as torch.profiler's event list does.
  static func removingRedispatches(_ events: [ProfileEvent]) -> [ProfileEvent] {
    var current = events
    while true {
      let parent = parents(current)
      var children = [Int](repeating: 0, count: current.count)
      for p in parent { if let p { children[p] += 1 } }
      let drop = Set(
        current.indices.filter { i in
          guard let p = parent[i] else { return false }
          return current[p].name == current[i].name && children[p] == 1
        })
      if drop.isEmpty { return current }
      current = current.indices.filter { !drop.contains($0) }.map { current[$0] }
    }
  }

  deinit { ts_profile_free(raw) }

  /// Where the trace was first written: libtorch serialises a recording once, later exports copy that file.
  private var firstExport: String? = nil

  /// Writes the recording as a Chrome trace (JSON), as `prof.export_chrome_trace(path)`; may be called again.
  public func exportChromeTrace(to path: String) throws {
    if let first = firstExport {
      guard first != path else { return }
      do {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.copyItem(atPath: first, toPath: path)
      } catch {
        throw TorchError(
          "cannot write the profiler trace '\(path)' (copying the first export '\(first)', which libtorch wrote; a recording is serialised once): \(error.localizedDescription)"
        )
      }
      return
    }
    // libtorch reports no error for a path it cannot open (and serialises a recording only once): try it first.
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw TorchError(
        "cannot write the profiler trace '\(path)': cannot create the file (does its folder exist, and is it writable?)"
      )
    }
    do {
      try check(ts_profile_save(raw, path))
    } catch {
      throw TorchError("cannot write the profiler trace '\(path)': \(error)")
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    guard size > 0 else { throw TorchError("cannot write the profiler trace '\(path)': libtorch wrote nothing") }
    firstExport = path
  }

  /// Writes the trace where TensorBoard's profiler plugin (torch-tb-profiler) looks, as
  /// `torch.profiler.tensorboard_trace_handler(logdir, worker_name)`: `<logdir>/<worker>.<time in ns>.pt.trace.json`,
  /// the worker defaulting to `<host>_<pid>`. Creates `logdir`; returns the file's path.
  @discardableResult
  public func exportTensorBoardTrace(logdir: String, worker: String? = nil) throws -> String {
    do {
      try FileManager.default.createDirectory(atPath: logdir, withIntermediateDirectories: true)
    } catch {
      throw TorchError("cannot create the profiler log folder '\(logdir)': \(error.localizedDescription)")
    }
    let name = worker ?? "\(ProcessInfo.processInfo.hostName)_\(getpid())"
    let nanoseconds = UInt64(Date().timeIntervalSince1970 * 1e9)
    let path = (logdir as NSString).appendingPathComponent("\(name).\(nanoseconds).pt.trace.json")
    try exportChromeTrace(to: path)
    return path
  }

  /// Total GPU time in microseconds: kernels, copies and fills.
  public var deviceTimeTotalUs: Double {
    Double(events.filter { $0.kind.onDevice }.reduce(0) { $0 + $1.durationNs }) / 1e3
  }

  /// Events grouped by name (and kind, and with `groupByShape` input shapes), as `prof.key_averages()`:
  /// host operators carry total and self time (total less the operators they called on the same thread), device
  /// activities their GPU time.
  public func keyAverages(groupByShape: Bool = false) -> [ProfileStat] {
    let selfNs = selfTimes()
    var index: [String: Int] = [:]
    var stats: [ProfileStat] = []
    for (i, e) in events.enumerated() {
      // ProfilerSession's per-step ranges count as one name, as in torch.profiler's key_averages.
      let name = e.name.hasPrefix("ProfilerStep#") ? "ProfilerStep*" : e.name
      let key = "\(e.kind.rawValue)\u{1}\(name)\u{1}\(groupByShape ? e.shapes : "")"
      let j: Int
      if let k = index[key] {
        j = k
      } else {
        j = stats.count
        index[key] = j
        stats.append(
          ProfileStat(
            name: name, kind: e.kind, shapes: groupByShape ? e.shapes : "", count: 0,
            totalUs: 0, selfUs: 0))
      }
      stats[j].count += 1
      stats[j].totalUs += Double(e.durationNs) / 1e3
      stats[j].selfUs += Double(selfNs[i]) / 1e3
    }
    return stats
  }

  /// Self time of each event: for host operators and annotations, the duration less that of the events directly
  /// nested in it on the same thread; for other events, the duration.
  private func selfTimes() -> [Int64] {
    var selfNs = events.map(\.durationNs)
    for (i, p) in Self.parents(events).enumerated() { if let p { selfNs[p] -= events[i].durationNs } }
    return selfNs
  }

  /// Columns `table` can sort by.
  public enum SortKey: Sendable {
    /// Host time including nested operators (`cpu_time_total`).
    case cpuTotal
    /// Host time excluding nested operators (`self_cpu_time_total`).
    case cpuSelf
    /// GPU time (`device_time_total`, per kernel name).
    case deviceTotal
    case count
  }

  /// A text table of `keyAverages` (as `key_averages().table(sort_by:, row_limit:)`): host operators with their
  /// total and self time, GPU kernels, copies and fills with their device time; CUDA runtime calls are left out.
  public func table(sortBy: SortKey = .cpuTotal, rowLimit: Int = 20, groupByShape: Bool = false) -> String {
    let stats = keyAverages(groupByShape: groupByShape).filter { $0.kind != .runtime && $0.kind != .instant }
    func value(_ s: ProfileStat) -> Double {
      switch sortBy {
      case .cpuTotal: return s.kind.onDevice ? -1 : s.totalUs
      case .cpuSelf: return s.kind.onDevice ? -1 : s.selfUs
      case .deviceTotal: return s.kind.onDevice ? s.totalUs : -1
      case .count: return Double(s.count)
      }
    }
    let rows = stats.sorted { value($0) > value($1) }.prefix(max(rowLimit, 0))
    let hostSelf = stats.filter { !$0.kind.onDevice }.reduce(0) { $0 + $1.selfUs }
    let device = stats.filter { $0.kind.onDevice }.reduce(0) { $0 + $1.totalUs }
    func us(_ v: Double) -> String { v >= 1000 ? String(format: "%.3fms", v / 1000) : String(format: "%.3fus", v) }
    func pct(_ v: Double, of total: Double) -> String { total > 0 ? String(format: "%.2f%%", 100 * v / total) : "–" }
    let nameWidth = min(max(rows.map { $0.name.count }.max() ?? 4, 4), 70)
    func clip(_ s: String) -> String { s.count <= nameWidth ? s : String(s.prefix(nameWidth - 3)) + "..." }
    var header = ["Name", "Self CPU %", "Self CPU", "CPU total", "Device total", "Device %", "Calls"]
    if groupByShape { header.append("Input shapes") }
    var lines: [[String]] = []
    for s in rows {
      var cells = [clip(s.name)]
      if s.kind.onDevice {
        cells += ["", "", "", us(s.totalUs), pct(s.totalUs, of: device), "\(s.count)"]
      } else {
        cells += [pct(s.selfUs, of: hostSelf), us(s.selfUs), us(s.totalUs), "", "", "\(s.count)"]
      }
      if groupByShape { cells.append(s.shapes) }
      lines.append(cells)
    }
    var widths = header.map(\.count)
    for l in lines { for (k, c) in l.enumerated() { widths[k] = max(widths[k], c.count) } }
    func format(_ cells: [String]) -> String {
      cells.enumerated().map { k, c in
        let pad = String(repeating: " ", count: widths[k] - c.count)
        return k == 0 || k == cells.count - 1 && groupByShape ? c + pad : pad + c
      }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    var out = [rule, format(header), rule] + lines.map(format) + [rule]
    out.append("Self CPU time total: \(us(hostSelf))")
    if stats.contains(where: { $0.kind.onDevice }) { out.append("Self device time total: \(us(device))") }
    return out.joined(separator: "\n") + "\n"
  }
}

/// Totals for one name (and kind, and shapes): a row of `keyAverages`.
public struct ProfileStat: Sendable {
  public var name: String
  public var kind: ProfileEvent.Kind
  /// Input shapes when grouped by shape, else empty.
  public var shapes: String
  public var count: Int
  /// Summed duration in microseconds (host time for host events, GPU time for device activity).
  public var totalUs: Double
  /// Summed duration less nested host operators, in microseconds (equal to `totalUs` for device activity).
  public var selfUs: Double
  /// Mean duration per call in microseconds.
  public var averageUs: Double { count > 0 ? totalUs / Double(count) : 0 }
}
