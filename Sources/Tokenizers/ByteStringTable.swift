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
/// (token bytes to id), built once and shared read-only. Each slot holds 32 bits of the key's hash, so a
/// probe touches the key bytes only on a likely hit.
struct ByteStringTable: Sendable {
  struct Slot {
    var hash: UInt32
    var entry: Int32
  }

  struct Entry {
    var start: Int32
    var length: Int32
    var value: Int32
  }

  private var keys: [UInt8] = []
  private var entries: [Entry] = []
  private var slots: [Slot]
  private var mask: Int

  init(capacity: Int = 16) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [Slot](repeating: Slot(hash: 0, entry: -1), count: size)
    mask = size - 1
    keys.reserveCapacity(capacity * 6)
    entries.reserveCapacity(capacity)
  }

  var count: Int { entries.count }

  /// Inserts or replaces (the last value for a key wins, as in a JSON object read by serde).
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32) {
    let base = key.baseAddress ?? emptyByte
    let h = hashBytes(base, key.count)
    let (slot, _) = find(base, key.count, h)
    if let slot {
      entries[Int(slots[slot].entry)].value = value
      return
    }
    if (entries.count + 1) * 2 > slots.count { grow() }
    entries.append(Entry(start: Int32(keys.count), length: Int32(key.count), value: value))
    keys.append(contentsOf: key)
    place(Int32(entries.count - 1), hash: h)
  }

  mutating func insert(_ key: [UInt8], value: Int32) {
    key.withUnsafeBufferPointer { insert($0, value: value) }
  }

  @inline(__always)
  func get(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32? {
    find(p, n, hashBytes(p, n)).value
  }

  func get(_ key: [UInt8]) -> Int32? {
    key.withUnsafeBufferPointer { get($0.baseAddress ?? emptyByte, key.count) }
  }

  @inline(__always)
  private func find(_ p: UnsafePointer<UInt8>, _ n: Int, _ h: UInt64) -> (slot: Int?, value: Int32?) {
    let h32 = UInt32(truncatingIfNeeded: h)
    return slots.withUnsafeBufferPointer { slots in
      entries.withUnsafeBufferPointer { entries in
        keys.withUnsafeBufferPointer { keys in
          var i = Int(truncatingIfNeeded: h >> 7) & mask
          while true {
            let slot = slots[i]
            if slot.entry < 0 { return (nil, nil) }
            if slot.hash == h32 {
              let e = entries[Int(slot.entry)]
              if Int(e.length) == n && (n == 0 || memcmp(keys.baseAddress! + Int(e.start), p, n) == 0) {
                return (i, e.value)
              }
            }
            i = (i + 1) & mask
          }
        }
      }
    }
  }

  private mutating func place(_ entry: Int32, hash: UInt64) {
    var i = Int(truncatingIfNeeded: hash >> 7) & mask
    while slots[i].entry >= 0 { i = (i + 1) & mask }
    slots[i] = Slot(hash: UInt32(truncatingIfNeeded: hash), entry: entry)
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Slot](repeating: Slot(hash: 0, entry: -1), count: size)
    mask = size - 1
    for e in 0..<entries.count {
      let entry = entries[e]
      let h = keys.withUnsafeBufferPointer { hashBytes($0.baseAddress! + Int(entry.start), Int(entry.length)) }
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
