extension IVFNeighborIndex {
  /// Queries gathered per SGEMM call.
  static let queryTile = 512
  /// List members scored per SGEMM call.
  static let listTile = 2_048
  /// The most centroid scores held at once while choosing probes (4 MB of Float).
  static let probeScoreBudget = 1 << 20
  /// The bytes of top-k heaps a batch keeps at once; queries are processed in chunks below it.
  static let heapBudget = 128 << 20

  /// The `count` best vectors for each row `queries` of `vectors`, never the row that
  /// `excluding` names for it, found list by list.
  ///
  /// Each core takes a contiguous share of the queries and works through it in chunks, with
  /// single-threaded BLAS calls (as exact all-pairs search does): a chunk first picks its
  /// probes (one SGEMM against the centroids per block of queries), then its queries are
  /// grouped by probed list, and each list is scanned once with SGEMM for all the queries of
  /// the chunk that probe it, the top-k selection fused into the scan of every tile of
  /// scores. A query gets the results that ``search(_:count:excluding:nprobe:isEligible:)``
  /// gives it alone, up to rounding: SGEMM's depends on how many rows share a call, so scores
  /// can differ in the last bits (and near-ties at the edge of the top k swap). Lists are best
  /// first, or in no particular order (the same every time) when `ordered` is false, for
  /// callers that rank them again.
  func neighbors<Rows: RandomAccessCollection<Int>>(
    ofRows queries: Rows, in vectors: DenseMatrix, count: Int, nprobe: Int?,
    excluding: (Int) -> Int?, isEligible: ((Int) -> Bool)?, ordered: Bool = true
  ) -> [[Neighbor]] where Rows.Index == Int {
    assert(vectors.columns == dimensions)
    let m = queries.count
    guard count > 0, m > 0 else { return queries.map { _ in [] } }
    let probes = effectiveProbes(nprobe)
    let rows = Array(queries)
    let exclusions = rows.map { excluding($0) ?? -1 }
    let tasks = min(processorCount, max(1, m / 256))
    let chunkSize = max(256, min(65_536, IVFNeighborIndex.heapBudget / tasks / (16 * count + 128)))
    var results = [[Neighbor]](repeating: [], count: m)
    results.withUnsafeMutableBufferPointer { results in
      let results = UnsafeSendable(results)
      parallelForEach(chunks: tasks) { task in
        let share = chunkRange(task, of: tasks, count: m)
        var start = share.lowerBound
        while start < share.upperBound {
          let end = min(start + chunkSize, share.upperBound)
          let found = scanChunk(
            Array(rows[start..<end]), in: vectors, count: count, nprobe: probes,
            exclusions: Array(exclusions[start..<end]), isEligible: isEligible,
            threading: tasks > 1 ? .single : .shared, ordered: ordered)
          for (offset, list) in found.enumerated() { results.value[start + offset] = list }
          start = end
        }
      }
    }
    return results
  }

  /// One chunk of a batch: probes, grouping by list, and the list scans.
  private func scanChunk(
    _ rows: [Int], in vectors: DenseMatrix, count: Int, nprobe p: Int, exclusions: [Int],
    isEligible: ((Int) -> Bool)?, threading: BLAS.Threading, ordered: Bool
  ) -> [[Neighbor]] {
    let q = rows.count, d = dimensions
    var probes = [Int32](repeating: 0, count: q * p)
    // Queries whose best lists hold too few vectors; searched one by one at the end.
    var needsMore = [Bool](repeating: false, count: q)
    chooseProbes(
      rows, in: vectors, nprobe: p, count: count, exclusions: exclusions, probes: &probes,
      needsMore: &needsMore, threading: threading)
    let grouped = groupedByList(probes, stride: p, ranks: 0..<p, skipping: needsMore)
    probes = []

    let selectors = SelectorTable(rows: q, capacity: count)
    defer { selectors.deallocate() }
    scanLists(
      rows, in: vectors, listStarts: grouped.listStarts, listQueries: grouped.queries,
      selectorOfEntry: { Int(grouped.queries[$0]) }, selectors: selectors,
      exclusions: exclusions, isEligible: isEligible, threading: threading)

    var results = selectors.lists(ordered: ordered)
    for query in 0..<q where needsMore[query] {
      let exclusion = exclusions[query]
      results[query] = search(
        vectors.baseAddress + rows[query] * d, count: count,
        excluding: exclusion < 0 ? nil : exclusion, nprobe: p, isEligible: isEligible)
    }
    return results
  }

  /// The (query, rank) entries of `probes` (`stride` lists per query, best first) at `ranks`
  /// grouped by list, by a counting sort: entries `listStarts[l]..<listStarts[l + 1]` are
  /// list `l`'s, in increasing query order, each with its query and its rank. Queries that
  /// `skipping` marks are left out.
  func groupedByList(
    _ probes: [Int32], stride: Int, ranks: Range<Int>, skipping: [Bool]? = nil
  ) -> (listStarts: [Int], queries: [Int32], ranks: [Int32]) {
    let q = stride == 0 ? 0 : probes.count / stride
    let included = (0..<q).filter { skipping?[$0] != true }
    var listStarts = [Int](repeating: 0, count: listCount + 1)
    for query in included {
      for rank in ranks { listStarts[Int(probes[query * stride + rank]) + 1] += 1 }
    }
    for list in 0..<listCount { listStarts[list + 1] += listStarts[list] }
    var queries = [Int32](repeating: 0, count: listStarts[listCount])
    var entryRanks = [Int32](repeating: 0, count: queries.count)
    var next = listStarts
    for query in included {
      for rank in ranks {
        let list = Int(probes[query * stride + rank])
        queries[next[list]] = Int32(query)
        entryRanks[next[list]] = Int32(rank)
        next[list] += 1
      }
    }
    return (listStarts, queries, entryRanks)
  }

