import Foundation

/// HF `models.BPE`: splits a word into characters (bytes, for byte-level vocabularies) and applies
/// the merges in rank order, leftmost first.
///
/// Token strings are kept for decoding; encoding works on the "model domain" bytes of tokens: their
/// UTF-8, or for a byte-level vocabulary (one behind a `ByteLevel` pre-tokenizer) the raw bytes their
/// characters stand for, so the input's own UTF-8 is never mapped to the byte alphabet.
final class BPE: Sendable {
  /// Model-domain bytes to id.
  let vocab: ByteStringTable
  /// Tokens whose characters are outside the byte alphabet (byte-level only; unreachable by encoding).
  let unmapped: [String: Int32]
  /// Token of each id (nil for gaps).
  let tokens: [String?]
  let merges: MergeTable
  let byteLevel: Bool
  /// Id of each single byte (byte-level) or each ASCII character (-1: not in the vocabulary).
  let unitIds: [Int32]
  let unkId: Int32
  let fuseUnk: Bool
  let byteFallback: Bool
  /// Ids of the `<0xNN>` tokens (-1: missing).
  let fallbackIds: [Int32]
  let prefix: [UInt8]
  let suffix: [UInt8]
  let ignoreMerges: Bool
  /// Identifies this model's entries in the per-thread word caches.
  let serial: Int

  /// Why a vocabulary and merges do not make a model.
  enum BuildError: Error {
    case unknownToken(merge: Int, token: String)
    case unknownMergeResult(merge: Int, token: String)
    case unknownUnk(String)
  }

  init(
    vocabulary builder: BPEVocabularyBuilder, unkToken: String?, fuseUnk: Bool, byteFallback: Bool,
    continuingSubwordPrefix: String?, endOfWordSuffix: String?, ignoreMerges: Bool
  ) throws {
    let byteLevel = builder.byteLevel
    self.byteLevel = byteLevel
    let table = builder.table
    vocab = table
    tokens = builder.tokens
    unmapped = builder.unmapped
    merges = builder.merges
    func domain(_ token: String) -> [UInt8]? {
      byteLevel ? ByteLevelAlphabet.decode(token) : Array(token.utf8)
    }
    var units = [Int32](repeating: -1, count: byteLevel ? 256 : 128)
    for b in 0..<units.count { units[b] = table.get([UInt8(b)]) ?? -1 }
    unitIds = units
    var fallback = [Int32](repeating: -1, count: 256)
    if byteFallback {
      let hex = Array("0123456789ABCDEF".utf8)
      for b in 0..<256 {
        fallback[b] = table.get([0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]) ?? -1
      }
    }
    fallbackIds = fallback
    if let unkToken {
      guard let id = domain(unkToken).flatMap({ table.get($0) }) ?? unmapped[unkToken] else {
        throw BuildError.unknownUnk(unkToken)
      }
      unkId = id
    } else {
      unkId = -1
    }
    self.fuseUnk = fuseUnk
    self.byteFallback = byteFallback
    prefix = continuingSubwordPrefix.flatMap(domain) ?? []
    suffix = endOfWordSuffix.flatMap(domain) ?? []
    self.ignoreMerges = ignoreMerges
    serial = BPE.nextSerial()
  }

  private static let serialLock = NSLock()
  nonisolated(unsafe) private static var serialCounter = 0
  private static func nextSerial() -> Int {
    serialLock.withLock {
      serialCounter += 1
      return serialCounter
    }
  }

  /// Number of tokens of the model vocabulary.
  var count: Int { vocab.count + unmapped.count }

  /// Id of a token string.
  func id(of token: String) -> Int32? {
    if let id = unmapped[token] { return id }
    guard let bytes = byteLevel ? ByteLevelAlphabet.decode(token) : Array(token.utf8) else { return nil }
    return vocab.get(bytes)
  }

  // MARK: Encoding

