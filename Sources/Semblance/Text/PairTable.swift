#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSemblanceKernels

/// A hash table from pairs of 32-bit term ids (a bigram) to dense 32-bit ids, assigned in
/// order of first insertion, that also counts them.
///
/// Keying bigrams by the ids of their two words instead of by their bytes makes counting
/// them an integer hash per occurrence; the bigram's text is built only for the few that
/// survive pruning. Each 16-byte slot holds the key, the id and the number of documents, so
/// an occurrence costs one cache line, and ``touch(hash:)`` lets a caller start the loads of
/// later slots instead of waiting for each miss in turn. A paper's counts are kept apart, by
/// slot, in a ``PaperPairs`` that stays in the first-level cache, and corpus totals (which
/// only a `maxTerms` cap needs) are not kept: slots of 32 bytes that held both made a table
/// twice the size, whose fresh pages cost more than the paper's table does
/// (Docs/Benchmarks.md).
///
/// The slots are an anonymous mapping in which an all-zero slot is empty, and the table
/// doubles in place (``grow()``): the mapping is extended without copying, and the pairs are
/// moved within it. A copy into a new table would need fresh pages for the whole new table
/// and give the old one back, where this needs them only for the added half.
///
/// Not thread-safe: each counting task owns its tables.
final class PairTable {
  /// How many pairs the table holds; the next new pair's id.
  private(set) var count = 0
  private var slots: UnsafeMutablePointer<Slot>
  private var mask: Int

  struct Slot {
    var key: UInt64
    /// The pair's id plus one; 0 marks an empty slot, so zeroed memory is an empty table.
    var tag: Int32
    /// Documents that contain the pair.
    var documents: Int32

    /// The pair's id; negative for an empty slot.
    var id: Int32 { tag &- 1 }
  }

  private static let empty = Slot(key: 0, tag: 0, documents: 0)

  init(minimumCapacity: Int = 1024) {
    var capacity = 16
    while capacity * 3 < minimumCapacity * 4 { capacity <<= 1 }
    slots = PairTable.map(PairTable.byteCount(capacity)).assumingMemoryBound(to: Slot.self)
    mask = capacity - 1
  }

  /// Inside a ``PageReserve/withReuse(_:)`` scope the pages go on to the next large mapping.
  deinit {
    #if os(Linux)
    PageReserve.shared.release(UnsafeMutableRawPointer(slots), byteCount: PairTable.byteCount(mask + 1))
    #else
    munmap(slots, PairTable.byteCount(mask + 1))
    #endif
  }

  /// The bytes mapped for `capacity` slots: whole pages.
  private static func byteCount(_ capacity: Int) -> Int {
    AnonymousMemory.roundedUp(capacity * MemoryLayout<Slot>.stride, to: AnonymousMemory.pageSize)
  }

  /// A new zero-filled mapping, its pages already faulted in.
  private static func map(_ byteCount: Int) -> UnsafeMutableRawPointer {
    let base = AnonymousMemory.mapFresh(byteCount)
    faultIn(base, byteCount: byteCount)
    return base
  }

  /// Writes a zero into each page of `byteCount` bytes at `base` (page-aligned) that is still
  /// zero-filled on demand.
  ///
  /// Counting reads a slot before it writes it. A read of a page never written maps the
  /// shared zero page, and the write after it must then replace that mapping and flush it
  /// from every core's TLB, which interrupts the other cores: in a virtual machine, an exit
  /// to the host for each of them. That made analysis 1.24 times slower at 34,000 papers. A
  /// write first takes an ordinary fault.
  private static func faultIn(_ base: UnsafeMutableRawPointer, byteCount: Int) {
    for offset in stride(from: 0, to: byteCount, by: AnonymousMemory.pageSize) {
      base.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
    }
  }

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

  /// Asks for the home slot of the key whose ``hash(_:)`` is `hash`, so that a loop of
  /// touches starts the cache misses of later keys before ``slot(for:hash:)`` needs them. A
  /// prefetch retires at once, so the misses in flight are bounded by the memory system, not
  /// by the instructions waiting on them.
  @inline(__always)
  func touch(hash: UInt64) {
    semblance_prefetch(slots + (Int(truncatingIfNeeded: hash) & mask))
  }

  /// Grows the table, if needed, so that `additional` new keys fit without growing again:
  /// slot positions returned by ``slot(for:hash:)`` stay valid until then.
  @inline(__always)
  func reserve(additional: Int) {
    // Load factor at most 3/4: integer keys probe linearly, and memory matters at scale.
    while (count + additional) * 4 > (mask + 1) * 3 { grow() }
  }

