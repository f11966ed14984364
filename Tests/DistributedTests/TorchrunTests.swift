import Foundation
import ReferenceTesting
import XCTest

/// The worker launched by torchrun itself (c10d rendezvous; its agent hosts the store and the workers join it as
/// clients, TORCHELASTIC_USE_AGENT_STORE): the collectives still equal torch.distributed's.
final class TorchrunTests: XCTestCase {
  func testCollectivesUnderTorchrun() throws {
    let torchrun = ReferenceTools.packageRoot.appendingPathComponent(".venv/bin/torchrun").path
    guard FileManager.default.isExecutableFile(atPath: torchrun) else {
      throw XCTSkip("torchrun not found at \(torchrun)")
    }
    let launcher = try RankLauncher(self)
    let worker = try RankLauncher.workerPath()
    let job = try launcher.startCommand(torchrun, []) { port in
      [
        "--no-python", "--nproc-per-node", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "127.0.0.1:\(port)",
        worker, "collectives", "--timeout", "30"
      ]
    }
    let reference = try launcher.start(.reference, ["collectives"])
    let env = try launcher.startCommand(torchrun, []) { port in
      [
        "--no-python", "--nproc-per-node", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "127.0.0.1:\(port)",
        worker, "env"
      ]
    }
    // Both workers print into torchrun's stdout: one result line each, told apart by "rank".
    let lines = try job.succeed()[0]
    let byRank = (0..<2).map { r in lines.filter { $0["rank"] as? Int == r } }
    CollectivesTests.assertSame(byRank, try reference.succeed(), "torchrun launch")
    let seen = try env.succeed()[0].filter { $0["rank"] != nil }
    XCTAssertEqual(Set(seen.compactMap { $0["rank"] as? Int }), [0, 1])
    for e in seen {
      XCTAssertEqual(e["world_size"] as? Int, 2)
      XCTAssertEqual(e["agent_store"] as? Bool, true, "the worker did not see torchrun's agent store: \(e)")
    }
  }
}