  /// Tokenizes one word (`p[0..<n]`, model-domain bytes), appending ids and their end offsets (bytes into the
  /// word) to `ids`/`ends`; results are cached per thread in `ws`.
  func tokenize(
    _ p: UnsafePointer<UInt8>, _ n: Int, ids: inout [Int32], ends: inout [Int32], ws: inout BPEWorkspace
  ) {
    guard n > 0 else { return }
    if ignoreMerges, let id = vocab.get(p, n) {
      ids.append(id)
      ends.append(Int32(n))
      return
    }
    let cacheable = n <= 256
    if cacheable {
      if ws.cacheOwner != serial { ws.resetCache(owner: serial) }
      if let offset = ws.cache.get(p, n) {
        let o = Int(offset)
        let count = Int(ws.cacheValues[o])
        for k in 0..<count {
          ids.append(ws.cacheValues[o + 1 + 2 * k])
          ends.append(ws.cacheValues[o + 2 + 2 * k])
        }
        return
      }
    }
    let first = ids.count
    mergeWord(p, n, ids: &ids, ends: &ends, ws: &ws)
    if cacheable {
      if ws.cache.count >= BPEWorkspace.cacheCapacity { ws.resetCache(owner: serial) }
      let offset = ws.cacheValues.count
      ws.cacheValues.append(Int32(ids.count - first))
      for k in first..<ids.count {
        ws.cacheValues.append(ids[k])
        ws.cacheValues.append(ends[k])
      }
      ws.cache.insert(UnsafeBufferPointer(start: p, count: n), value: Int32(offset))
    }
  }

  /// HF `BPE::merge_word` then `Word::merge_all`, without the cache.
  private func mergeWord(
    _ p: UnsafePointer<UInt8>, _ n: Int, ids: inout [Int32], ends: inout [Int32], ws: inout BPEWorkspace
  ) {
    ws.symbols.removeAll(keepingCapacity: true)
    ws.lengths.removeAll(keepingCapacity: true)
    var pendingUnk: (id: Int32, length: Int32)?
    var i = 0
    let plain = prefix.isEmpty && suffix.isEmpty
    while i < n {
      let unit = byteLevel ? 1 : utf8Length(p[i])
      let end = min(i + unit, n)
      var id: Int32 = -1
      if plain && (byteLevel || p[i] < 0x80) {
        id = unitIds[Int(p[i])]
      } else if plain {
        id = vocab.get(p + i, end - i) ?? -1
      } else {
        ws.key.removeAll(keepingCapacity: true)
        if i > 0 { ws.key += prefix }
        ws.key.append(contentsOf: UnsafeBufferPointer(start: p + i, count: end - i))
        if end == n { ws.key += suffix }
        id = ws.key.withUnsafeBufferPointer { vocab.get($0.baseAddress!, $0.count) } ?? -1
      }
      if id >= 0 {
        if let unk = pendingUnk {
          ws.symbols.append(unk.id)
          ws.lengths.append(unk.length)
          pendingUnk = nil
        }
        ws.symbols.append(id)
        ws.lengths.append(Int32(end - i))
      } else {
        if byteFallback {
          var all = true
          let count = plain ? end - i : ws.key.count
          for k in 0..<count where fallbackIds[Int(plain ? p[i + k] : ws.key[k])] < 0 {
            all = false
            break
          }
          if all {
            for k in 0..<count {
              ws.symbols.append(fallbackIds[Int(plain ? p[i + k] : ws.key[k])])
              ws.lengths.append(1)
            }
            i = end
            continue
          }
        }
        if unkId >= 0 {
          if let unk = pendingUnk {
            if fuseUnk {
              pendingUnk = (unk.id, unk.length + Int32(end - i))
            } else {
              ws.symbols.append(unk.id)
              ws.lengths.append(unk.length)
              pendingUnk = (unkId, Int32(end - i))
            }
          } else {
            pendingUnk = (unkId, Int32(end - i))
          }
        }
      }
      i = end
    }
    if let unk = pendingUnk {
      ws.symbols.append(unk.id)
      ws.lengths.append(unk.length)
    }
    if ws.symbols.count > 48 {
      mergeWithHeap(&ws)
    } else {
      mergeByScanning(&ws)
    }
    var position: Int32 = 0
    for k in 0..<ws.symbols.count where ws.symbols[k] >= 0 {
      position += ws.lengths[k]
      ids.append(ws.symbols[k])
      ends.append(position)
    }
  }

  /// Repeatedly merges the lowest-ranked adjacent pair (leftmost on ties): short words.
  private func mergeByScanning(_ ws: inout BPEWorkspace) {
    var count = ws.symbols.count
    guard count > 1 else { return }
    ws.ranks.removeAll(keepingCapacity: true)
    for k in 0..<(count - 1) { ws.ranks.append(merges.get(ws.symbols[k], ws.symbols[k + 1])?.rank ?? Int32.max) }
    while count > 1 {
      var best = Int32.max
      var at = -1
      for k in 0..<(count - 1) where ws.ranks[k] < best {
        best = ws.ranks[k]
        at = k
      }
      guard at >= 0, let merge = merges.get(ws.symbols[at], ws.symbols[at + 1]) else { break }
      ws.symbols[at] = merge.newId
      ws.lengths[at] += ws.lengths[at + 1]
      ws.symbols.remove(at: at + 1)
      ws.lengths.remove(at: at + 1)
      ws.ranks.remove(at: at)
      count -= 1
      if at > 0 { ws.ranks[at - 1] = merges.get(ws.symbols[at - 1], ws.symbols[at])?.rank ?? Int32.max }
      if at < count - 1 { ws.ranks[at] = merges.get(ws.symbols[at], ws.symbols[at + 1])?.rank ?? Int32.max }
    }
  }

