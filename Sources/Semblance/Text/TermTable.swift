import CSemblanceKernels

/// A hash table from byte strings (UTF-8 terms) to dense 32-bit ids, assigned in order of
/// first insertion.
///
/// This is the analyzer's hot structure: counting terms keyed by byte slices means no
/// `String` is created per token. Keys live back to back in one byte arena; the table is
/// open addressing with linear probing over a power-of-two slot array, and each slot keeps
/// the key's full hash beside its id, so most probes never touch the arena.
struct TermTable {
  private(set) var arena: [UInt8] = []
  /// `count + 1` offsets into `arena`.
  private(set) var starts: [Int] = [0]
  private var slotIDs: [Int32]
  private var slotHashes: [UInt64]
  private var mask: Int

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity < minimumCapacity * 2 { capacity <<= 1 }
    slotIDs = Array(repeating: -1, count: capacity)
    slotHashes = Array(repeating: 0, count: capacity)
    mask = capacity - 1
  }

  /// The number of distinct keys.
  var count: Int { starts.count - 1 }

  /// The bytes of key `id`.
  @inline(__always)
  func withKey<R>(_ id: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try arena.withUnsafeBufferPointer { arena in
      try body(UnsafeBufferPointer(rebasing: arena[starts[id]..<starts[id + 1]]))
    }
  }

  /// Key `id` as a string.
  func string(_ id: Int) -> String {
    withKey(id) { String(decoding: $0, as: UTF8.self) }
  }

  /// The id of `key`, or -1 when it is absent.
  @inline(__always)
  func find(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    find(key, hash: TermTable.hash(key))
  }

  /// The id of `key`, whose ``hash(_:)`` is `hash`, or -1 when it is absent.
  @inline(__always)
  func find(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
    var slot = Int(truncatingIfNeeded: hash) & mask
    return slotIDs.withUnsafeBufferPointer { ids in
      slotHashes.withUnsafeBufferPointer { hashes in
        while true {
          let id = ids[slot]
          if id < 0 { return -1 }
          if hashes[slot] == hash && keyEquals(Int(id), key) { return id }
          slot = (slot + 1) & mask
        }
      }
    }
  }

  /// Asks for the home slot of a key with this hash (its id and its hash), so that a loop of
  /// touches starts the cache misses of a whole segment before a loop of
  /// ``insert(_:hash:)`` needs them. A prefetch retires at once, so the misses in flight
  /// are bounded by the memory system, not by the instructions waiting on them.
  @inline(__always)
  func touch(hash: UInt64) {
    let slot = Int(truncatingIfNeeded: hash) & mask
    slotIDs.withUnsafeBufferPointer { semblance_prefetch($0.baseAddress! + slot) }
    slotHashes.withUnsafeBufferPointer { semblance_prefetch($0.baseAddress! + slot) }
  }

  /// The id of `key`, inserting it first when it is absent.
  @inline(__always)
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    insert(key, hash: TermTable.hash(key))
  }

  /// The id of `key`, whose ``hash(_:)`` is `hash`, inserting it first when it is absent.
  @inline(__always)
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let id = slotIDs[slot]
      if id < 0 { break }
      if slotHashes[slot] == hash && keyEquals(Int(id), key) { return id }
      slot = (slot + 1) & mask
    }
    let id = Int32(count)
    arena.append(contentsOf: key)
    starts.append(arena.count)
    slotIDs[slot] = id
    slotHashes[slot] = hash
    if count * 2 > mask { grow() }
    return id
  }

  /// Inserts a string key.
  @discardableResult
  mutating func insert(_ key: String) -> Int32 {
    var key = key
    return key.withUTF8 { insert($0) }
  }

  /// Looks up a string key (-1 when absent).
  func find(_ key: String) -> Int32 {
    var key = key
    return key.withUTF8 { find($0) }
  }

  @inline(__always)
  private func keyEquals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
    let start = starts[id], length = starts[id + 1] - start
    guard length == key.count else { return false }
    if length == 0 { return true }
    return arena.withUnsafeBufferPointer { arena in
      memcmp(arena.baseAddress! + start, key.baseAddress!, length) == 0
    }
  }

  private mutating func grow() {
    let capacity = (mask + 1) * 2
    var ids = [Int32](repeating: -1, count: capacity)
    var hashes = [UInt64](repeating: 0, count: capacity)
    let newMask = capacity - 1
    for slot in 0...mask where slotIDs[slot] >= 0 {
      var target = Int(truncatingIfNeeded: slotHashes[slot]) & newMask
      while ids[target] >= 0 { target = (target + 1) & newMask }
      ids[target] = slotIDs[slot]
      hashes[target] = slotHashes[slot]
    }
    slotIDs = ids
    slotHashes = hashes
    mask = newMask
  }

  /// The first eight bytes of `key` as a big-endian integer, zero-padded: integer order of
  /// prefixes is byte order of the keys, up to ties between keys that share eight bytes.
  @inline(__always)
  static func bigEndianPrefix(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var prefix: UInt64 = 0
    for index in 0..<8 {
      prefix <<= 8
      if index < key.count { prefix |= UInt64(key[index]) }
    }
    return prefix
  }

  /// A fast 64-bit hash of a byte string: eight bytes at a time, multiply-xorshift mixing.
  @inline(__always)
  static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    let raw = UnsafeRawBufferPointer(key)
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: key.count)
    var position = 0
    while position + 8 <= raw.count {
      let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
      h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 31
      position += 8
    }
    if position < raw.count {
      var word: UInt64 = 0
      var shift: UInt64 = 0
      while position < raw.count {
        word |= UInt64(raw[position]) << shift
        shift += 8
        position += 1
      }
      h = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
    }
    h ^= h >> 32
    h = h &* 0x94D0_49BB_1331_11EB
    h ^= h >> 29
    return h
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
