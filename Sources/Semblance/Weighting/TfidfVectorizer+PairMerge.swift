import CSemblanceKernels

extension TfidfVectorizer.Accumulator {
  /// The lanes' bigrams merged under global word ids, and pruned by document frequency.
  ///
  /// Every pair counted in some lane has a global number below ``numberCount``; a lane's
  /// local pair id maps to it through ``laneMaps`` (`nil`: the local id is the number). Only
  /// the pairs that pruning keeps are listed, with their key and document frequency (and
  /// corpus total, once ``addTotals(to:from:)`` has counted them).
  struct MergedPairs {
    /// Per lane: local pair id to global number, or `nil` when they are the same.
    var laneMaps: [[Int32]?] = []
    /// One more than the largest global number.
    var numberCount = 0
    /// The kept pairs, in a deterministic order.
    var kept: [Kept] = []

    /// A kept pair: its key under global word ids, corpus total (0 until
    /// ``addTotals(to:from:)`` counts them), global number and document frequency.
    struct Kept {
      var key: UInt64
      var total: Int64
      var number: Int32
      var documents: Int32
    }
  }

  /// Sets every kept pair's corpus total, which only a `maxTerms` cap needs, from the
  /// lanes' per-paper counts: one pass over the counts instead of a total in every slot of
  /// the counting tables.
  static func addTotals(to merged: inout MergedPairs, from lanes: [Lane]) {
    var totals = [Int64](repeating: 0, count: merged.numberCount)
    for (lane, map) in zip(lanes, merged.laneMaps) {
      for entry in lane.entries.buffer {
        let term = Int32(truncatingIfNeeded: entry >> 32)
        guard term < 0 else { continue }
        let local = Int(term & Int32.max)
        totals[map.map { Int($0[local]) } ?? local] += Int64(Int32(truncatingIfNeeded: entry))
      }
    }
    for index in merged.kept.indices {
      merged.kept[index].total = totals[Int(merged.kept[index].number)]
    }
  }

  /// Merges the lanes' bigrams and keeps those whose document frequency `keeps` accepts;
  /// frees the lanes' bigram tables.
  ///
  /// `wordMaps` maps each lane's word ids to the global ones. The first lane's words were
  /// merged first, so its map is the identity, and its pair keys are already global: with
  /// two lanes the second lane's pairs are looked up in the first lane's table
  /// (``mergeIntoFirstLane(_:wordMaps:keeping:)``) and nothing new is built. With more lanes
  /// every pair goes into one new table per hash partition
  /// (``mergeByPartition(_:wordMaps:keeping:)``), which makes one lookup per pair whatever
  /// the number of lanes.
  static func mergePairs(
    _ lanes: [Lane], wordMaps: [[Int32]], keeping keeps: (Int32) -> Bool
  ) -> MergedPairs {
    if lanes.count <= 2 {
      return mergeIntoFirstLane(lanes, wordMaps: wordMaps, keeping: keeps)
    }
    return mergeByPartition(lanes, wordMaps: wordMaps, keeping: keeps)
  }

