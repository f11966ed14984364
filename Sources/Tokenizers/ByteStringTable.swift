/// A fast hash of a byte string (8 bytes at a time, then a final mix).
@inline(__always)
func hashBytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
  var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
  var i = 0
  let raw = UnsafeRawPointer(p)
  while i + 8 <= n {
    h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 32
    i += 8
  }
  if i < n {
    var v: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      v |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ v) &* 0xC4CE_B9FE_1A85_EC53
  }
  h ^= h >> 33
  h = h &* 0xFF51_AFD7_ED55_8CCD
  h ^= h >> 33
  return h
}

/// Open-addressing hash table from byte strings to `Int32` values: the model vocabulary
/// (token bytes to id), built once and shared read-only.
struct ByteStringTable: Sendable {
  private var keys: [UInt8] = []
  private var starts: [Int32] = []
  private var lengths: [Int32] = []
  private(set) var values: [Int32] = []
  private var hashes: [UInt32] = []
  private var slots: [Int32]
  private var mask: Int

  init(capacity: Int = 16) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
    keys.reserveCapacity(capacity * 6)
    starts.reserveCapacity(capacity)
    lengths.reserveCapacity(capacity)
    values.reserveCapacity(capacity)
    hashes.reserveCapacity(capacity)
  }

  var count: Int { values.count }

  /// The key of entry `index` (entries are numbered in insertion order).
  func key(at index: Int) -> ArraySlice<UInt8> {
    keys[Int(starts[index])..<Int(starts[index] + lengths[index])]
  }

  /// Inserts or replaces (the last value for a key wins, as in a JSON object read by serde).
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32) {
    if let base = key.baseAddress, let slot = find(base, key.count, hashBytes(base, key.count)).slot {
      values[Int(slots[slot])] = value
      return
    }
    if (values.count + 1) * 2 > slots.count { grow() }
    let h = key.baseAddress.map { hashBytes($0, key.count) } ?? hashBytes(emptyByte, 0)
    starts.append(Int32(keys.count))
    lengths.append(Int32(key.count))
    keys.append(contentsOf: key)
    values.append(value)
    hashes.append(UInt32(truncatingIfNeeded: h))
    place(Int32(values.count - 1), hash: h)
  }

  mutating func insert(_ key: [UInt8], value: Int32) {
    key.withUnsafeBufferPointer { insert($0, value: value) }
  }

  @inline(__always)
  func get(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32? {
    find(p, n, hashBytes(p, n)).value
  }

  func get(_ key: [UInt8]) -> Int32? {
    key.withUnsafeBufferPointer { $0.baseAddress.map { get($0, key.count) } ?? get(emptyByte, 0) }
  }

  @inline(__always)
  private func find(_ p: UnsafePointer<UInt8>, _ n: Int, _ h: UInt64) -> (slot: Int?, value: Int32?) {
    let h32 = UInt32(truncatingIfNeeded: h)
    return slots.withUnsafeBufferPointer { slots in
      keys.withUnsafeBufferPointer { keys in
        var i = Int(truncatingIfNeeded: h >> 7) & mask
        while true {
          let e = Int(slots[i])
          if e < 0 { return (nil, nil) }
          if hashes[e] == h32 && Int(lengths[e]) == n
            && (n == 0 || memcmp(keys.baseAddress! + Int(starts[e]), p, n) == 0)
          {
            return (i, values[e])
          }
          i = (i + 1) & mask
        }
      }
    }
  }

  private mutating func place(_ entry: Int32, hash: UInt64) {
    var i = Int(truncatingIfNeeded: hash >> 7) & mask
    while slots[i] >= 0 { i = (i + 1) & mask }
    slots[i] = entry
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
    for e in 0..<values.count {
      let start = Int(starts[e])
      let h = keys.withUnsafeBufferPointer { hashBytes($0.baseAddress! + start, Int(lengths[e])) }
      place(Int32(e), hash: h)
    }
  }
}

private let emptyStorage: UnsafeMutablePointer<UInt8> = .allocate(capacity: 1)
let emptyByte = UnsafePointer(emptyStorage)

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
