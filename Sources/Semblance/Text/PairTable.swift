/// A hash table from pairs of 32-bit term ids (a bigram) to dense 32-bit ids, assigned in
/// order of first insertion.
///
/// Keying bigrams by the ids of their two words instead of by their bytes makes counting
/// them an integer hash per occurrence and about 40 bytes per distinct bigram (its key, and a
/// slot holding key and id at load factor ≤ 1/2); the bigram's text is built only for the few
/// that survive pruning.
struct PairTable {
  /// The keys, `first << 32 | second`, in id order.
  private(set) var keys: [UInt64] = []
  /// Each slot holds its key beside its id (-1 when empty), so a probe touches one cache line.
  private var slots: [Slot]
  private var mask: Int

  private struct Slot {
    var key: UInt64
    var id: Int32
  }

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity < minimumCapacity * 2 { capacity <<= 1 }
    slots = Array(repeating: Slot(key: 0, id: -1), count: capacity)
    mask = capacity - 1
  }

  var count: Int { keys.count }

  @inline(__always)
  static func key(_ first: Int32, _ second: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
  }

  @inline(__always)
  private static func slot(of key: UInt64, mask: Int) -> Int {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return Int(truncatingIfNeeded: h) & mask
  }

  /// The id of `key`, inserting it when absent.
  @inline(__always)
  mutating func insert(_ key: UInt64) -> Int32 {
    var slot = PairTable.slot(of: key, mask: mask)
    while true {
      let entry = slots[slot]
      if entry.id < 0 { break }
      if entry.key == key { return entry.id }
      slot = (slot + 1) & mask
    }
    let id = Int32(keys.count)
    keys.append(key)
    slots[slot] = Slot(key: key, id: id)
    if keys.count * 2 > mask { grow() }
    return id
  }

  private mutating func grow() {
    let capacity = (mask + 1) * 2
    let newMask = capacity - 1
    var newSlots = [Slot](repeating: Slot(key: 0, id: -1), count: capacity)
    for (id, key) in keys.enumerated() {
      var slot = PairTable.slot(of: key, mask: newMask)
      while newSlots[slot].id >= 0 { slot = (slot + 1) & newMask }
      newSlots[slot] = Slot(key: key, id: Int32(id))
    }
    slots = newSlots
    mask = newMask
  }
}
