import Foundation
import XCTest

@testable import Torch

/// `Profiler` against torch.profiler: the same program recorded on both sides gives the same operator calls.
final class ProfilerTests: XCTestCase {
  /// Three steps of y = relu(x · wᵀ), sum, backward on the CPU.
  func program() throws {
    let x = try Tensor.randn([8, 16]).requiresGrad_()
    let w = try Tensor.randn([4, 16]).requiresGrad_()
    for _ in 0..<3 {
      let y = try x.matmul(try w.t())  // [8, 4]
      try y.relu().sum().backward()
    }
  }

  static let pythonProgram = """
    import json, sys, torch
    from collections import Counter
    from torch.profiler import profile, ProfilerActivity
    x = torch.randn(8, 16).requires_grad_()
    w = torch.randn(4, 16).requires_grad_()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            y = x.matmul(w.t())
            y.relu().sum().backward()
    print(json.dumps(Counter(e.name for e in prof.events())))
    """

  /// Operator names → call counts recorded by torch.profiler for `pythonProgram`.
  func pytorchCounts() throws -> [String: Int] {
    try JSONDecoder().decode([String: Int].self, from: try pythonOutput(Self.pythonProgram))
  }

  func testOperatorCallsMatchTorchProfiler() throws {
    let expected = try pytorchCounts()
    let ((), profile) = try Profiler.profile(activities: .cpu) { try self.program() }
    var counts: [String: Int] = [:]
    for e in profile.events where e.kind == .cpuOp { counts[e.name, default: 0] += 1 }
    // The operators and backward nodes of the program, as PyTorch records them.
    let names = expected.keys.filter {
      ["aten::mm", "aten::matmul", "aten::t", "aten::relu", "aten::sum", "aten::threshold_backward"].contains($0)
        || $0.hasPrefix("autograd::engine::evaluate_function: ")
    }
    XCTAssertTrue(
      names.contains("aten::mm") && names.contains("aten::relu"), "torch.profiler recorded \(expected.keys.sorted())")
    XCTAssertGreaterThanOrEqual(names.count, 8, "torch.profiler recorded \(expected.keys.sorted())")
    for name in names.sorted() {
      XCTAssertEqual(counts[name], expected[name], "calls of \(name) (TorchSwift recorded \(counts.keys.sorted()))")
    }
  }

  func testKeyAveragesSelfTimeAndTable() throws {
    let ((), profile) = try Profiler.profile(activities: .cpu, recordShapes: true) { try self.program() }
    let stats = profile.keyAverages()
    let mm = try XCTUnwrap(stats.first { $0.name == "aten::mm" })
    XCTAssertEqual(mm.count, 9)  // 3 forward + 2 × 3 backward (grad of x and of w)
    XCTAssertGreaterThan(mm.totalUs, 0)
    for s in stats where s.kind == .cpuOp {
      XCTAssertLessThanOrEqual(s.selfUs, s.totalUs + 1e-9, s.name)
      XCTAssertGreaterThanOrEqual(s.selfUs, -1e-9, s.name)
    }
    // matmul calls mm: its self time is less than its total by at least mm's time inside it.
    let matmul = try XCTUnwrap(stats.first { $0.name == "aten::matmul" })
    XCTAssertLessThan(matmul.selfUs, matmul.totalUs)
    let shapes = profile.keyAverages(groupByShape: true).filter { $0.name == "aten::mm" }.map(\.shapes)
    XCTAssertTrue(shapes.contains("[[8, 16], [16, 4]]"), "\(shapes)")
    let table = profile.table(sortBy: .cpuTotal, rowLimit: 5)
    let lines = table.split(separator: "\n").map(String.init)
    let rules = lines.indices.filter { lines[$0].hasPrefix("---") }
    XCTAssertEqual(rules.count, 3, table)
    XCTAssertEqual(rules.last! - rules[1] - 1, 5, "rows: \(table)")
    // Sorted by total CPU time, largest first.
    let totals = stats.filter { $0.kind == .cpuOp }.map(\.totalUs).sorted(by: >)
    XCTAssertTrue(
      lines[rules[1] + 1].contains(String(format: "%.3f", totals[0] >= 1000 ? totals[0] / 1000 : totals[0])), table)
    XCTAssertTrue(table.contains("Self CPU time total:"), table)
  }

