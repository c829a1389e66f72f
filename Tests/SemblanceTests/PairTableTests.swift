import Testing

@testable import Semblance

/// The bigram table against a dictionary, through many doublings in place.
@Suite("Pair table")
struct PairTableTests {
  /// Counts documents of random keys (with repeats inside documents and across them) into
  /// a table that starts at 16 slots and doubles in place about fifteen times, with each
  /// document's counts in a ``PaperPairs``. Every run of
  /// slots that wraps round the table's end is put back last (`PairTable.grow`); with this
  /// many keys at load up to 3/4 some always do.
  @Test("counts, ids and lookups survive growth", arguments: [1, 2, 3])
  func matchesADictionary(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    let table = PairTable(minimumCapacity: 0)
    var ids: [UInt64: Int32] = [:]
    var documents: [UInt64: Int32] = [:]
    var paper = PaperPairs()
    defer { paper.deallocate() }
    var order: [UInt64] = []
    // A pool that grows as the corpus goes on, so that old keys recur among new ones.
    var pool: [UInt64] = []
    for _ in 0..<4_000 {
      let length = Int.random(in: 1...60, using: &generator)
      table.reserve(additional: length)
      paper.reserve(length)
      var seen: [UInt64: Int32] = [:]
      var firstSeen: [UInt64] = []
      for _ in 0..<length {
        let key: UInt64
        if !pool.isEmpty && Bool.random(using: &generator) {
          key = pool[Int.random(in: 0..<pool.count, using: &generator)]
        } else {
          key = PairTable.key(
            Int32.random(in: 0..<50_000, using: &generator),
            Int32.random(in: 0..<50_000, using: &generator))
          pool.append(key)
        }
        let weight = Int32.random(in: 1...2, using: &generator)
        if ids[key] == nil {
          ids[key] = Int32(order.count)
          order.append(key)
        }
        if seen[key] == nil { firstSeen.append(key) }
        seen[key, default: 0] += weight
        paper.add(slot: table.slot(for: key, hash: PairTable.hash(key)), weight: weight)
      }
      // The paper's pairs, in order of first occurrence, with their counts.
      #expect(paper.count == seen.count)
      for index in 0..<paper.count {
        let key = table.entry(at: paper.slots[index]).key
        #expect(key == firstSeen[index])
        let id = table.finish(slot: paper.slots[index])
        #expect(id == ids[key])
        #expect(paper.counts[index] == seen[key])
        documents[key, default: 0] += 1
      }
      paper.removeAll()
    }
    #expect(table.count == order.count)
    #expect(table.capacity >= 1 << 14)
    for (id, key) in order.enumerated() {
      let slot = table.find(key)
      #expect(slot >= 0)
      guard slot >= 0 else { continue }
      let entry = table.entry(at: slot)
      #expect(entry.id == Int32(id))
      #expect(entry.documents == documents[key])
    }
    // Every occupied slot, as pruning reads them.
    var visited = 0
    for slot in 0..<table.capacity where table.entry(at: slot).id >= 0 {
      let entry = table.entry(at: slot)
      visited += 1
      #expect(ids[entry.key] == entry.id)
      #expect(documents[entry.key] == entry.documents)
    }
    #expect(visited == order.count)
    #expect(table.find(PairTable.key(60_000, 60_000)) == -1)
  }

  /// Bigrams are counted one hash partition per core: each partition must get its share,
  /// or one core does the others' work.
  @Test("pairs spread evenly over the counting partitions", arguments: [1, 2, 3, 5, 8])
  func partitionsAreEven(count: Int) {
    var generator = SeededGenerator(seed: 7)
    var sizes = [Int](repeating: 0, count: count)
    let keys = 200_000
    for _ in 0..<keys {
      let key = PairTable.key(
        Int32.random(in: 0..<100_000, using: &generator),
        Int32.random(in: 0..<100_000, using: &generator))
      let partition = TfidfVectorizer.Accumulator.partition(
        of: PairTable.hash(key), among: count)
      #expect((0..<count).contains(partition))
      guard (0..<count).contains(partition) else { return }
      sizes[partition] += 1
    }
    // Within 3% of an even share (a binomial spread is about 0.5% here).
    let share = Double(keys) / Double(count)
    #expect(sizes.allSatisfy { abs(Double($0) - share) < 0.03 * share }, "\(sizes)")
  }
}
