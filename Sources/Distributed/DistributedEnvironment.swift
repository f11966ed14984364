import Foundation

/// What torchrun (or a hand launch) tells a worker through its environment, validated.
///
/// torchrun sets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
/// TORCHELASTIC_RESTART_COUNT and TORCHELASTIC_USE_AGENT_STORE (its agent hosts the TCPStore on MASTER_PORT
/// and workers connect as clients). By hand, RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are enough:
/// rank 0 then hosts the store.
public struct DistributedEnvironment: Equatable, Sendable {
  public var rank: Int
  public var worldSize: Int
  public var localRank: Int
  public var localWorldSize: Int
  public var masterAddr: String
  public var masterPort: Int
  /// TORCHELASTIC_RESTART_COUNT: which attempt of the job this is (0 for the first).
  public var restartCount: Int
  /// TORCHELASTIC_USE_AGENT_STORE: torchrun's agent hosts the store; every worker is a client.
  public var useAgentStore: Bool

  public init(
    rank: Int, worldSize: Int, localRank: Int? = nil, localWorldSize: Int? = nil, masterAddr: String,
    masterPort: Int, restartCount: Int = 0, useAgentStore: Bool = false
  ) {
    self.rank = rank
    self.worldSize = worldSize
    self.localRank = localRank ?? rank
    self.localWorldSize = localWorldSize ?? worldSize
    self.masterAddr = masterAddr
    self.masterPort = masterPort
    self.restartCount = restartCount
    self.useAgentStore = useAgentStore
  }

  /// Whether the environment asks for a distributed run (WORLD_SIZE or RANK is set).
  public static func isPresent(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    env["WORLD_SIZE"] != nil || env["RANK"] != nil
  }

  /// Reads and checks the variables; every error names the variable and what was expected.
  public static func read(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
    -> DistributedEnvironment
  {
    func int(_ name: String, min: Int) throws -> Int? {
      guard let raw = env[name] else { return nil }
      guard let v = Int(raw.trimmingCharacters(in: .whitespaces)), v >= min else {
        throw DistributedError("\(name)=\(raw) is not valid: expected an integer ≥ \(min)")
      }
      return v
    }
    func required(_ name: String, _ why: String) throws -> String {
      guard let v = env[name], !v.isEmpty else {
        throw DistributedError(
          "\(name) is not set but \(why): torchrun sets it; when launching by hand, set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT"
        )
      }
      return v
    }
    let present = isPresent(env)
    guard present else {
      throw DistributedError(
        "no distributed environment: RANK and WORLD_SIZE are not set (launch with torchrun, or set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)"
      )
    }
    let why = env["WORLD_SIZE"] != nil ? "WORLD_SIZE=\(env["WORLD_SIZE"]!) is" : "RANK=\(env["RANK"]!) is"
    _ = try required("WORLD_SIZE", "\(why) set")
    _ = try required("RANK", "\(why) set")
    let worldSize = try int("WORLD_SIZE", min: 1)!
    let rank = try int("RANK", min: 0)!
    guard rank < worldSize else {
      throw DistributedError("RANK=\(rank) is not below WORLD_SIZE=\(worldSize): ranks run from 0 to \(worldSize - 1)")
    }
    let addr = try required("MASTER_ADDR", "\(why) set")
    let portRaw = try required("MASTER_PORT", "\(why) set")
    guard let port = Int(portRaw), (1..<65536).contains(port) else {
      throw DistributedError("MASTER_PORT=\(portRaw) is not valid: expected a port number 1-65535")
    }
    let localWorld = try int("LOCAL_WORLD_SIZE", min: 1) ?? worldSize
    let localRank = try int("LOCAL_RANK", min: 0) ?? rank
    guard localRank < localWorld else {
      throw DistributedError("LOCAL_RANK=\(localRank) is not below LOCAL_WORLD_SIZE=\(localWorld)")
    }
    let restart = try int("TORCHELASTIC_RESTART_COUNT", min: 0) ?? 0
    let agent = ["true", "1", "yes"].contains((env["TORCHELASTIC_USE_AGENT_STORE"] ?? "").lowercased())
    return DistributedEnvironment(
      rank: rank, worldSize: worldSize, localRank: localRank, localWorldSize: localWorld,
      masterAddr: addr, masterPort: port, restartCount: restart, useAgentStore: agent)
  }

  /// The rendezvous store as `torch.distributed.init_process_group("env://")` builds it: a client of the agent's
  /// store under "/worker/attempt_<restart>" when torchrun's agent hosts it, else a TCPStore that rank 0 hosts;
  /// then the "default_pg" prefix.
  public func makeStore(timeout: Double) throws -> Store {
    let base: Store
    if useAgentStore {
      let client = try Store.tcp(
        host: masterAddr, port: masterPort, worldSize: worldSize, isServer: false, timeout: timeout)
      base = try Store.prefix("/worker/attempt_\(restartCount)", client)
    } else {
      base = try Store.tcp(
        host: masterAddr, port: masterPort, worldSize: worldSize, isServer: rank == 0, timeout: timeout,
        multiTenant: true)
    }
    try base.setTimeout(timeout)
    return try Store.prefix("default_pg", base)
  }
}