  func testChromeTraceHoldsTheOperators() throws {
    let ((), profile) = try Profiler.profile(activities: .cpu) { try self.program() }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("torchswift-trace-\(getpid()).json")
    defer { try? FileManager.default.removeItem(at: path) }
    try profile.exportChromeTrace(to: path.path)
    let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: path)) as? [String: Any]
    let events = try XCTUnwrap(json?["traceEvents"] as? [[String: Any]])
    XCTAssertEqual(events.filter { $0["name"] as? String == "aten::mm" }.count, 9)
    // A second export of the same recording (libtorch serialises it once) writes the same trace.
    let again = path.deletingLastPathComponent().appendingPathComponent("torchswift-trace-again-\(getpid()).json")
    defer { try? FileManager.default.removeItem(at: again) }
    try profile.exportChromeTrace(to: again.path)
    XCTAssertEqual(try Data(contentsOf: again), try Data(contentsOf: path))
    XCTAssertThrowsError(try profile.exportChromeTrace(to: "/nonexistent-dir/trace.json")) { error in
      XCTAssertTrue("\(error)".contains("/nonexistent-dir/trace.json"), "\(error)")
    }
    let ((), fresh) = try Profiler.profile(activities: .cpu) { try self.program() }
    XCTAssertThrowsError(try fresh.exportChromeTrace(to: "/nonexistent-dir/trace.json")) { error in
      XCTAssertTrue("\(error)".contains("/nonexistent-dir/trace.json"), "\(error)")
    }
  }

  /// The file name torch.profiler.tensorboard_trace_handler writes, which TensorBoard's profiler plugin lists.
  func testTensorBoardTraceFile() throws {
    let ((), profile) = try Profiler.profile(activities: .cpu) { try self.program() }
    let logdir = FileManager.default.temporaryDirectory.appendingPathComponent("torchswift-tb-\(getpid())/run1").path
    defer { try? FileManager.default.removeItem(atPath: (logdir as NSString).deletingLastPathComponent) }
    let path = try profile.exportTensorBoardTrace(logdir: logdir, worker: "worker0")
    let name = (path as NSString).lastPathComponent
    XCTAssertEqual((path as NSString).deletingLastPathComponent, logdir)
    XCTAssertTrue(name.hasPrefix("worker0.") && name.hasSuffix(".pt.trace.json"), name)
    let stamp = name.dropFirst("worker0.".count).dropLast(".pt.trace.json".count)
    XCTAssertNotNil(UInt64(stamp), "time stamp in \(name)")
    let json =
      try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    XCTAssertNotNil(json?["traceEvents"] as? [[String: Any]])
    let defaultName = (try profile.exportTensorBoardTrace(logdir: logdir) as NSString).lastPathComponent
    XCTAssertTrue(defaultName.hasPrefix("\(ProcessInfo.processInfo.hostName)_\(getpid())."), defaultName)
  }

  func testMisuseGivesErrors() throws {
    XCTAssertFalse(Profiler.isRunning)
    XCTAssertThrowsError(try Profiler.stop()) { XCTAssertTrue("\($0)".contains("not running"), "\($0)") }
    try Profiler.start(activities: .cpu)
    XCTAssertTrue(Profiler.isRunning)
    XCTAssertThrowsError(try Profiler.start(activities: .cpu)) {
      XCTAssertTrue("\($0)".contains("already running"), "\($0)")
    }
    _ = try Profiler.stop()
    XCTAssertFalse(Profiler.isRunning)
    XCTAssertThrowsError(try Profiler.start(activities: [])) {
      XCTAssertTrue("\($0)".contains("at least one"), "\($0)")
    }
    if !CUDA.isAvailable {
      XCTAssertThrowsError(try Profiler.start(activities: [.cpu, .cuda])) {
        XCTAssertTrue("\($0)".contains("no CUDA device is available") && "\($0)".contains(".available"), "\($0)")
      }
      XCTAssertFalse(Profiler.isRunning)
    }
    // Stopping on another thread is refused (libtorch's recording state lives on the thread that started it).
    try Profiler.start(activities: .cpu)
    var elsewhere: Error? = nil
    let thread = Thread { do { _ = try Profiler.stop() } catch { elsewhere = error } }
    thread.start()
    while !thread.isFinished { usleep(1000) }
    XCTAssertTrue(
      "\(elsewhere.map { "\($0)" } ?? "no error")".contains("thread that started it"),
      "\(String(describing: elsewhere))")
    XCTAssertTrue(Profiler.isRunning)
    _ = try Profiler.stop()
    // An error inside the block stops the recording.
    struct Boom: Error {}
    XCTAssertThrowsError(try Profiler.profile(activities: .cpu) { throw Boom() })
    XCTAssertFalse(Profiler.isRunning)
  }
}

