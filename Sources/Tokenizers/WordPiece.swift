/// HF `WordPiece` model: greedy longest-match-first segmentation of each word.
///
/// A word longer than `maxInputCharsPerWord` scalars, or one that cannot be fully covered by
/// vocabulary pieces, becomes a single `unkToken` spanning the whole word — it is never dropped.
final class WordPiece: Sendable {
  /// Token to id, as in the vocabulary.
  let vocab: [String: Int]
  let unkToken: String
  let unkId: Int32?
  let continuingSubwordPrefix: String
  let maxInputCharsPerWord: Int
  /// Allocation-free lookup of scalar slices.
  let index: ScalarIndex

  init(vocab: [String: Int], unkToken: String, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
    self.vocab = vocab
    self.unkToken = unkToken
    self.continuingSubwordPrefix = continuingSubwordPrefix
    self.maxInputCharsPerWord = maxInputCharsPerWord
    unkId = vocab[unkToken].flatMap { Int32(exactly: $0) }
    let prefix = Array(continuingSubwordPrefix.unicodeScalars.map(\.value))
    var entries: [(key: [UInt32], continuation: Bool, id: Int32)] = []
    entries.reserveCapacity(vocab.count * 2)
    for (token, id) in vocab {
      guard let id32 = Int32(exactly: id) else { continue }
      let scalars = token.unicodeScalars.map(\.value)
      entries.append((scalars, false, id32))
      if !prefix.isEmpty, scalars.count >= prefix.count, Array(scalars[0..<prefix.count]) == prefix {
        entries.append((Array(scalars[prefix.count...]), true, id32))
      }
    }
    index = ScalarIndex(entries: entries)
  }

  /// Tokenizes `text[start..<end]` (one pre-tokenized, normalized word), appending to `out`.
  /// `origin[i]` is the original character index of `text[i]`.
  @inline(__always)
  func tokenize(
    _ text: UnsafeBufferPointer<UInt32>, start: Int, end: Int, origin: UnsafeBufferPointer<Int32>,
    word: Int32, hashes: UnsafeMutablePointer<UInt64>, out: inout RawSequence
  ) throws {
    let wordStart = origin[start]
    let wordEnd = origin[end - 1] + 1
    if end - start > maxInputCharsPerWord {
      try appendUnknown(start: wordStart, end: wordEnd, word: word, out: &out)
      return
    }
    // Fast path: the whole word is a vocabulary entry (the common case).
    if end - start <= index.maxWordLength {
      var h = ScalarIndex.wordSeed
      for i in start..<end { h = ScalarIndex.step(h, text[i]) }
      let id = index.find(hash: h, text: text, start: start, end: end)
      if id >= 0 {
        out.append(id: id, start: wordStart, end: wordEnd, word: word)
        return
      }
    }
    let before = out.count
    var s = start
    while s < end {
      let continuation = s > start
      let limit = min(end, s + (continuation ? index.maxContinuationLength : index.maxWordLength))
      var h = continuation ? ScalarIndex.continuationSeed : ScalarIndex.wordSeed
      for i in s..<limit {
        h = ScalarIndex.step(h, text[i])
        hashes[i - s] = h
      }
      var e = limit
      var found: Int32 = -1
      while e > s {
        found = index.find(hash: hashes[e - s - 1], text: text, start: s, end: e)
        if found >= 0 { break }
        e -= 1
      }
      if found < 0 {
        out.removeLast(out.count - before)
        try appendUnknown(start: wordStart, end: wordEnd, word: word, out: &out)
        return
      }
      out.append(id: found, start: origin[s], end: origin[e - 1] + 1, word: word)
      s = e
    }
  }

  private func appendUnknown(start: Int32, end: Int32, word: Int32, out: inout RawSequence) throws {
    guard let unkId else { throw TokenizerError.missingToken(token: unkToken, role: "unknown (unk_token)") }
    out.append(id: unkId, start: start, end: end, word: word)
  }
}

