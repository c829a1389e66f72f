extension IVFNeighborIndex {
  /// The `count` indexed vectors with the highest inner product with `query`, among the
  /// lists of its `nprobe` most similar centroids.
  ///
  /// ```swift
  /// let best = ivf.search(embeddings.row(0), count: 10, excluding: 0)
  /// let exact = ivf.search(query, count: 10, nprobe: ivf.listCount)   // every list
  /// ```
  ///
  /// - Parameters:
  ///   - query: a vector of `dimensions` values.
  ///   - count: how many results at most.
  ///   - excluding: an original row never returned (the query's own row), or nil.
  ///   - nprobe: lists to scan (default: the index's `nprobe`), clamped to `1...listCount`.
  ///     More lists are scanned when these hold fewer than `count` vectors.
  /// - Returns: (original row, score) pairs, best first; ties go to the lower row.
  /// - Precondition: `query.count == dimensions`.
  /// - Complexity: O(lists · d) to rank the lists, then O(scanned vectors · d).
  public func search(
    _ query: [Float], count: Int, excluding: Int? = nil, nprobe: Int? = nil
  ) -> [Neighbor] {
    precondition(query.count == dimensions, "query has \(query.count) dimensions")
    return query.withUnsafeBufferPointer {
      search($0.baseAddress!, count: count, excluding: excluding, nprobe: nprobe, isEligible: nil)
    }
  }

  /// The `count` best indexed vectors for every row of `queries`, scanning each list once
  /// with SGEMM for all the queries that probe it.
  ///
  /// ```swift
  /// let results = ivf.search(queryMatrix, count: 10)
  /// ```
  ///
  /// - Precondition: `queries.columns == dimensions`.
  public func search(_ queries: DenseMatrix, count: Int, nprobe: Int? = nil) -> [[Neighbor]] {
    precondition(queries.columns == dimensions, "queries have \(queries.columns) dimensions")
    return neighbors(
      ofRows: 0..<queries.rows, in: queries, count: count, nprobe: nprobe, excluding: { _ in nil },
      isEligible: nil)
  }

  /// The approximate all-pairs k-nearest-neighbour graph: for every indexed vector, in
  /// original row order, its `count` best other vectors.
  ///
  /// ```swift
  /// let graph = ivf.neighbors(count: 10)
  /// graph[0]    // the neighbours of row 0, best first
  /// ```
  ///
  /// - Complexity: about `n · nprobe · n / lists · d` multiply-adds in SGEMM instead of the
  ///   `n² · d` of exact search.
  public func neighbors(count: Int, nprobe: Int? = nil) -> [[Neighbor]] {
    // Queries in list order: neighbouring queries probe the same lists.
    var results = [[Neighbor]](repeating: [], count: self.count)
    let ordered = neighbors(
      ofRows: 0..<self.count, in: listVectors, count: count, nprobe: nprobe,
      excluding: { Int(rowIDs[$0]) }, isEligible: nil)
    for (position, list) in ordered.enumerated() { results[Int(rowIDs[position])] = list }
    return results
  }

  /// `nprobe` as a search uses it.
  @inline(__always)
  func effectiveProbes(_ nprobe: Int?) -> Int {
    min(listCount, max(1, nprobe ?? self.nprobe))
  }

  /// The number of vectors in `list`.
  @inline(__always)
  func listSize(_ list: Int) -> Int {
    Int(listOffsets[list + 1] - listOffsets[list])
  }

  /// Single-query search on a raw vector, with the eligibility filter of `PaperIndex`.
  func search(
    _ query: UnsafePointer<Float>, count: Int, excluding: Int?, nprobe: Int?,
    isEligible: ((Int) -> Bool)?
  ) -> [Neighbor] {
    guard count > 0 else { return [] }
    let d = dimensions
    var centroidScores = [Float](repeating: 0, count: listCount)
    centroidScores.withUnsafeMutableBufferPointer { scores in
      BLAS.sgemv(
        .none, m: listCount, n: d, a: centroids.baseAddress, lda: d, x: query,
        y: scores.baseAddress!)
    }
    let probes = centroidScores.withUnsafeBufferPointer {
      probeLists($0, nprobe: effectiveProbes(nprobe), needed: count + (excluding == nil ? 0 : 1))
    }
    var top = TopK(capacity: count)
    let block = max(1, min(largestList, ExactNeighborIndex.databaseBlock))
    var scores = [Float](repeating: 0, count: block)
    scores.withUnsafeMutableBufferPointer { scores in
      for list in probes {
        var start = listRange(list).lowerBound
        let end = listRange(list).upperBound
        while start < end {
          let rows = min(block, end - start)
          BLAS.sgemv(
            .none, m: rows, n: d, a: listVectors.baseAddress + start * d, lda: d, x: query,
            y: scores.baseAddress!)
          let ids = rowIDs.buffer.baseAddress! + start
          ExactNeighborIndex.scan(
            UnsafeBufferPointer(rebasing: scores[0..<rows]), into: &top, excluding: excluding,
            isEligible: isEligible, candidate: { Int(ids[$0]) })
          start += rows
        }
      }
    }
    return top.sorted()
  }

  /// The lists a query probes, most similar first: its `nprobe` best centroids by `scores`
  /// (ties: the lower list), and further lists in the same order while those hold fewer
  /// than `needed` vectors.
  func probeLists(_ scores: UnsafeBufferPointer<Float>, nprobe: Int, needed: Int) -> [Int] {
    var top = TopK(capacity: nprobe)
    ExactNeighborIndex.scan(scores, offset: 0, into: &top, excluding: nil, isEligible: nil)
    var probes = top.sorted().map(\.position)
    var held = probes.reduce(0) { $0 + listSize($1) }
    if held >= needed || probes.count == listCount { return probes }
    let order = (0..<listCount).sorted {
      TopK.isWorse(scores[$1], Int32($1), than: scores[$0], Int32($0))
    }
    for list in order[probes.count...] {
      probes.append(list)
      held += listSize(list)
      if held >= needed { break }
    }
    return probes
  }
}
