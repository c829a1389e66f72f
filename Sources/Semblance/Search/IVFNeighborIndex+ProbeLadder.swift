extension IVFNeighborIndex {
  /// A fixed set of queries searched at every `nprobe` that calibration asks about, each
  /// probed list scanned once.
  ///
  /// The lists a query probes at `nprobe` p are its p best lists, a prefix of those it
  /// probes at any larger value. The ladder keeps, for every query and every rank r it has
  /// scanned, the `count` best vectors of the query's r-th list alone; the results at p are
  /// the `count` best of the first p of those, which are exactly the `count` best of the
  /// union, since ``TopK`` orders (score, position) pairs strictly. Asking for a larger
  /// `nprobe` scans only the ranks not scanned yet, so a calibration that tries 1, 2, 4, 8,
  /// 16, 12, 10 and 11 lists scans 16 lists per query instead of 64.
  ///
  /// A query gets the results ``neighbors(ofRows:in:count:nprobe:excluding:isEligible:)``
  /// gives it at the same `nprobe`, including a query whose p best lists hold fewer vectors
  /// than it needs, which is searched on its own as there. Both score a list with SGEMM over
  /// the queries that probe it, so their scores can differ in the last bits, as a batch
  /// search's do between batches: SGEMM's rounding depends on how many rows share a call.
  struct ProbeLadder {
    let index: IVFNeighborIndex
    let vectors: DenseMatrix
    /// The queries, rows of `vectors`; each excludes itself, as a batch search's
    /// `excluding: { $0 }` does.
    let rows: [Int]
    let count: Int
    let isEligible: ((Int) -> Bool)?
    /// Ranks scanned so far, the same for every query.
    private(set) var scanned = 0
    /// Per query, the lists of its scanned ranks, best first.
    private var probes: [[Int32]]
    /// Per query and scanned rank, the `count` best vectors of that list alone.
    private var buckets: [[[Neighbor]]]

    /// A ladder of `rows` of `vectors`, each excluding itself, `count` deep; nothing is
    /// scanned until asked for.
    init(
      _ index: IVFNeighborIndex, rows: [Int], in vectors: DenseMatrix, count: Int,
      isEligible: ((Int) -> Bool)?
    ) {
      self.index = index
      self.vectors = vectors
      self.rows = rows
      self.count = count
      self.isEligible = isEligible
      probes = Array(repeating: [], count: rows.count)
      buckets = Array(repeating: [], count: rows.count)
    }

    /// Every query's `depth` best vectors at `nprobe` (`depth` at most the ladder's `count`,
    /// all of it by default), scanning the ranks not scanned yet.
    mutating func neighbors(nprobe: Int, depth: Int? = nil) -> [[Neighbor]] {
      let p = index.effectiveProbes(nprobe)
      let count = min(depth ?? self.count, self.count)
      guard count > 0, !rows.isEmpty else { return rows.map { _ in [] } }
      if p > scanned { scan(upTo: p) }
      let d = index.dimensions
      var results = [[Neighbor]](repeating: [], count: rows.count)
      var merged = TopK(capacity: count)
      for query in rows.indices {
        let held = probes[query].prefix(p).reduce(0) { $0 + index.listSize(Int($1)) }
        if held < count + 1 && p < index.listCount {
          // As a batch search does: this query is searched on its own, probing further lists.
          results[query] = index.search(
            vectors.baseAddress + rows[query] * d, count: count, excluding: rows[query],
            nprobe: p, isEligible: isEligible)
          continue
        }
        merged.removeAll()
        // A bucket's best `count` suffice: nothing below them can be among the union's.
        for bucket in buckets[query].prefix(p) {
          for neighbor in bucket.prefix(count) {
            merged.insert(neighbor.score, Int32(neighbor.position))
          }
        }
        results[query] = merged.sorted()
      }
      return results
    }

    /// Scans ranks `scanned..<ranks` of every query: the queries split between the cores,
    /// each share's lists scanned once for all its queries with single-threaded BLAS.
    private mutating func scan(upTo ranks: Int) {
      let first = scanned, width = ranks - first
      let m = rows.count
      let tasks = min(processorCount, max(1, m / 256))
      typealias Share = (probes: [[Int32]], buckets: [[[Neighbor]]])
      let shares = parallelMap(chunks: tasks) { task -> Share in
        let share = chunkRange(task, of: tasks, count: m)
        let shareRows = Array(rows[share])
        let q = shareRows.count
        var order = [Int32](repeating: 0, count: q * ranks)
        var needsMore = [Bool](repeating: false, count: q)
        index.chooseProbes(
          shareRows, in: vectors, nprobe: ranks, count: count, exclusions: shareRows,
          probes: &order, needsMore: &needsMore, threading: tasks > 1 ? .single : .shared)
        // Entry e, query i at rank r, goes into selector i · width + r − first.
        let grouped = index.groupedByList(order, stride: ranks, ranks: first..<ranks)
        let selectors = SelectorTable(rows: q * width, capacity: count)
        defer { selectors.deallocate() }
        index.scanLists(
          shareRows, in: vectors, listStarts: grouped.listStarts, listQueries: grouped.queries,
          selectorOfEntry: { Int(grouped.queries[$0]) * width + Int(grouped.ranks[$0]) - first },
          selectors: selectors, exclusions: shareRows, isEligible: isEligible,
          threading: tasks > 1 ? .single : .shared)
        let newProbes = (0..<q).map { query in
          Array(order[(query * ranks + first)..<(query * ranks + ranks)])
        }
        let lists = selectors.lists(ordered: true)
        let newBuckets = (0..<q).map { query in
          Array(lists[(query * width)..<(query * width + width)])
        }
        return (newProbes, newBuckets)
      }
      var query = 0
      for share in shares {
        for (lists, found) in zip(share.probes, share.buckets) {
          probes[query].append(contentsOf: lists)
          buckets[query].append(contentsOf: found)
          query += 1
        }
      }
      scanned = ranks
    }
  }
}