  /// Scans every list once for the queries that probe it, with SGEMM over tiles of queries
  /// and of members, the top-k selection fused into each tile's scores.
  ///
  /// Entries `listStarts[l]..<listStarts[l + 1]` of `listQueries` are the queries (indices
  /// into `rows`) that probe list `l`; entry `e`'s scores go to row `selectorOfEntry(e)` of
  /// `selectors`, flat storage in which an offer is one comparison and a store, where an
  /// array of `TopK` values checked the uniqueness of two arrays at every offer.
  func scanLists(
    _ rows: [Int], in vectors: DenseMatrix, listStarts: [Int], listQueries: [Int32],
    selectorOfEntry: (Int) -> Int, selectors: SelectorTable, exclusions: [Int],
    isEligible: ((Int) -> Bool)?, threading: BLAS.Threading
  ) {
    let d = dimensions
    let queryTile = IVFNeighborIndex.queryTile
    let listTile = max(1, min(IVFNeighborIndex.listTile, largestList))
    var tileQueries = [Float](repeating: 0, count: queryTile * d)
    var tileScores = [Float](repeating: 0, count: queryTile * listTile)
    tileQueries.withUnsafeMutableBufferPointer { tileQueries in
      tileScores.withUnsafeMutableBufferPointer { tileScores in
        for list in 0..<listCount {
          let members = listRange(list)
          let probing = listStarts[list]..<listStarts[list + 1]
          if members.isEmpty || probing.isEmpty { continue }
          for tileStart in stride(from: probing.lowerBound, to: probing.upperBound, by: queryTile) {
            let tq = min(queryTile, probing.upperBound - tileStart)
            for t in 0..<tq {
              let row = rows[Int(listQueries[tileStart + t])]
              (tileQueries.baseAddress! + t * d).update(
                from: vectors.baseAddress + row * d, count: d)
            }
            for rowStart in stride(from: members.lowerBound, to: members.upperBound, by: listTile) {
              let tr = min(listTile, members.upperBound - rowStart)
              BLAS.sgemm(
                .none, .transposed, m: tq, n: tr, k: d,
                a: tileQueries.baseAddress!, lda: d,
                b: listVectors.baseAddress + rowStart * d, ldb: d,
                c: tileScores.baseAddress!, ldc: tr, threading: threading)
              let ids = rowIDs.buffer.baseAddress! + rowStart
              for t in 0..<tq {
                let query = Int(listQueries[tileStart + t])
                var selector = SelectorTable.Row(
                  table: selectors, row: selectorOfEntry(tileStart + t))
                ExactNeighborIndex.scan(
                  UnsafeBufferPointer(rebasing: tileScores[(t * tr)..<(t * tr + tr)]),
                  into: &selector, excluding: exclusions[query],
                  isEligible: isEligible, candidate: { Int(ids[$0]) })
              }
            }
          }
        }
      }
    }
  }

  /// Writes the `p` best lists of every query into `probes` (`p` per query), and marks the
  /// queries whose `p` best lists hold fewer vectors than they need.
  func chooseProbes(
    _ rows: [Int], in vectors: DenseMatrix, nprobe p: Int, count: Int, exclusions: [Int],
    probes: inout [Int32], needsMore: inout [Bool], threading: BLAS.Threading
  ) {
    let q = rows.count, d = dimensions, lists = listCount
    let block = max(1, min(q, IVFNeighborIndex.probeScoreBudget / lists))
    var gathered = [Float](repeating: 0, count: block * d)
    var scores = [Float](repeating: 0, count: block * lists)
    var top = TopK(capacity: p)
    var blockStart = 0
    while blockStart < q {
      let b = min(block, q - blockStart)
      gathered.withUnsafeMutableBufferPointer { gathered in
        for t in 0..<b {
          (gathered.baseAddress! + t * d).update(
            from: vectors.baseAddress + rows[blockStart + t] * d, count: d)
        }
        scores.withUnsafeMutableBufferPointer { scores in
          BLAS.sgemm(
            .none, .transposed, m: b, n: lists, k: d, a: gathered.baseAddress!, lda: d,
            b: centroids.baseAddress, ldb: d, c: scores.baseAddress!, ldc: lists,
            threading: threading)
        }
      }
      scores.withUnsafeBufferPointer { scores in
        for t in 0..<b {
          let query = blockStart + t
          top.removeAll()
          ExactNeighborIndex.scan(
            UnsafeBufferPointer(rebasing: scores[(t * lists)..<(t * lists + lists)]),
            offset: 0, into: &top, excluding: nil, isEligible: nil)
          var held = 0
          for (j, probe) in top.sorted().enumerated() {
            probes[query * p + j] = Int32(probe.position)
            held += listSize(probe.position)
          }
          let needed = count + (exclusions[query] < 0 ? 0 : 1)
          needsMore[query] = held < needed && p < lists
        }
      }
      blockStart += b
    }
  }
}