/// `ProfilerSchedule` and `ProfilerSession` against torch.profiler.schedule and profile(schedule=…).step().
final class ProfilerScheduleTests: XCTestCase {
  /// (wait, warmup, active, repeat, skip_first, skip_first_wait)
  static let schedules = [
    (1, 1, 2, 2, 0, 0), (0, 0, 1, 0, 0, 0), (2, 1, 3, 1, 3, 0), (5, 1, 2, 0, 2, 1), (0, 2, 1, 3, 1, 0)
  ]

  func testActionsMatchTorchProfilerSchedule() throws {
    let list = Self.schedules.map { "(\($0.0), \($0.1), \($0.2), \($0.3), \($0.4), \($0.5))" }.joined(separator: ", ")
    let data = try pythonOutput(
      """
      import json, warnings
      warnings.simplefilter("ignore")
      from torch.profiler import schedule
      out = []
      for w, u, a, r, s, sw in [\(list)]:
          f = schedule(wait=w, warmup=u, active=a, repeat=r, skip_first=s, skip_first_wait=sw)
          out.append([f(i).name for i in range(40)])
      print(json.dumps(out))
      """)
    let expected = try JSONDecoder().decode([[String]].self, from: data)
    XCTAssertEqual(expected.count, Self.schedules.count)
    for (params, actions) in zip(Self.schedules, expected) {
      let s = try ProfilerSchedule(
        wait: params.0, warmup: params.1, active: params.2, repeat: params.3,
        skipFirst: params.4, skipFirstWait: params.5 != 0)
      XCTAssertEqual((0..<40).map { s.action(at: $0).rawValue }, actions, "schedule \(params)")
    }
    XCTAssertThrowsError(try ProfilerSchedule(wait: 0, warmup: 0, active: 0)) {
      XCTAssertTrue("\($0)".contains("active"), "\($0)")
    }
    XCTAssertThrowsError(try ProfilerSchedule(wait: -1, warmup: 0, active: 1))
  }

