import Foundation
import ReferenceTesting
import XCTest

/// Launches `torchrun --no-python … torchswift …` for the distributed fine-tuning tests: on 127.0.0.1, on a
/// free port, with a deadline, its workers' output in per-rank files, and every process it started (the
/// agent and its workers, which torchrun puts in sessions of their own) killed when the test is done.
final class Torchrun {
  let process: Process
  let logDir: String
  /// Set in every process of this launch, so that stray workers are found even if the agent died.
  let tag = UUID().uuidString
  private let output = LockedData()
  private let reader: Thread

  /// `torchrunArgs` go before the program (e.g. `--max-restarts 1`); `args` to `torchswift`.
  init(nproc: Int = 2, torchrunArgs: [String] = [], _ args: [String], cache: String, logDir: String) throws {
    let torchrun = TrainEnv.root + "/.venv/bin/torchrun"
    guard FileManager.default.isExecutableFile(atPath: torchrun) else {
      throw XCTSkip("torchrun not found at \(torchrun): run make setup")
    }
    self.logDir = logDir
    try? FileManager.default.removeItem(atPath: logDir)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: torchrun)
    p.arguments =
      [
        "--no-python", "--nproc-per-node", "\(nproc)", "--rdzv-backend", "c10d",
        "--rdzv-endpoint", "127.0.0.1:\(try ChildProcesses.freePort())", "--log-dir", logDir, "--redirects", "3",
        "--monitor-interval", "0.2"
      ] + torchrunArgs + [try TrainEnv.binary()] + args
    var env = ProcessInfo.processInfo.environment
    env["TORCHSWIFT_CACHE"] = cache
    env["TORCHSWIFT_HOME"] = TrainEnv.root
    env["LD_LIBRARY_PATH"] = TrainEnv.root + "/.torchswift/lib" + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    env["OMP_NUM_THREADS"] = "1"
    env["TORCHSWIFT_TEST_LAUNCH"] = tag
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    process = p
    let output = output
    reader = Thread {
      let h = pipe.fileHandleForReading
      while true {
        let d = h.availableData
        if d.isEmpty { break }
        output.append(d)
      }
    }
    try p.run()
    reader.start()
  }

  deinit { killAll() }

  /// The agent's own output (its warnings, the workers' failures).
  var agentOutput: String { output.string }

  /// Waits for the agent to exit (killing everything after `timeout` seconds); returns its exit status.
  @discardableResult
  func wait(timeout: Double) -> Int32 {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(50_000) }
    if process.isRunning {
      killAll()
      XCTFail(
        "torchrun did not finish within \(timeout) s; killed it and its workers\n\(agentOutput)\n\(workerOutput())")
    }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// What the workers wrote (stdout and stderr) in `attempt`, per local rank.
  func workerOutput(rank: Int, attempt: Int = 0) -> String {
    let fm = FileManager.default
    guard let run = (try? fm.contentsOfDirectory(atPath: logDir))?.first else { return "" }
    let dir = "\(logDir)/\(run)/attempt_\(attempt)/\(rank)"
    return ["stdout.log", "stderr.log"].map { (try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)) ?? "" }
      .joined(separator: "\n")
  }

  /// Every worker's output, for failure messages.
  func workerOutput() -> String {
    (0..<3).flatMap { attempt in
      (0..<2).map { "---- attempt \(attempt) rank \($0):\n" + workerOutput(rank: $0, attempt: attempt) }
    }
    .joined(separator: "\n")
  }

  /// The pids of the processes this launch started (the agent's descendants, and anything carrying its tag).
  func workerPids() -> [Int32] {
    var out = Set(ChildProcesses.descendants(of: process.processIdentifier))
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(name), pid != process.processIdentifier,
        let env = FileManager.default.contents(atPath: "/proc/\(name)/environ")
      else { continue }
      if String(decoding: env, as: UTF8.self).contains("TORCHSWIFT_TEST_LAUNCH=\(tag)") { out.insert(pid) }
    }
    return out.sorted()
  }

  /// SIGKILL to the agent and every process it started.
  func killAll() {
    let pids = workerPids()
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    for pid in pids { kill(pid, SIGKILL) }
  }
}

/// Bytes appended by a reader thread and read by the test.
final class LockedData: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
  var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
