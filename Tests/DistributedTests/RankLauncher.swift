import Foundation
import ReferenceTesting
import XCTest

/// Starts the ranks of a distributed job (the Swift `DistributedWorker`, PyTorch's `Fixtures/reference.py`, or
/// any command such as torchrun) as child processes on 127.0.0.1, and makes sure none outlives its test.
///
/// - every job gets a free port (bound to port 0 by the kernel) and is relaunched on a new one when a rank
///   reports the address in use;
/// - every process has a deadline (`deadline` seconds from its start) after which it and its descendants are
///   killed and the test fails;
/// - stdout and stderr go to files (no pipe to fill up, nothing to deadlock);
/// - the test's teardown kills whatever is still running, also when an assertion or a throw ended it early.
final class RankLauncher {
  enum Program {
    /// `.build/<config>/DistributedWorker`, built beside the test bundle.
    case worker
    /// `Tests/DistributedTests/Fixtures/reference.py` with the reference Python (torch.distributed).
    case reference
  }

  let deadline: TimeInterval
  private let directory: URL
  private var processes: [RankProcess] = []
  private var counter = 0

  init(_ test: XCTestCase, deadline: TimeInterval = 60) throws {
    self.deadline = deadline
    directory = try ReferenceTools.temporaryDirectory(test)
    test.addTeardownBlock { [self] in killAll() }
  }

  static let fixtures = ReferenceTools.packageRoot.appendingPathComponent("Tests/DistributedTests/Fixtures")

  /// The worker executable: the test runner (…/debug/TorchSwiftPackageTests.xctest) lives beside the products.
  static func workerPath() throws -> String {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let path = runner.deletingLastPathComponent().appendingPathComponent("DistributedWorker").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw LaunchFailure("DistributedWorker not found at \(path): build with `swift build --build-tests` (make build)")
    }
    return path
  }

  /// The environment every child starts from: this one without any distributed variables of its own, one
  /// thread per process, loopback Gloo, the package's libtorch on the library path.
  static func baseEnvironment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for key in env.keys
    where [
      "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR",
      "MASTER_PORT"
    ].contains(key) || key.hasPrefix("TORCHELASTIC_") {
      env[key] = nil
    }
    env["OMP_NUM_THREADS"] = "1"
    env["GLOO_SOCKET_IFNAME"] = "lo"
    env["PYTHONUNBUFFERED"] = "1"
    let lib = ReferenceTools.packageRoot.appendingPathComponent(".torchswift/lib").path
    env["LD_LIBRARY_PATH"] = lib + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    return env
  }

  /// Starts `world` ranks of `program` with `arguments` on a fresh port (RANK, WORLD_SIZE, LOCAL_RANK,
  /// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set; `env` added, `rankEnv` per rank on top).
  func start(
    _ program: Program, _ arguments: [String], world: Int = 2, env: [String: String] = [:],
    rankEnv: [Int: [String: String]] = [:]
  ) throws -> Job {
    let job = Job(launcher: self, name: "\(program)-\(arguments.first ?? "")") { [self] job, port in
      try (0..<world).map { rank in
        var e = env
        e["RANK"] = "\(rank)"
        e["LOCAL_RANK"] = "\(rank)"
        e["WORLD_SIZE"] = "\(world)"
        e["LOCAL_WORLD_SIZE"] = "\(world)"
        e["MASTER_ADDR"] = "127.0.0.1"
        e["MASTER_PORT"] = "\(port)"
        e.merge(rankEnv[rank] ?? [:]) { $1 }
        return try spawn(program, arguments, env: e, label: "\(job.name)-rank\(rank)")
      }
    }
    try job.launch()
    return job
  }

  /// Starts one process of `program` without any distributed variables beyond `env` (a single-process run,
  /// or a bad environment).
  func startSingle(_ program: Program, _ arguments: [String], env: [String: String] = [:]) throws -> Job {
    try startCommand(nil, program: program, arguments, env: env)
  }

  /// Starts one process of an arbitrary executable (torchrun); `arguments` may use the port it is given.
  func startCommand(
    _ executable: String?, program: Program = .worker, _ arguments: [String],
    env: [String: String] = [:], usesPort: ((Int) -> [String])? = nil
  ) throws -> Job {
    let job = Job(
      launcher: self, name: "\((executable as NSString?)?.lastPathComponent ?? "\(program)")-\(arguments.first ?? "")"
    ) {
      [self] job, port in
      let args = usesPort.map { $0(port) } ?? arguments
      if let executable {
        return [try spawn(path: executable, args, env: env, label: job.name)]
      }
      return [try spawn(program, args, env: env, label: job.name)]
    }
    try job.launch()
    return job
  }

  private func spawn(_ program: Program, _ arguments: [String], env: [String: String], label: String) throws
    -> RankProcess
  {
    switch program {
    case .worker: return try spawn(path: try Self.workerPath(), arguments, env: env, label: label)
    case .reference:
      return try spawn(
        path: try ReferenceTools.python(), [Self.fixtures.appendingPathComponent("reference.py").path] + arguments,
        env: env, label: label)
    }
  }

  private func spawn(path: String, _ arguments: [String], env: [String: String], label: String) throws -> RankProcess {
    counter += 1
    let out = directory.appendingPathComponent("\(counter)-\(label).out")
    let err = directory.appendingPathComponent("\(counter)-\(label).err")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    p.environment = Self.baseEnvironment().merging(env) { $1 }
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    let rp = RankProcess(label: label, process: p, stdoutURL: out, stderrURL: err)
    p.terminationHandler = { _ in rp.markEnded() }
    try p.run()
    rp.started = Date()
    processes.append(rp)
    return rp
  }

  /// Kills every process this launcher started that still runs, with its descendants (torchrun's workers).
  func killAll() {
    for p in processes where p.process.isRunning { p.kill() }
  }
}