  /// HF `Word::merge_all`: a priority queue of (rank, position), stale entries skipped: long words.
  /// Merged-away symbols are marked with id -1.
  private func mergeWithHeap(_ ws: inout BPEWorkspace) {
    let count = ws.symbols.count
    ws.previous.removeAll(keepingCapacity: true)
    ws.next.removeAll(keepingCapacity: true)
    for k in 0..<count {
      ws.previous.append(Int32(k - 1))
      ws.next.append(k + 1 < count ? Int32(k + 1) : -1)
    }
    var heap = MinHeap()
    swap(&heap.storage, &ws.heap)
    heap.storage.removeAll(keepingCapacity: true)
    for k in 0..<(count - 1) {
      if let m = merges.get(ws.symbols[k], ws.symbols[k + 1]) { heap.push(UInt64(m.rank) << 32 | UInt64(k)) }
    }
    while let top = heap.pop() {
      let rank = Int32(top >> 32)
      let position = Int(top & 0xFFFF_FFFF)
      guard ws.symbols[position] >= 0 else { continue }
      let right = Int(ws.next[position])
      guard right >= 0, let m = merges.get(ws.symbols[position], ws.symbols[right]), m.rank == rank else { continue }
      ws.symbols[position] = m.newId
      ws.lengths[position] += ws.lengths[right]
      ws.symbols[right] = -1
      let after = ws.next[right]
      ws.next[position] = after
      if after >= 0 { ws.previous[Int(after)] = Int32(position) }
      let before = Int(ws.previous[position])
      if before >= 0, let pm = merges.get(ws.symbols[before], m.newId) {
        heap.push(UInt64(pm.rank) << 32 | UInt64(before))
      }
      if after >= 0, let nm = merges.get(m.newId, ws.symbols[Int(after)]) {
        heap.push(UInt64(nm.rank) << 32 | UInt64(position))
      }
    }
    swap(&heap.storage, &ws.heap)
  }
}

/// Collects a BPE vocabulary and its merges from UTF-8 token text (as read from tokenizer.json), straight
/// into the model's tables: no `String` per merge, one per token (for decoding).
struct BPEVocabularyBuilder {
  let byteLevel: Bool
  /// UTF-8 length of `continuing_subword_prefix`, dropped from a merge's right side (as HF does).
  let prefixCount: Int
  var table: ByteStringTable
  var unmapped: [String: Int32] = [:]
  var tokens: [String?] = []
  var merges: MergeTable
  private var rank: Int32 = 0
  private var scratch: [UInt8] = []
  private var joined: [UInt8] = []

  init(byteLevel: Bool, continuingSubwordPrefix: String?, vocabularySize: Int, mergeCount: Int) {
    self.byteLevel = byteLevel
    prefixCount = continuingSubwordPrefix?.utf8.count ?? 0
    table = ByteStringTable(capacity: vocabularySize)
    merges = MergeTable(capacity: mergeCount)
    tokens.reserveCapacity(vocabularySize)
  }

  /// The model-domain bytes of UTF-8 token text (false: a character outside the byte-level alphabet).
  private static func domain(_ utf8: UnsafeBufferPointer<UInt8>, byteLevel: Bool, into out: inout [UInt8]) -> Bool {
    out.removeAll(keepingCapacity: true)
    guard byteLevel else {
      out.append(contentsOf: utf8)
      return true
    }
    guard let p = utf8.baseAddress else { return true }
    var i = 0
    while i < utf8.count {
      let (v, n) = scalarAt(p, i)
      let b = Int(v) < ByteLevelAlphabet.bytes.count ? ByteLevelAlphabet.bytes[Int(v)] : -1
      if b < 0 { return false }
      out.append(UInt8(b))
      i += n
    }
    return true
  }

  mutating func addToken(_ utf8: UnsafeBufferPointer<UInt8>, id: Int) {
    let string = String(decoding: utf8, as: UTF8.self)
    if id >= tokens.count { tokens.append(contentsOf: repeatElement(nil, count: id + 1 - tokens.count)) }
    tokens[id] = string
    if Self.domain(utf8, byteLevel: byteLevel, into: &scratch) {
      table.insert(scratch, value: Int32(id))
    } else {
      unmapped[string] = Int32(id)
    }
  }

