/// A hash table from pairs of 32-bit term ids (a bigram) to dense 32-bit ids, assigned in
/// order of first insertion, that also counts them.
///
/// Keying bigrams by the ids of their two words instead of by their bytes makes counting
/// them an integer hash per occurrence; the bigram's text is built only for the few that
/// survive pruning. Each 32-byte slot holds everything counting needs — the key, the id, the
/// count in the current document, the number of documents and the corpus total — so an
/// occurrence costs one cache line, and ``touch(_:)`` lets a caller start the loads of a
/// whole segment's slots at once instead of waiting for each miss in turn.
///
/// Not thread-safe: each counting task owns its tables.
final class PairTable {
  /// The keys, `first << 32 | second`, in id order.
  private(set) var keys: [UInt64] = []
  private var slots: UnsafeMutablePointer<Slot>
  private var mask: Int

  struct Slot {
    var key: UInt64
    var id: Int32
    /// The document that `count` belongs to (-1: none yet).
    var document: Int32
    var count: Int32
    /// Documents that contain the pair.
    var documents: Int32
    /// The pair's weighted count over all documents.
    var total: Int64
  }

  private static let empty = Slot(key: 0, id: -1, document: -1, count: 0, documents: 0, total: 0)

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity < minimumCapacity * 2 { capacity <<= 1 }
    slots = .allocate(capacity: capacity)
    slots.initialize(repeating: PairTable.empty, count: capacity)
    mask = capacity - 1
  }

  deinit { slots.deallocate() }

  var count: Int { keys.count }

  @inline(__always)
  static func key(_ first: Int32, _ second: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
  }

  /// A well-mixed hash of a key: its low bits pick the home slot, its high bits a partition.
  @inline(__always)
  static func hash(_ key: UInt64) -> UInt64 {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 32
    return h
  }

  /// Loads the home slot of `key` and returns a value derived from it, so that a loop of
  /// touches issues independent loads the processor overlaps; the result is meaningless.
  @inline(__always)
  func touch(_ key: UInt64) -> UInt64 {
    slots[Int(truncatingIfNeeded: PairTable.hash(key)) & mask].key
  }

  /// Grows the table, if needed, so that `additional` new keys fit without growing again:
  /// slot positions returned by ``count(_:weight:document:)`` stay valid until then.
  @inline(__always)
  func reserve(additional: Int) {
    while (keys.count + additional) * 2 > mask { grow() }
  }

  /// The slot of `key`, inserting it when absent. Growth must have been reserved.
  @inline(__always)
  private func slot(of key: UInt64) -> Int {
    var slot = Int(truncatingIfNeeded: PairTable.hash(key)) & mask
    while true {
      let entry = slots[slot]
      if entry.id < 0 { break }
      if entry.key == key { return slot }
      slot = (slot + 1) & mask
    }
    slots[slot].key = key
    slots[slot].id = Int32(keys.count)
    keys.append(key)
    return slot
  }

  /// Adds `weight` to the count of `key` in `document` and returns the pair's slot when this
  /// is its first occurrence in that document, or -1. Room must have been reserved.
  @inline(__always)
  func count(_ key: UInt64, weight: Int32, document: Int32) -> Int {
    let slot = slot(of: key)
    if slots[slot].document != document {
      slots[slot].document = document
      slots[slot].count = weight
      return slot
    }
    slots[slot].count = slots[slot].count.saturatingAdd(weight)
    return -1
  }

  /// Closes the current document's count at `slot`: returns the pair's id and count, and
  /// adds them to its document frequency and total.
  @inline(__always)
  func finish(slot: Int) -> (id: Int32, count: Int32) {
    let entry = slots[slot]
    slots[slot].documents += 1
    slots[slot].total += Int64(entry.count)
    return (entry.id, entry.count)
  }

  /// Adds a pair's document frequency and total (merging tables) and returns its id.
  func add(_ key: UInt64, documents: Int32, total: Int64) -> Int32 {
    reserve(additional: 1)
    let slot = slot(of: key)
    slots[slot].documents += documents
    slots[slot].total += total
    return slots[slot].id
  }

  /// Calls `body` with the key, id, document frequency and total of every pair, in slot order.
  func forEachPair(_ body: (_ key: UInt64, _ id: Int32, _ documents: Int32, _ total: Int64) -> Void) {
    for slot in 0...mask where slots[slot].id >= 0 {
      let entry = slots[slot]
      body(entry.key, entry.id, entry.documents, entry.total)
    }
  }

  /// The document frequency and total of every pair, in id order.
  func statistics() -> (documents: [Int32], totals: [Int64]) {
    var documents = [Int32](repeating: 0, count: keys.count)
    var totals = [Int64](repeating: 0, count: keys.count)
    forEachPair { _, id, frequency, total in
      documents[Int(id)] = frequency
      totals[Int(id)] = total
    }
    return (documents, totals)
  }

  private func grow() {
    let capacity = (mask + 1) * 2
    let newMask = capacity - 1
    let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
    newSlots.initialize(repeating: PairTable.empty, count: capacity)
    for slot in 0...mask where slots[slot].id >= 0 {
      var target = Int(truncatingIfNeeded: PairTable.hash(slots[slot].key)) & newMask
      while newSlots[target].id >= 0 { target = (target + 1) & newMask }
      newSlots[target] = slots[slot]
    }
    slots.deallocate()
    slots = newSlots
    mask = newMask
  }
}
