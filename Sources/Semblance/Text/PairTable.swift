/// A hash table from pairs of 32-bit term ids (a bigram) to dense 32-bit ids, assigned in
/// order of first insertion.
///
/// Keying bigrams by the ids of their two words instead of by their bytes makes counting
/// them an integer hash per occurrence and 12 bytes per distinct bigram; the bigram's text is
/// built only for the few that survive pruning.
struct PairTable {
  /// The keys, `first << 32 | second`, in id order.
  private(set) var keys: [UInt64] = []
  private var slots: [Int32]
  private var mask: Int

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity < minimumCapacity * 2 { capacity <<= 1 }
    slots = Array(repeating: -1, count: capacity)
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
      let id = slots[slot]
      if id < 0 { break }
      if keys[Int(id)] == key { return id }
      slot = (slot + 1) & mask
    }
    let id = Int32(keys.count)
    keys.append(key)
    slots[slot] = id
    if keys.count * 2 > mask { grow() }
    return id
  }

  private mutating func grow() {
    let capacity = (mask + 1) * 2
    let newMask = capacity - 1
    var newSlots = [Int32](repeating: -1, count: capacity)
    for (id, key) in keys.enumerated() {
      var slot = PairTable.slot(of: key, mask: newMask)
      while newSlots[slot] >= 0 { slot = (slot + 1) & newMask }
      newSlots[slot] = Int32(id)
    }
    slots = newSlots
    mask = newMask
  }
}