  private func id(_ utf8: UnsafeBufferPointer<UInt8>, _ scratch: inout [UInt8]) -> Int32? {
    if Self.domain(utf8, byteLevel: byteLevel, into: &scratch) {
      return scratch.withUnsafeBufferPointer { table.get($0.baseAddress ?? emptyByte, $0.count) }
    }
    return unmapped[String(decoding: utf8, as: UTF8.self)]
  }

  /// Adds the next merge (its rank is its position); the tokens and their join must be in the vocabulary.
  mutating func addMerge(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) throws {
    defer { rank += 1 }
    guard let aId = id(a, &scratch) else {
      throw BPE.BuildError.unknownToken(merge: Int(rank), token: String(decoding: a, as: UTF8.self))
    }
    guard let bId = id(b, &scratch) else {
      throw BPE.BuildError.unknownToken(merge: Int(rank), token: String(decoding: b, as: UTF8.self))
    }
    joined.removeAll(keepingCapacity: true)
    joined.append(contentsOf: a)
    joined.append(contentsOf: b.dropFirst(prefixCount))
    var buffer: [UInt8] = []
    swap(&buffer, &scratch)
    let newId = joined.withUnsafeBufferPointer { id($0, &buffer) }
    swap(&buffer, &scratch)
    guard let newId else {
      throw BPE.BuildError.unknownMergeResult(
        merge: Int(rank), token: String(decoding: a, as: UTF8.self) + String(decoding: b, as: UTF8.self))
    }
    merges.insert(aId, bId, rank: rank, newId: newId)
  }
}

/// Pair of ids to (rank, merged id), open addressing on a packed 64-bit key.
struct MergeTable: Sendable {
  private var keys: [UInt64]
  private var ranks: [Int32]
  private var newIds: [Int32]
  private let mask: Int
  private static let empty = UInt64.max

  init(capacity: Int) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    keys = [UInt64](repeating: MergeTable.empty, count: size)
    ranks = [Int32](repeating: 0, count: size)
    newIds = [Int32](repeating: 0, count: size)
    mask = size - 1
  }

  @inline(__always)
  private static func slot(_ key: UInt64) -> Int {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return Int(truncatingIfNeeded: h)
  }

  mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, newId: Int32) {
    let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    var i = MergeTable.slot(key) & mask
    while keys[i] != MergeTable.empty && keys[i] != key { i = (i + 1) & mask }
    keys[i] = key
    ranks[i] = rank
    newIds[i] = newId
  }

  @inline(__always)
  func get(_ a: Int32, _ b: Int32) -> (rank: Int32, newId: Int32)? {
    let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    return keys.withUnsafeBufferPointer { k in
      var i = MergeTable.slot(key) & mask
      while true {
        let found = k[i]
        if found == key { return (ranks[i], newIds[i]) }
        if found == MergeTable.empty { return nil }
        i = (i + 1) & mask
      }
    }
  }
}

/// Binary min-heap of packed (rank, position) keys.
struct MinHeap {
  var storage: [UInt64] = []

  mutating func push(_ value: UInt64) {
    storage.append(value)
    var i = storage.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard storage[parent] > storage[i] else { break }
      storage.swapAt(parent, i)
      i = parent
    }
  }

  mutating func pop() -> UInt64? {
    guard let top = storage.first else { return nil }
    let last = storage.removeLast()
    if !storage.isEmpty {
      storage[0] = last
      var i = 0
      let n = storage.count
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var smallest = i
        if l < n && storage[l] < storage[smallest] { smallest = l }
        if r < n && storage[r] < storage[smallest] { smallest = r }
        if smallest == i { break }
        storage.swapAt(i, smallest)
        i = smallest
      }
    }
    return top
  }
}

/// Per-thread buffers and word cache of the BPE pipeline.
struct BPEWorkspace {
  static let cacheCapacity = 30_000
  var cacheOwner = 0
  var cache = ByteStringTable()
  var cacheValues: [Int32] = []
  var symbols: [Int32] = []
  var lengths: [Int32] = []
  var ranks: [Int32] = []
  var previous: [Int32] = []
  var next: [Int32] = []
  var heap: [UInt64] = []
  var key: [UInt8] = []
  var text: [UInt8] = []
  var arena: [UInt8] = []
  var pieces: [Piece] = []
  var spare: [Piece] = []
  var parts: [SplitPart] = []
  var ids: [Int32] = []
  var ends: [Int32] = []

  mutating func resetCache(owner: Int) {
    cacheOwner = owner
    cache = ByteStringTable(capacity: 4096)
    cacheValues.removeAll(keepingCapacity: true)
  }
}
