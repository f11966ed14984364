import Distributed
import Foundation
import XCTest

/// torchrun's variables read and checked: a bad environment is a clear error naming the variable and a
/// non-zero exit of the worker, never a crash or a hang.
final class DistributedEnvironmentTests: XCTestCase {
  static let bad: [(name: String, env: [String: String], mentions: [String])] = [
    ("WORLD_SIZE without MASTER_ADDR", ["WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "29500"], ["MASTER_ADDR"]),
    ("WORLD_SIZE without RANK", ["WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"], ["RANK"]),
    (
      "RANK ≥ WORLD_SIZE", ["WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"],
      ["RANK=2", "WORLD_SIZE=2"]
    ),
    (
      "non-numeric RANK", ["WORLD_SIZE": "2", "RANK": "one", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"],
      ["RANK=one"]
    ),
    (
      "bad MASTER_PORT", ["WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "http"],
      ["MASTER_PORT=http"]
    ),
    (
      "WORLD_SIZE 0", ["WORLD_SIZE": "0", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"],
      ["WORLD_SIZE=0"]
    )
  ]

  func testBadEnvironmentExitsWithAClearError() throws {
    let launcher = try RankLauncher(self, deadline: 30)
    let jobs = try Self.bad.map { try launcher.startSingle(.worker, ["collectives", "--timeout", "5"], env: $0.env) }
    for (c, job) in zip(Self.bad, jobs) {
      try job.wait()
      let p = job.ranks[0]
      XCTAssertFalse(p.signaled, "\(c.name): crashed (\(p.exitDescription))\n\(p.stderr)")
      XCTAssertNotEqual(p.status, 0, "\(c.name): exited 0")
      for m in c.mentions {
        XCTAssertTrue(p.stderr.contains(m), "\(c.name): the error does not name \(m):\n\(p.stderr)")
      }
      XCTAssertLessThan(p.elapsed, 10, "\(c.name): took \(p.elapsed) s to fail")
    }
  }

  func testTorchrunVariablesAreRead() throws {
    let env = try DistributedEnvironment.read([
      "RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1",
      "MASTER_PORT": "29400", "TORCHELASTIC_RESTART_COUNT": "2", "TORCHELASTIC_USE_AGENT_STORE": "True"
    ])
    XCTAssertEqual(
      env,
      DistributedEnvironment(
        rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2, masterAddr: "10.0.0.1",
        masterPort: 29400, restartCount: 2, useAgentStore: true))
    XCTAssertFalse(DistributedEnvironment.isPresent([:]))
    XCTAssertThrowsError(try DistributedEnvironment.read([:]))
    XCTAssertThrowsError(
      try DistributedEnvironment.read([
        "RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "2", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "a",
        "MASTER_PORT": "1"
      ])
    ) { XCTAssertTrue("\($0)".contains("LOCAL_RANK=2"), "\($0)") }
  }
}
