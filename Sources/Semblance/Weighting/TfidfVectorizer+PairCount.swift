import CSemblanceKernels

extension TfidfVectorizer.Accumulator {
  /// The corpus's bigrams, counted under global word ids once the lanes' words are merged.
  ///
  /// Each core counts one partition of the bigrams (by a hash of the pair) over every paper,
  /// so no two partitions share a pair and nothing is merged afterwards. A pair's global
  /// number is `id * partitionCount + partition`, its id being its place in order of first
  /// occurrence within its partition; every number is below ``numberCount``.
  struct CountedPairs {
    /// One per partition.
    var partitions: [Partition] = []
    /// One more than the largest global number.
    var numberCount = 0
    /// The pairs that pruning keeps, in a deterministic order.
    var kept: [Kept] = []

    /// A partition's pairs of every paper: entries (global number, count) paper after paper,
    /// in corpus order, and each paper's end among them (`ends[0] == 0`, one more than papers).
    struct Partition {
      var entries = MappedArray<UInt64>()
      var ends = MappedArray<Int>()

      mutating func release() {
        entries.release()
        ends.release()
      }
    }

    /// A kept pair: its key under global word ids, corpus total (0 until
    /// ``addTotals(to:)`` counts them), global number and document frequency.
    struct Kept {
      var key: UInt64
      var total: Int64
      var number: Int32
      var documents: Int32
    }

    /// Frees every partition's entries.
    mutating func release() {
      for index in partitions.indices { partitions[index].release() }
    }
  }

  /// Counts the bigrams of every paper, from the kept tokens the lanes stored (by then under
  /// global word ids: see ``globalizeTokens(of:wordMaps:)``), and keeps those whose document
  /// frequency `keeps` accepts.
  ///
  /// Counting bigrams while tokenizing, with each lane's own word ids, left one table per
  /// lane to merge afterwards: every pair of one lane looked up in the other's table, a cache
  /// miss each, at 34,000 papers a sixth of the analysis. Here each partition's task reads
  /// the stored tokens of every paper in corpus order and counts only the pairs whose hash
  /// falls in its partition; each pair is counted by one task, once per paper.
  static func countPairs(
    lanes: [Lane], runs: [(lane: Int, count: Int)], paperCount: Int,
    partitionCount: Int, expectedPairs: Int, keeping keeps: (Int32) -> Bool
  ) -> CountedPairs {
    let results = parallelMap(chunks: partitionCount) {
      partition -> (CountedPairs.Partition, MappedArray<CountedPairs.Kept>, Int) in
      var counted = CountedPairs.Partition()
      // Sized for its share of the pairs, so that it need not double as it fills.
      let table = PairTable(minimumCapacity: expectedPairs / partitionCount)
      countPartition(
        partition, of: partitionCount, lanes: lanes, runs: runs,
        paperCount: paperCount, into: table, entries: &counted.entries, ends: &counted.ends)
      // The kept pairs go to a mapping, not an array grown on a worker thread, whose
      // malloc arena would keep the memory once it is freed.
      var kept = MappedArray<CountedPairs.Kept>()
      for slot in 0..<table.capacity {
        let entry = table.entry(at: slot)
        if entry.id >= 0 && keeps(entry.documents) {
          kept.append(
            CountedPairs.Kept(
              key: entry.key, total: 0,
              number: number(of: entry.id, in: partition, of: partitionCount),
              documents: entry.documents))
        }
      }
      return (counted, kept, table.count)
    }
    var pairs = CountedPairs()
    pairs.partitions = results.map(\.0)
    pairs.numberCount = (results.map(\.2).max() ?? 0) * partitionCount
    pairs.kept.reserveCapacity(results.reduce(0) { $0 + $1.1.count })
    for var (_, kept, _) in results {
      pairs.kept += kept.buffer
      kept.release()
    }
    return pairs
  }

  /// Rewrites every lane's stored tokens from its own word ids to the global ones of
  /// `wordMaps` (in place, on all cores), so that each partition's pass over all of them
  /// reads ids without a lookup. A lane whose map is the identity (the first) is left alone.
  static func globalizeTokens(of lanes: [Lane], wordMaps: [[Int32]]) {
    var pieces: [(lane: Int, range: Range<Int>)] = []
    for (index, lane) in lanes.enumerated()
    where !wordMaps[index].elementsEqual(0..<Int32(wordMaps[index].count)) {
      let count = lane.tokens.count, chunks = max(1, min(processorCount * 2, count >> 16))
      for chunk in 0..<chunks {
        pieces.append((index, chunkRange(chunk, of: chunks, count: count)))
      }
    }
    parallelForEach(chunks: pieces.count) { piece in
      let (index, range) = pieces[piece]
      let tokens = lanes[index].tokens.buffer
      wordMaps[index].withUnsafeBufferPointer { map in
        for position in range {
          let token = tokens[position]
          // Segment ends (negative) stay as they are.
          if token >= 0 { tokens[position] = map[Int(token)] }
        }
      }
    }
  }