  /// The merge for one or two lanes: the first lane's table becomes the merged table.
  ///
  /// Each pair of the second lane is looked up, under global word ids, in the first lane's
  /// table. When it is there, its document frequency is added to that slot and
  /// it takes the first lane's id; its own slot's frequency is set to 0, so that pruning
  /// skips it. The pairs not found keep their slots and take new numbers after the first
  /// lane's, in order of their local ids. Both passes run on all cores over ranges of
  /// slots: no two pairs of one lane share a key, so no two tasks write the same slot.
  ///
  /// The partitioned merge copies every pair of both lanes into lists and then into new
  /// tables, all fresh memory: at a million papers it took 6.2 s, and this merge 3.5 s.
  private static func mergeIntoFirstLane(
    _ lanes: [Lane], wordMaps: [[Int32]], keeping keeps: (Int32) -> Bool
  ) -> MergedPairs {
    var merged = MergedPairs()
    guard let first = lanes.first?.pairs else { return merged }
    assert(wordMaps[0].enumerated().allSatisfy { Int($1) == $0 }, "lane 0's word ids are local")
    merged.laneMaps = [nil]
    merged.numberCount = first.count
    let second = lanes.count > 1 ? lanes[1].pairs : nil
    var secondMap: [Int32] = []
    if let second, second.count > 0 {
      secondMap = [Int32](repeating: -1, count: second.count)
      let wordMap = wordMaps[1]
      let tasks = second.capacity < 1 << 16 ? 1 : processorCount * 8
      secondMap.withUnsafeMutableBufferPointer { map in
        let map = UnsafeSendable(map)
        parallelForEach(chunks: tasks) { task in
          let range = chunkRange(task, of: tasks, count: second.capacity)
          // A block of occupied slots at a time, rewritten under global ids; each lookup in
          // the first lane's table (far larger than the caches) is asked for a fixed number
          // of pairs ahead.
          let block = 256, distance = 16
          var keys = [UInt64](repeating: 0, count: block)
          var slots = [Int](repeating: 0, count: block)
          var start = range.lowerBound
          while start < range.upperBound {
            let end = min(start + block, range.upperBound)
            var found = 0
            for slot in start..<end {
              let entry = second.entry(at: slot)
              guard entry.id >= 0 else { continue }
              keys[found] = PairTable.key(
                wordMap[Int(entry.key >> 32)], wordMap[Int(entry.key & 0xFFFF_FFFF)])
              slots[found] = slot
              found += 1
            }
            for index in 0..<min(distance, found) { first.touch(keys[index]) }
            for index in 0..<found {
              if index + distance < found { first.touch(keys[index + distance]) }
              let slot = slots[index]
              let entry = second.entry(at: slot)
              let owner = first.find(keys[index])
              if owner >= 0 {
                map.value[Int(entry.id)] = first.absorb(documents: entry.documents, at: owner)
                second.clearDocuments(at: slot)
              }
            }
            start = end
          }
        }
      }
      // New numbers for the pairs only the second lane has, in local id order.
      var next = Int32(first.count)
      for local in secondMap.indices where secondMap[local] < 0 {
        secondMap[local] = next
        next += 1
      }
      merged.numberCount = Int(next)
    }
    if second != nil { merged.laneMaps.append(secondMap) }

    // Prune: the first lane's slots hold every pair it has, with the second lane's counts
    // added; the second lane's slots with a frequency left hold the pairs only it has.
    let firstTasks = first.capacity < 1 << 16 ? 1 : processorCount * 4
    let secondTasks = (second?.capacity ?? 0) < 1 << 16 ? 1 : processorCount * 4
    let wordMap = lanes.count > 1 ? wordMaps[1] : []
    // Each task writes the pairs it keeps into a mapping of its own, sized for its whole
    // range of slots, of which only the pages written become memory. (Arrays grown inside
    // the tasks came from the worker threads' malloc arenas, which kept the freed memory:
    // the build's peak at 300,000 papers rose by 100 MiB.)
    let tasks = firstTasks + secondTasks
    let ranges = (0..<tasks).map { task in
      task < firstTasks
        ? chunkRange(task, of: firstTasks, count: first.capacity)
        : chunkRange(task - firstTasks, of: secondTasks, count: second?.capacity ?? 0)
    }
    let scratch = ranges.map {
      AnonymousMemory(capacity: max($0.count, 1), of: MergedPairs.Kept.self, hugePages: false)
    }
    var keptCounts = [Int](repeating: 0, count: tasks)
    keptCounts.withUnsafeMutableBufferPointer { keptCounts in
      let shared = UnsafeSendable(keptCounts)
      parallelForEach(chunks: tasks) { task in
        let output = scratch[task].pointer(to: MergedPairs.Kept.self)
        var kept = 0
        if task < firstTasks {
          for slot in ranges[task] {
            let entry = first.entry(at: slot)
            if entry.id >= 0 && keeps(entry.documents) {
              output[kept] = MergedPairs.Kept(
                key: entry.key, total: 0, number: entry.id, documents: entry.documents)
              kept += 1
            }
          }
        } else if let second {
          for slot in ranges[task] {
            let entry = second.entry(at: slot)
            if entry.id >= 0 && entry.documents > 0 && keeps(entry.documents) {
              let key = PairTable.key(
                wordMap[Int(entry.key >> 32)], wordMap[Int(entry.key & 0xFFFF_FFFF)])
              output[kept] = MergedPairs.Kept(
                key: key, total: 0, number: secondMap[Int(entry.id)], documents: entry.documents)
              kept += 1
            }
          }
        }
        shared.value[task] = kept
      }
    }
    merged.kept.reserveCapacity(keptCounts.reduce(0, +))
    for (task, kept) in keptCounts.enumerated() {
      merged.kept += UnsafeBufferPointer(
        start: scratch[task].pointer(to: MergedPairs.Kept.self), count: kept)
    }
    // The lanes' bigram tables are the largest structure of counting; free them now.
    for lane in lanes { lane.pairs = PairTable(minimumCapacity: 0) }
    return merged
  }