/// Open-addressing hash table from scalar sequences to ids, probed with precomputed
/// incremental hashes so that no candidate subword is ever materialized as a `String`.
/// Keys exist in two namespaces: word-initial pieces and continuation pieces
/// (vocabulary entries that start with the continuing-subword prefix, stored without it).
final class ScalarIndex: @unchecked Sendable {
  struct Slot {
    var hash: UInt64
    var id: Int32
    var start: Int32
    var length: Int32
  }

  static let wordSeed: UInt64 = 0xCBF2_9CE4_8422_2325
  static let continuationSeed: UInt64 = 0x84222325_CBF29CE4

  /// FNV-1a style step over one scalar.
  @inline(__always)
  static func step(_ h: UInt64, _ c: UInt32) -> UInt64 { (h ^ UInt64(c)) &* 0x0000_0100_0000_01B3 }

  private let slots: UnsafeMutablePointer<Slot>
  private let mask: Int
  private let shift: UInt64
  private let pool: UnsafeMutablePointer<UInt32>
  private let poolCount: Int
  /// Longest word-initial key, in scalars.
  let maxWordLength: Int
  /// Longest continuation key, in scalars.
  let maxContinuationLength: Int

  init(entries: [(key: [UInt32], continuation: Bool, id: Int32)]) {
    var capacity = 16
    while capacity < entries.count * 2 { capacity <<= 1 }
    mask = capacity - 1
    shift = UInt64(64 - capacity.trailingZeroBitCount)
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: Slot(hash: 0, id: -1, start: 0, length: -1), count: capacity)
    poolCount = entries.reduce(0) { $0 + $1.key.count }
    pool = .allocate(capacity: max(poolCount, 1))
    var used = 0
    var maxWord = 0
    var maxContinuation = 0
    for entry in entries {
      var h = entry.continuation ? ScalarIndex.continuationSeed : ScalarIndex.wordSeed
      for c in entry.key { h = ScalarIndex.step(h, c) }
      var slot = Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> shift)
      var replaced = false
      while slots[slot].length >= 0 {
        if slots[slot].hash == h, ScalarIndex.keyEquals(slots[slot], entry.key, pool: pool) {
          slots[slot].id = entry.id
          replaced = true
          break
        }
        slot = (slot + 1) & mask
      }
      if replaced { continue }
      for (k, c) in entry.key.enumerated() { pool[used + k] = c }
      slots[slot] = Slot(hash: h, id: entry.id, start: Int32(used), length: Int32(entry.key.count))
      used += entry.key.count
      if entry.continuation {
        maxContinuation = max(maxContinuation, entry.key.count)
      } else {
        maxWord = max(maxWord, entry.key.count)
      }
    }
    maxWordLength = maxWord
    maxContinuationLength = maxContinuation
  }

  deinit {
    slots.deallocate()
    pool.deallocate()
  }

  private static func keyEquals(_ slot: Slot, _ key: [UInt32], pool: UnsafeMutablePointer<UInt32>) -> Bool {
    guard Int(slot.length) == key.count else { return false }
    for k in 0..<key.count where pool[Int(slot.start) + k] != key[k] { return false }
    return true
  }

  /// Id of `text[start..<end]` whose incremental hash (from the right seed) is `hash`, or -1.
  @inline(__always)
  func find(hash: UInt64, text: UnsafeBufferPointer<UInt32>, start: Int, end: Int) -> Int32 {
    let length = end - start
    var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
    while true {
      let s = slots[slot]
      if s.length < 0 { return -1 }
      if s.hash == hash && Int(s.length) == length {
        var equal = true
        let base = pool + Int(s.start)
        for k in 0..<length where base[k] != text[start + k] {
          equal = false
          break
        }
        if equal { return s.id }
      }
      slot = (slot + 1) & mask
    }
  }
}