  /// One partition's count into `table`, `entries` and `ends` (see ``CountedPairs``).
  private static func countPartition(
    _ partition: Int, of partitionCount: Int, lanes: [Lane], runs: [(lane: Int, count: Int)],
    paperCount: Int, into table: PairTable,
    entries: inout MappedArray<UInt64>, ends: inout MappedArray<Int>
  ) {
    ends.reserve(additional: paperCount + 1)
    ends.append(0)
    var paper = PaperPairs()
    // A paper's pairs of this partition: keys, their hashes and weights, with room for
    // every token (all are written, see below).
    let keys = ScratchBuffer<UInt64>(), hashes = ScratchBuffer<UInt64>()
    let weights = ScratchBuffer<Int32>()
    defer { paper.deallocate() }
    let distance = prefetchDistance
    var next = [Int](repeating: 0, count: lanes.count)  // each lane's next paper
    for run in runs {
      let lane = lanes[run.lane]
      let tokens = lane.tokens.buffer
      let tokenEnds = lane.tokenEnds
      for local in next[run.lane]..<next[run.lane] + run.count {
        let start = local == 0 ? 0 : tokenEnds[local - 1], end = tokenEnds[local]
        keys.reserve(end - start)
        hashes.reserve(end - start)
        weights.reserve(end - start)
        let (keys, hashes, weights) = (keys.base, hashes.base, weights.base)
        // The paper's segments, each closed by the complement of its weight.
        var found = 0
        var position = start
        while position < end {
          var segmentEnd = position
          while tokens[segmentEnd] >= 0 { segmentEnd += 1 }
          let weight = ~tokens[segmentEnd]
          var previous = tokens[position]
          for token in position + 1..<segmentEnd {
            let word = tokens[token]
            let key = PairTable.key(previous, word)
            let hash = PairTable.hash(key)
            previous = word
            // Written always, and kept by the count without a branch: which partition a
            // pair falls in is a coin toss, which a branch mispredicts half the time (the
            // compiler makes one of a conditional increment).
            keys[found] = key
            hashes[found] = hash
            weights[found] = weight
            let other = Self.partition(of: hash, among: partitionCount) ^ partition
            found &+= 1 &- Int(bitPattern: UInt(bitPattern: other | (0 &- other)) >> 63)
          }
          position = segmentEnd + 1
        }
        table.reserve(additional: found)
        paper.reserve(found)
        // Ask for each slot a fixed distance ahead of its use (see `prefetchDistance`).
        for index in 0..<min(found, distance) { table.touch(hash: hashes[index]) }
        for index in 0..<found {
          if index + distance < found { table.touch(hash: hashes[index + distance]) }
          let slot = table.slot(for: keys[index], hash: hashes[index])
          paper.add(slot: slot, weight: weights[index])
        }
        entries.reserve(additional: paper.count)
        for index in 0..<paper.count {
          let id = table.finish(slot: paper.slots[index])
          entries.append(
            entry(
              term: number(of: id, in: partition, of: partitionCount),
              count: paper.counts[index]))
        }
        paper.removeAll()
        ends.append(entries.count)
      }
      next[run.lane] += run.count
    }
  }

  /// A pair's global number from its id in its partition (see ``CountedPairs``).
  @inline(__always)
  static func number(of id: Int32, in partition: Int, of partitionCount: Int) -> Int32 {
    id &* Int32(partitionCount) &+ Int32(partition)
  }

  /// The partition that counts the pair of `hash`: its upper 32 bits (a table's slot comes
  /// from the lower ones) scaled to `0..<count` by a multiplication (a division by `count`
  /// took 8% of the counting's time).
  @inline(__always)
  static func partition(of hash: UInt64, among count: Int) -> Int {
    Int(truncatingIfNeeded: ((hash >> 32) &* UInt64(truncatingIfNeeded: count)) >> 32)
  }

  /// Sets every kept pair's corpus total, which only a `maxTerms` cap needs, from the
  /// partitions' per-paper counts.
  static func addTotals(to pairs: inout CountedPairs) {
    var totals = [Int64](repeating: 0, count: pairs.numberCount)
    for partition in pairs.partitions {
      for entry in partition.entries.buffer {
        totals[Int(entry >> 32)] += Int64(Int32(truncatingIfNeeded: entry))
      }
    }
    for index in pairs.kept.indices {
      pairs.kept[index].total = totals[Int(pairs.kept[index].number)]
    }
  }
}