  /// Ten training-like steps under schedule(wait=1, warmup=1, active=2, repeat=2) and one with the last cycle cut by
  /// the end: which ProfilerStep#N ranges and how many aten::mm calls each handed-over recording holds, as PyTorch's.
  func testSessionHandsOverTheSameCyclesAsTorchProfiler() throws {
    let data = try pythonOutput(
      """
      import json, tempfile, torch
      from torch.profiler import profile, schedule, ProfilerActivity
      x = torch.randn(8, 16).requires_grad_()
      w = torch.randn(4, 16).requires_grad_()
      runs = []
      for steps, (wt, wu, a, r) in [(10, (1, 1, 2, 2)), (6, (0, 1, 3, 0))]:
          out = []
          def ready(p):
              names = [e.name for e in p.events()]  # (events() renames ProfilerStep#N to ProfilerStep*)
              with tempfile.TemporaryDirectory() as d:
                  p.export_chrome_trace(d + "/t.json")
                  traced = [e.get("name", "") for e in json.load(open(d + "/t.json"))["traceEvents"]]
              marks = sorted({n for n in traced if n.startswith("ProfilerStep#")}, key=lambda n: int(n.split("#")[1]))
              out.append({"steps": marks, "mm": names.count("aten::mm"), "ranges": names.count("train_step")})
          with profile(activities=[ProfilerActivity.CPU], schedule=schedule(wait=wt, warmup=wu, active=a, repeat=r),
                       on_trace_ready=ready) as p:
              for _ in range(steps):
                  with torch.profiler.record_function("train_step"):
                      y = x.matmul(w.t())
                      y.relu().sum().backward()
                  p.step()
          runs.append(out)
      print(json.dumps(runs))
      """)
    struct Handed: Decodable, Equatable { var steps: [String]; var mm: Int; var ranges: Int }
    let expected = try JSONDecoder().decode([[Handed]].self, from: data)
    let x = try Tensor.randn([8, 16]).requiresGrad_(), w = try Tensor.randn([4, 16]).requiresGrad_()
    for (i, (steps, params)) in [(10, (1, 1, 2, 2)), (6, (0, 1, 3, 0))].enumerated() {
      var handed: [Handed] = []
      let session = ProfilerSession(
        activities: .cpu,
        schedule: try ProfilerSchedule(
          wait: params.0, warmup: params.1, active: params.2, repeat: params.3)
      ) { result in
        let names = result.events.map(\.name)
        let marks = Set(names.filter { $0.hasPrefix("ProfilerStep#") })
          .sorted { Int($0.split(separator: "#")[1])! < Int($1.split(separator: "#")[1])! }
        handed.append(
          Handed(
            steps: marks, mm: names.filter { $0 == "aten::mm" }.count,
            ranges: names.filter { $0 == "train_step" }.count))
        // key_averages groups the step ranges as PyTorch's does.
        XCTAssertEqual(result.keyAverages().first { $0.name == "ProfilerStep*" }?.count, marks.count)
      }
      try session.start()
      for _ in 0..<steps {
        try Profiler.recordFunction("train_step") {
          let y = try x.matmul(try w.t())
          try y.relu().sum().backward()
        }
        try session.step()
      }
      try session.stop()
      XCTAssertFalse(Profiler.isRunning)
      XCTAssertEqual(handed, expected[i], "run \(i): TorchSwift handed over \(handed), PyTorch \(expected[i])")
    }
    let session = ProfilerSession(activities: .cpu, schedule: try ProfilerSchedule(wait: 0, warmup: 0, active: 1)) {
      _ in
    }
    XCTAssertThrowsError(try session.step()) { XCTAssertTrue("\($0)".contains("start()"), "\($0)") }
    // A session that cannot start (another recording runs) leaves that recording alone.
    try Profiler.start(activities: .cpu)
    var handedOver = 0
    let blocked = ProfilerSession(activities: .cpu, schedule: try ProfilerSchedule(wait: 0, warmup: 0, active: 2)) {
      _ in handedOver += 1
    }
    XCTAssertThrowsError(try blocked.start()) { XCTAssertTrue("\($0)".contains("already running"), "\($0)") }
    try blocked.stop()
    XCTAssertTrue(Profiler.isRunning)
    XCTAssertEqual(handedOver, 0)
    let outer = try Profiler.stop()
    XCTAssertFalse(outer.events.contains { $0.name.hasPrefix("ProfilerStep#") }, "the failed session recorded no step")
    // A session dropped in the middle of its warm-up or recording leaves the profiler free.
    for schedule in [
      try ProfilerSchedule(wait: 0, warmup: 3, active: 1), try ProfilerSchedule(wait: 0, warmup: 0, active: 3)
    ] {
      var dropped: ProfilerSession? = ProfilerSession(activities: .cpu, schedule: schedule) { _ in }
      try dropped!.start()
      try dropped!.step()
      dropped = nil
      XCTAssertFalse(Profiler.isRunning)
      let ((), again) = try Profiler.profile(activities: .cpu) { _ = try x.matmul(try w.t()) }
      XCTAssertTrue(again.events.contains { $0.name == "aten::mm" })
    }
  }
}
