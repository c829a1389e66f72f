import CSemblanceKernels

/// A hash table from byte strings (UTF-8 terms) to dense 32-bit ids, assigned in order of
/// first insertion.
///
/// This is the analyzer's hot structure: counting terms keyed by byte slices means no
/// `String` is created per token. Keys live back to back in one byte arena; the table is
/// open addressing with linear probing over a power-of-two slot array. Each 24-byte slot
/// keeps the key's full hash, its length and its first eight bytes beside its id, so a probe
/// compares a key of up to eight bytes (most words) without touching the arena, and a longer
/// one reads the arena only past its eighth byte, when everything else already matched.
struct TermTable {
  private(set) var arena: [UInt8] = []
  /// `count + 1` offsets into `arena`.
  private(set) var starts: [Int] = [0]
  private var slots: [Slot]
  private var mask: Int

  private struct Slot {
    var hash: UInt64
    /// The key's first eight bytes, little-endian, zero-padded.
    var head: UInt64
    var id: Int32
    var length: Int32
  }

  private static let empty = Slot(hash: 0, head: 0, id: -1, length: 0)

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity < minimumCapacity * 2 { capacity <<= 1 }
    slots = Array(repeating: TermTable.empty, count: capacity)
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
    let head = TermTable.head(key)
    return slots.withUnsafeBufferPointer { slots in
      let (slot, found) = probe(slots, key, hash: hash, head: head)
      return found ? slots[slot].id : -1
    }
  }

  /// The slot holding `key`, or the empty slot where it would go.
  @inline(__always)
  private func probe(
    _ slots: UnsafeBufferPointer<Slot>, _ key: UnsafeBufferPointer<UInt8>, hash: UInt64,
    head: UInt64
  ) -> (slot: Int, found: Bool) {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let entry = slots[slot]
      if entry.id < 0 { return (slot, false) }
      if entry.hash == hash && entry.head == head && Int(entry.length) == key.count
        && (key.count <= 8 || tailEquals(Int(entry.id), key))
      {
        return (slot, true)
      }
      slot = (slot + 1) & mask
    }
  }

  /// Asks for the home slot of a key with this hash, so that a loop of touches starts the
  /// cache misses of a whole segment before a loop of ``insert(_:hash:)`` needs them. A
  /// prefetch retires at once, so the misses in flight are bounded by the memory system, not
  /// by the instructions waiting on them.
  ///
  /// Mutating only so that it runs on the table in place: called on a table captured by a
  /// closure, a non-mutating method works on a copy, and copying the table retains and
  /// releases its three arrays, which cost more than the prefetch (4% of counting).
  @inline(__always)
  mutating func touch(hash: UInt64) {
    let slot = Int(truncatingIfNeeded: hash) & mask
    slots.withUnsafeBufferPointer { semblance_prefetch($0.baseAddress! + slot) }
  }

  /// The id of `key`, inserting it first when it is absent.
  @inline(__always)
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> Int32 {
    insert(key, hash: TermTable.hash(key))
  }

  /// The id of `key`, whose ``hash(_:)`` is `hash`, inserting it first when it is absent.
  @inline(__always)
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
    let head = TermTable.head(key)
    let (slot, found) = slots.withUnsafeBufferPointer { probe($0, key, hash: hash, head: head) }
    if found { return slots[slot].id }
    let id = Int32(count)
    arena.append(contentsOf: key)
    starts.append(arena.count)
    slots[slot] = Slot(hash: hash, head: head, id: id, length: Int32(key.count))
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

  /// The first eight bytes of `key`, little-endian, zero-padded.
  @inline(__always)
  static func head(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    let raw = UnsafeRawBufferPointer(key)
    if raw.count >= 8 { return raw.loadUnaligned(as: UInt64.self) }
    var word: UInt64 = 0
    for index in 0..<raw.count { word |= UInt64(raw[index]) << (8 * UInt64(index)) }
    return word
  }

  /// Whether the bytes of key `id` past the eighth equal those of `key` (same length).
  @inline(__always)
  private func tailEquals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
    arena.withUnsafeBufferPointer { arena in
      memcmp(arena.baseAddress! + starts[id] + 8, key.baseAddress! + 8, key.count - 8) == 0
    }
  }

  private mutating func grow() {
    let capacity = (mask + 1) * 2
    let newMask = capacity - 1
    var grown = [Slot](repeating: TermTable.empty, count: capacity)
    for entry in slots where entry.id >= 0 {
      var target = Int(truncatingIfNeeded: entry.hash) & newMask
      while grown[target].id >= 0 { target = (target + 1) & newMask }
      grown[target] = entry
    }
    slots = grown
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