/// A job's processes; `wait` enforces the deadline and relaunches on a port clash.
final class Job {
  let name: String
  private unowned let launcher: RankLauncher
  private let make: (Job, Int) throws -> [RankProcess]
  private(set) var ranks: [RankProcess] = []
  private(set) var port = 0
  private var attempts = 0

  init(launcher: RankLauncher, name: String, make: @escaping (Job, Int) throws -> [RankProcess]) {
    self.launcher = launcher
    self.name = name
    self.make = make
  }

  func launch() throws {
    attempts += 1
    port = try ChildProcesses.freePort()
    ranks = try make(self, port)
  }

  /// Waits until every process has exited, killing all of them and throwing when one is still running at its
  /// deadline. When a process failed because the port was taken meanwhile, the job runs again on a new one.
  func wait() throws {
    try wait(for: ranks, stopOnPortClash: true)
    if attempts < 3, ranks.contains(where: { !$0.process.isRunning && $0.status != 0 && $0.portClash }) {
      ranks.forEach { $0.kill() }  // the others would wait for the store in vain
      try launch()
      try wait()
    }
  }

  /// Waits for `processes` (some of this job's) only, with the same deadline.
  func wait(for processes: [RankProcess], stopOnPortClash: Bool = false) throws {
    while true {
      let running = processes.filter { $0.process.isRunning }
      if running.isEmpty { return }
      if stopOnPortClash && attempts < 3
        && processes.contains(where: { !$0.process.isRunning && $0.status != 0 && $0.portClash })
      {
        return
      }
      if let late = running.first(where: { Date().timeIntervalSince($0.started) > launcher.deadline }) {
        ranks.forEach { $0.kill() }
        throw LaunchFailure(
          "\(late.label) still running after \(Int(launcher.deadline)) s: killed the job.\n"
            + ranks.map { $0.transcript }.joined(separator: "\n"))
      }
      Thread.sleep(forTimeInterval: 0.02)
    }
  }

  /// Waits, then requires every process to have exited with status 0; returns each one's JSON lines.
  @discardableResult
  func succeed() throws -> [[[String: Any]]] {
    try wait()
    for r in ranks where r.status != 0 || r.signaled {
      throw LaunchFailure(
        "\(r.label) failed (\(r.exitDescription)).\n" + ranks.map { $0.transcript }.joined(separator: "\n"))
    }
    return ranks.map(\.jsonLines)
  }
}

/// One child process with its output in files.
final class RankProcess {
  let label: String
  let process: Process
  let stdoutURL: URL
  let stderrURL: URL
  fileprivate(set) var started = Date()
  private(set) var killed = false
  private let lock = NSLock()
  private var endedAt: Date?

  init(label: String, process: Process, stdoutURL: URL, stderrURL: URL) {
    self.label = label
    self.process = process
    self.stdoutURL = stdoutURL
    self.stderrURL = stderrURL
  }

  var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
  var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
  var status: Int32 { process.terminationStatus }
  /// Ended by a signal (a crash, or our kill) rather than by exit().
  var signaled: Bool { process.terminationReason == .uncaughtSignal }
  var exitDescription: String { signaled ? "signal \(status)" : "exit \(status)" }

  fileprivate func markEnded() { lock.withLock { endedAt = endedAt ?? Date() } }

  /// When the process exited (nil while it runs).
  var ended: Date? {
    if !process.isRunning { markEnded() }
    return lock.withLock { endedAt }
  }

  /// Seconds from start to exit (to now while it runs).
  var elapsed: TimeInterval { (ended ?? Date()).timeIntervalSince(started) }

  /// The stdout lines that are JSON objects (Gloo prints its own plain lines too).
  var jsonLines: [[String: Any]] {
    stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  var portClash: Bool {
    let e = stderr.lowercased()
    return e.contains("address already in use") || e.contains("eaddrinuse")
  }

  var transcript: String {
    "--- \(label) (\(process.isRunning ? "running" : exitDescription)) stdout:\n\(stdout.suffix(3000))\n--- \(label) stderr:\n\(stderr.suffix(3000))"
  }

  /// SIGKILL to the process and every descendant (collected first, so none is reparented away), by pid.
  func kill() {
    guard process.isRunning else { return }
    let pid = process.processIdentifier
    let tree = [pid] + ChildProcesses.descendants(of: pid)
    killed = true
    for p in tree.reversed() { _ = Glibc.kill(p, SIGKILL) }
    process.waitUntilExit()
  }
}

struct LaunchFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Numeric comparison helpers for the JSON the ranks print.
enum Compare {
  static func doubles(_ any: Any?) -> [Double]? {
    if let a = any as? [Double] { return a }
    if let a = any as? [NSNumber] { return a.map(\.doubleValue) }
    if let a = any as? [Any] { return a.compactMap { ($0 as? NSNumber)?.doubleValue } }
    return nil
  }

  /// The largest absolute difference; fails the test (naming `what`) when shapes differ.
  static func maxDiff(_ a: [Double], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line)
    -> Double
  {
    XCTAssertEqual(a.count, b.count, "\(what): lengths differ", file: file, line: line)
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }
}