  /// The merge for any number of lanes: one new table per partition of the key hashes, all
  /// partitions at once. A merged pair's global number is `id * partitionCount + partition`.
  ///
  /// First each lane, on a core of its own, rewrites its pairs under global ids and deals
  /// them into one list per partition, in slot order, and frees its table; then each
  /// partition merges its lists in lane order. Every table slot is read once, and the list
  /// lets a merge ask for the slot of a pair a few pairs ahead.
  private static func mergeByPartition(
    _ lanes: [Lane], wordMaps: [[Int32]], keeping keeps: (Int32) -> Bool
  ) -> MergedPairs {
    let partitionCount = processorCount
    let lanePairCounts = lanes.map(\.pairs.count)
    var dealt: [[[PairMergeTable.Entry]]] = parallelMap(chunks: lanes.count) { laneIndex in
      let lane = lanes[laneIndex]
      let wordMap = wordMaps[laneIndex]
      var lists = [[PairMergeTable.Entry]](repeating: [], count: partitionCount)
      // An even share each, and a little more for the hash's unevenness.
      let share = lane.pairs.count / partitionCount + lane.pairs.count / 16 + 16
      for partition in 0..<partitionCount { lists[partition].reserveCapacity(share) }
      lane.pairs.forEachPair { key, local, documents in
        let global = PairTable.key(wordMap[Int(key >> 32)], wordMap[Int(key & 0xFFFF_FFFF)])
        let partition = Int(PairTable.hash(global) >> 40) % partitionCount
        lists[partition].append(
          PairMergeTable.Entry(key: global, local: local, documents: documents))
      }
      // The lanes' bigram tables are the largest structure of counting; free them now.
      lane.pairs = PairTable(minimumCapacity: 0)
      return lists
    }
    // Each lane's map is written by every partition task, at disjoint positions.
    let maps = lanePairCounts.map { count in
      let map = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(count, 1))
      map.initialize(repeating: 0)
      return map
    }
    defer { for map in maps { map.deallocate() } }
    let sharedMaps = UnsafeSendable(maps)
    let partitions: [PairMergeTable] = parallelMap(chunks: partitionCount) { partition in
      var table = PairMergeTable(
        minimumCapacity: (lanePairCounts.max() ?? 16) / partitionCount)
      for laneIndex in lanes.indices {
        let map = sharedMaps.value[laneIndex]
        let number = Int32(partitionCount), offset = Int32(partition)
        table.merge(dealt[laneIndex][partition]) { local, id in
          map[Int(local)] = id * number + offset
        }
      }
      return table
    }
    dealt = []
    var merged = MergedPairs()
    merged.laneMaps = maps.enumerated().map { Array($1.prefix(lanePairCounts[$0])) }
    merged.numberCount = (partitions.map(\.count).max() ?? 0) * partitionCount
    for (partition, table) in partitions.enumerated() {
      for (id, df) in table.documents.enumerated() where keeps(df) {
        merged.kept.append(
          MergedPairs.Kept(
            key: table.keys[id], total: 0, number: Int32(id * partitionCount + partition),
            documents: df))
      }
    }
    return merged
  }
}
