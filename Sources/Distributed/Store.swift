import CTorch
import Foundation
import Torch

/// A c10d key-value store (`torch.distributed.Store`): the rendezvous where ranks find each other.
///
///     let server = try Store.tcp(host: "127.0.0.1", port: 29500, worldSize: 2, isServer: true)   // TCPStore
///     let scoped = try Store.prefix("attempt_0", server)                                        // PrefixStore
///     try scoped.set("key", "value")
public final class Store: @unchecked Sendable {
  let handle: ts_store
  /// What this store is, for messages ("TCPStore 127.0.0.1:29500").
  public let name: String
  /// Keeps a PrefixStore's base alive.
  let base: Store?

  init(handle: ts_store, name: String, base: Store? = nil) {
    self.handle = handle
    self.name = name
    self.base = base
  }

  deinit { ts_store_free(handle) }

  /// `torch.distributed.TCPStore(host, port, world_size, is_master, timeout, wait_for_workers, multi_tenant)`.
  /// The server waits for `worldSize` clients when `waitForWorkers`; a client retries connecting until `timeout`.
  public static func tcp(
    host: String, port: Int, worldSize: Int? = nil, isServer: Bool, timeout: Double = 300,
    waitForWorkers: Bool = true, multiTenant: Bool = false
  ) throws -> Store {
    guard (0..<65536).contains(port) else { throw DistributedError("TCPStore port \(port) is out of range (0-65535)") }
    var out: ts_store? = nil
    let status = ts_tcp_store_create(
      &out, host, Int32(port), Int32(worldSize ?? 0), isServer ? 1 : 0,
      waitForWorkers ? 1 : 0, Int64(timeout * 1000), multiTenant ? 1 : 0)
    if status != 0 {
      let role = isServer ? "host" : "reach"
      throw DistributedError("could not \(role) the TCPStore at \(host):\(port): \(lastError())")
    }
    var actual: Int32 = 0
    _ = ts_tcp_store_port(out!, &actual)
    return Store(handle: out!, name: "TCPStore \(host):\(actual)")
  }

  /// `torch.distributed.PrefixStore(prefix, store)`: every key is stored as "<prefix>/<key>".
  public static func prefix(_ prefix: String, _ base: Store) throws -> Store {
    var out: ts_store? = nil
    try checkDistributed(ts_prefix_store_create(&out, prefix, base.handle))
    return Store(handle: out!, name: base.name, base: base)
  }

  /// The port a TCPStore listens on (useful with port 0).
  public var port: Int {
    get throws {
      var p: Int32 = 0
      try checkDistributed(ts_tcp_store_port(handle, &p))
      return Int(p)
    }
  }

  /// How long `get` and `wait` block before failing.
  public func setTimeout(_ seconds: Double) throws {
    try checkDistributed(ts_store_set_timeout(handle, Int64(seconds * 1000)))
  }

  public func set(_ key: String, _ value: [UInt8]) throws {
    try value.withUnsafeBufferPointer {
      try checkDistributed(ts_store_set(handle, key, $0.baseAddress, Int64($0.count)))
    }
  }

  public func set(_ key: String, _ value: String) throws { try set(key, Array(value.utf8)) }

  /// The value of `key`, waiting for it up to the store's timeout.
  public func get(_ key: String) throws -> [UInt8] {
    var data: UnsafeMutablePointer<UInt8>? = nil
    var n: Int64 = 0
    try checkDistributed(ts_store_get(handle, key, &data, &n))
    defer { ts_free(data) }
    return Array(UnsafeBufferPointer(start: data, count: Int(n)))
  }

  public func getString(_ key: String) throws -> String { String(decoding: try get(key), as: UTF8.self) }

  /// Adds `delta` to the integer at `key` (0 when absent) and returns the new value.
  @discardableResult
  public func add(_ key: String, _ delta: Int) throws -> Int {
    var out: Int64 = 0
    try checkDistributed(ts_store_add(handle, key, Int64(delta), &out))
    return Int(out)
  }

  /// Whether `key` is set (does not wait).
  public func check(_ key: String) throws -> Bool {
    var out: UInt8 = 0
    try checkDistributed(ts_store_check(handle, key, &out))
    return out != 0
  }

  @discardableResult
  public func delete(_ key: String) throws -> Bool {
    var out: UInt8 = 0
    try checkDistributed(ts_store_delete(handle, key, &out))
    return out != 0
  }
}

/// An error of distributed training: a bad launch environment, a failed collective (naming the rank that
/// failed and why, when it can be told), a store that cannot be reached.
public struct DistributedError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

func lastError() -> String { String(cString: ts_last_error()) }

func checkDistributed(_ status: Int32) throws {
  if status != 0 { throw DistributedError(lastError()) }
}
