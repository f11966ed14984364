import Foundation
import XCTest

/// A rank that dies or hangs in the middle of DDP training makes rank 0 exit non-zero, naming rank 1, within
/// the process group's timeout + 10 s — never a hang.
final class FaultTests: XCTestCase {
  /// Runs `fault --how how` with rank 1 as the victim at step 3; returns (rank 0, rank 1, seconds from the fault
  /// to rank 0's exit).
  private func runFault(_ launcher: RankLauncher, how: String, timeout: Int) throws -> Job {
    try launcher.start(.worker, ["fault", "--rank", "1", "--at-step", "3", "--how", how, "--timeout", "\(timeout)"])
  }

  /// When rank 1 faulted: its exit, or (stopped, sleeping) the first time its event line is seen.
  private func faultTime(_ rank1: RankProcess, deadline: TimeInterval = 30) throws -> Date {
    let start = Date()
    while Date().timeIntervalSince(start) < deadline {
      if rank1.stdout.contains("\"event\"") { return rank1.ended ?? Date() }  // its exit, if it already exited
      if !rank1.process.isRunning && !rank1.stdout.contains("\"event\"") {
        throw LaunchFailure("rank 1 exited before its fault:\n\(rank1.transcript)")
      }
      Thread.sleep(forTimeInterval: 0.01)
    }
    throw LaunchFailure("rank 1 never reached its fault:\n\(rank1.transcript)")
  }

  private func assertRank0Failed(
    _ job: Job, since fault: Date, limit: TimeInterval, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let rank0 = job.ranks[0]
    try job.wait(for: [rank0])
    let seconds = rank0.ended!.timeIntervalSince(fault)
    let message = rank0.stderr
    print(
      "\(what): rank 0 exited \(rank0.exitDescription) \(String(format: "%.1f", seconds)) s after the fault: \(message.split(separator: "\n").last ?? "")"
    )
    XCTAssertFalse(
      rank0.signaled, "\(what): rank 0 crashed (\(rank0.exitDescription)) instead of exiting:\n\(message)", file: file,
      line: line)
    XCTAssertNotEqual(rank0.status, 0, "\(what): rank 0 exited 0", file: file, line: line)
    XCTAssertTrue(
      message.contains("rank 1"), "\(what): the error does not name rank 1:\n\(message)", file: file, line: line)
    XCTAssertLessThanOrEqual(seconds, limit, "\(what): rank 0 took \(seconds) s", file: file, line: line)
  }

  func testKilledRankMakesRank0ExitNamingIt() throws {
    let launcher = try RankLauncher(self)
    let timeout = 20
    let job = try runFault(launcher, how: "exit", timeout: timeout)  // rank 1 SIGKILLs itself at step 3
    let quit = try runFault(launcher, how: "quit", timeout: timeout)  // rank 1 calls exit(3) at step 3
    let fault = try faultTime(job.ranks[1])
    let quitFault = try faultTime(quit.ranks[1])
    try assertRank0Failed(job, since: fault, limit: Double(timeout + 10), "killed rank")
    try assertRank0Failed(quit, since: quitFault, limit: Double(timeout + 10), "exited rank")
    try job.wait()
    try quit.wait()
    XCTAssertTrue(job.ranks[1].signaled, "rank 1 was to die by SIGKILL: \(job.ranks[1].exitDescription)")
    XCTAssertEqual(quit.ranks[1].status, 3)
  }

  /// A stopped process (SIGSTOP: no heartbeat either) and a sleeping one (alive, heartbeat beating, out of step),
  /// both run at once with a 5 s group timeout.
  func testHungRankMakesRank0ExitWithinTheTimeout() throws {
    let launcher = try RankLauncher(self)
    let timeout = 5
    let stopped = try runFault(launcher, how: "stop", timeout: timeout)
    let sleeping = try runFault(launcher, how: "sleep", timeout: timeout)
    let stopFault = try faultTime(stopped.ranks[1])
    let sleepFault = try faultTime(sleeping.ranks[1])
    try assertRank0Failed(stopped, since: stopFault, limit: Double(timeout + 10), "stopped rank (SIGSTOP)")
    try assertRank0Failed(sleeping, since: sleepFault, limit: Double(timeout + 10), "sleeping rank")
    XCTAssertTrue(stopped.ranks[0].stderr.contains("stopped responding"), stopped.ranks[0].stderr)
    // The hung ranks are still there: the launcher's teardown kills them.
    XCTAssertTrue(stopped.ranks[1].process.isRunning)
  }
}