  /// The slot of `key`, whose ``hash(_:)`` is `hash`, inserting it when absent. Growth must
  /// have been reserved.
  @inline(__always)
  func slot(for key: UInt64, hash: UInt64) -> Int {
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let entry = slots[slot]
      if entry.tag == 0 { break }
      if entry.key == key { return slot }
      slot = (slot + 1) & mask
    }
    slots[slot] = Slot(key: key, tag: Int32(truncatingIfNeeded: count + 1), documents: 0)
    count += 1
    return slot
  }

  /// Counts one more document that contains the pair at `slot`, and returns the pair's id.
  @inline(__always)
  func finish(slot: Int) -> Int32 {
    slots[slot].documents += 1
    return slots[slot].id
  }

  /// The number of slots; ``entry(at:)`` reads any of them.
  var capacity: Int { mask + 1 }

  /// The contents of `slot`; an empty slot has a negative id.
  @inline(__always)
  func entry(at slot: Int) -> Slot { slots[slot] }

  /// The slot holding `key`, or -1 when it is absent.
  @inline(__always)
  func find(_ key: UInt64) -> Int {
    var slot = Int(truncatingIfNeeded: PairTable.hash(key)) & mask
    while true {
      let entry = slots[slot]
      if entry.id < 0 { return -1 }
      if entry.key == key { return slot }
      slot = (slot + 1) & mask
    }
  }

  /// Doubles the table in place.
  ///
  /// The mapping is extended (on Linux without copying a page; elsewhere into a new zeroed
  /// mapping), so every pair is still at its old position, and its new home is either its
  /// old home or that plus the old capacity. The pairs are then taken out and put back one
  /// by one, starting just after an empty slot and going round the old half once, so that
  /// every run of occupied slots is visited from its start. A pair whose new home is in the
  /// old half goes back at or before its old position, past only pairs already put back; one
  /// whose home is in the new half goes there, where there are only such pairs. So no pair's
  /// probe ever passes a pair that has not yet moved, and the table is valid at the end. The
  /// one exception, a probe that would wrap from the table's end to its start, is put back
  /// after all the others.
  private func grow() {
    let oldCapacity = mask + 1, capacity = oldCapacity * 2
    let oldBytes = PairTable.byteCount(oldCapacity), bytes = PairTable.byteCount(capacity)
    let grown = AnonymousMemory.extendFresh(slots, from: oldBytes, to: bytes)
    PairTable.faultIn(grown + oldBytes, byteCount: bytes - oldBytes)
    slots = grown.assumingMemoryBound(to: Slot.self)
    mask = capacity - 1
    // The load is at most 3/4, so the old half has an empty slot.
    var start = 0
    while slots[start].tag != 0 { start += 1 }
    var wrapped: [Slot] = []
    for step in 1...oldCapacity {
      let position = (start + step) & (oldCapacity - 1)
      let entry = slots[position]
      if entry.tag == 0 { continue }
      slots[position] = PairTable.empty
      var target = Int(truncatingIfNeeded: PairTable.hash(entry.key)) & mask
      while target < capacity && slots[target].tag != 0 { target += 1 }
      if target < capacity {
        slots[target] = entry
      } else {
        wrapped.append(entry)
      }
    }
    for entry in wrapped {
      var target = Int(truncatingIfNeeded: PairTable.hash(entry.key)) & mask
      while slots[target].tag != 0 { target = (target + 1) & mask }
      slots[target] = entry
    }
  }
}

/// One paper's distinct pairs, by their ``PairTable`` slot, with their counts in the paper.
///
/// A slot number is already a hash of its pair, so its low bits address a small
/// open-addressing table (twice the paper's possible pairs, rounded up to a power of two: a
/// few kilobytes for an abstract), which stays in the first-level cache. Storage is manual
/// so that the counting loop's closure captures no arrays; ``deallocate()`` frees it.
struct PaperPairs {
  /// How many distinct pairs the paper has so far.
  private(set) var count = 0
  /// Per distinct pair, in order of first occurrence: its table slot and its count.
  private(set) var slots: UnsafeMutablePointer<Int>
  private(set) var counts: UnsafeMutablePointer<Int32>
  /// Per distinct pair: where it is in the open-addressing table, for clearing.
  private var positions: UnsafeMutablePointer<Int>
  /// The open-addressing table: slot + 1 of the pair there (0: empty), and its index.
  private var marks: UnsafeMutablePointer<Int>
  private var indices: UnsafeMutablePointer<Int32>
  private var capacity = 0
  private var mask = 0

  init() {
    slots = .allocate(capacity: 1)
    counts = .allocate(capacity: 1)
    positions = .allocate(capacity: 1)
    marks = .allocate(capacity: 1)
    marks.initialize(to: 0)
    indices = .allocate(capacity: 1)
  }

  func deallocate() {
    slots.deallocate()
    counts.deallocate()
    positions.deallocate()
    marks.deallocate()
    indices.deallocate()
  }

  /// Makes room for `pairs` distinct pairs. Only between papers (when empty).
  mutating func reserve(_ pairs: Int) {
    precondition(count == 0, "room is made between papers")
    guard pairs > capacity else { return }
    deallocate()
    capacity = max(pairs, 2 * capacity)
    var size = 16
    while size < 2 * capacity { size <<= 1 }
    mask = size - 1
    slots = .allocate(capacity: capacity)
    counts = .allocate(capacity: capacity)
    positions = .allocate(capacity: capacity)
    marks = .allocate(capacity: size)
    marks.initialize(repeating: 0, count: size)
    indices = .allocate(capacity: size)
  }

  /// Adds `weight` to the paper's count of the pair at `slot`. Room must have been reserved.
  @inline(__always)
  mutating func add(slot: Int, weight: Int32) {
    var position = slot & mask
    while true {
      let mark = marks[position]
      if mark == slot &+ 1 {
        let index = Int(indices[position])
        counts[index] = counts[index].saturatingAdd(weight)
        return
      }
      if mark == 0 { break }
      position = (position &+ 1) & mask
    }
    marks[position] = slot &+ 1
    indices[position] = Int32(truncatingIfNeeded: count)
    slots[count] = slot
    counts[count] = weight
    positions[count] = position
    count += 1
  }

  /// Forgets the paper's pairs.
  @inline(__always)
  mutating func removeAll() {
    for index in 0..<count { marks[positions[index]] = 0 }
    count = 0
  }
}
