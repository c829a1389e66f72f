import CSemblanceKernels

/// Exact maximum-inner-product search over the rows of a dense matrix; with l2-normalised
/// rows, that is exact cosine nearest-neighbour search.
///
/// ```swift
/// let index = ExactNeighborIndex(embeddings)
/// let best = index.search(embeddings.row(0), count: 5, excluding: 0)
/// let graph = index.neighbors(count: 10)      // every row's 10 nearest other rows
/// ```
///
/// Scores come from SGEMM over blocks of queries and rows, with the top-k selection fused
/// into the scan of each block, so memory stays at one block of scores and never n × n.
/// Ties are broken by the lower row, so output is deterministic.
public struct ExactNeighborIndex: Sendable {
  /// The indexed vectors, one per row.
  public let vectors: DenseMatrix

  /// Creates an index over the rows of `vectors`.
  public init(_ vectors: DenseMatrix) {
    self.vectors = vectors
  }

  /// Rows of the scored block (database side) per SGEMM call.
  static let databaseBlock = 8_192
  /// Queries per SGEMM call.
  static let queryBlock = 256

  /// The `count` rows with the highest inner product with `query`.
  ///
  /// - Parameters:
  ///   - query: a vector of `vectors.columns` values.
  ///   - count: how many rows to return at most.
  ///   - excluding: a row never returned (the query paper itself), or nil.
  /// - Returns: the rows by descending score; ties go to the lower row.
  /// - Precondition: `query.count == vectors.columns`.
  public func search(
    _ query: [Float], count: Int, excluding: Int? = nil
  ) -> [Neighbor] {
    search(query, count: count, excluding: excluding, isEligible: nil)
  }

  func search(
    _ query: [Float], count: Int, excluding: Int?, isEligible: ((Int) -> Bool)?
  ) -> [Neighbor] {
    precondition(query.count == vectors.columns, "query has \(query.count) dimensions")
    let n = vectors.rows, d = vectors.columns
    var top = TopK(capacity: count)
    var scores = [Float](repeating: 0, count: min(n, ExactNeighborIndex.databaseBlock))
    var start = 0
    query.withUnsafeBufferPointer { query in
      while start < n {
        let rows = min(ExactNeighborIndex.databaseBlock, n - start)
        scores.withUnsafeMutableBufferPointer { scores in
          BLAS.sgemv(
            .none, m: rows, n: d, a: vectors.baseAddress + start * d, lda: d,
            x: query.baseAddress!, y: scores.baseAddress!)
        }
        scores.withUnsafeBufferPointer { scores in
          ExactNeighborIndex.scan(
            UnsafeBufferPointer(rebasing: scores[0..<rows]), offset: start, into: &top,
            excluding: excluding, isEligible: isEligible)
        }
        start += rows
      }
    }
    return top.sorted()
  }

  /// The `count` nearest other rows of every row: the all-pairs k-nearest-neighbour graph.
  ///
  /// - Returns: one list per row, best first, never containing the row itself.
  /// - Complexity: O(n² · d) multiply-adds in SGEMM, O(n · d) extra memory per block.
  public func neighbors(count: Int) -> [[Neighbor]] {
    let n = vectors.rows
    return neighbors(ofRows: 0..<n, count: count)
  }

  /// The `count` nearest other rows of each row in `queries`.
  ///
  /// Each core takes a contiguous share of the query blocks and, for each, runs a
  /// single-threaded SGEMM against every database block and scans the scores at once, while
  /// they are still in cache; so the selection overlaps the other core's SGEMM instead of
  /// adding to it. A block of consecutive rows is multiplied in place; any other rows (a
  /// random sample, say) are gathered into a block first. When `queries` is every row, the
  /// symmetric search (``symmetricNeighbors(count:isEligible:)``) computes each score once
  /// instead, unless its selectors would exceed their memory budget; its lists come in no
  /// particular order when `ordered` is false.
  func neighbors<Rows: RandomAccessCollection<Int>>(
    ofRows queries: Rows, count: Int, isEligible: ((Int) -> Bool)? = nil, ordered: Bool = true
  ) -> [[Neighbor]] where Rows.Index == Int {
    let n = vectors.rows, d = vectors.columns
    guard n > 0, d > 0, count > 0, !queries.isEmpty else { return queries.map { _ in [] } }
    if queries.count == n, ExactNeighborIndex.usesSymmetricSearch(rows: n, count: count),
      queries.elementsEqual(0..<n)
    {
      return symmetricNeighbors(count: count, isEligible: isEligible, ordered: ordered)
    }
    return blockedNeighbors(ofRows: queries, count: count, isEligible: isEligible)
  }

  /// ``neighbors(ofRows:count:isEligible:)`` by blocks of queries against blocks of rows.
  func blockedNeighbors<Rows: RandomAccessCollection<Int>>(
    ofRows queries: Rows, count: Int, isEligible: ((Int) -> Bool)?
  ) -> [[Neighbor]] where Rows.Index == Int {
    let n = vectors.rows, d = vectors.columns
    guard n > 0, d > 0, count > 0, !queries.isEmpty else { return queries.map { _ in [] } }
    let queryBlock = ExactNeighborIndex.queryBlock
    let blocks = (queries.count + queryBlock - 1) / queryBlock
    let tasks = min(processorCount, blocks)
    let threading: BLAS.Threading = tasks > 1 ? .single : .shared
    var results = [[Neighbor]](repeating: [], count: queries.count)
    results.withUnsafeMutableBufferPointer { results in
      let results = UnsafeSendable(results)
      parallelForEach(chunks: tasks) { task in
        let databaseBlock = min(ExactNeighborIndex.databaseBlock, n)
        var scores = [Float](repeating: 0, count: queryBlock * databaseBlock)
        var gathered = [Float](repeating: 0, count: queryBlock * d)
        for block in chunkRange(task, of: tasks, count: blocks) {
          let blockStart = queries.startIndex + block * queryBlock
          let blockCount = min(queryBlock, queries.endIndex - blockStart)
          let blockRows = queries[blockStart..<(blockStart + blockCount)]
          let first = blockRows.first!
          let isConsecutive = blockRows.last! - first == blockCount - 1
            && zip(blockRows, blockRows.dropFirst()).allSatisfy { $1 == $0 + 1 }
          if !isConsecutive {
            gathered.withUnsafeMutableBufferPointer { gathered in
              for (q, row) in blockRows.enumerated() {
                (gathered.baseAddress! + q * d).update(from: vectors.baseAddress + row * d, count: d)
              }
            }
          }
          var heaps = [TopK](repeating: TopK(capacity: count), count: blockCount)
          var start = 0
          while start < n {
            let rows = min(databaseBlock, n - start)
            gathered.withUnsafeBufferPointer { gathered in
              scores.withUnsafeMutableBufferPointer { scores in
                BLAS.sgemm(
                  .none, .transposed, m: blockCount, n: rows, k: d,
                  a: isConsecutive ? vectors.baseAddress + first * d : gathered.baseAddress!,
                  lda: d, b: vectors.baseAddress + start * d, ldb: d,
                  c: scores.baseAddress!, ldc: rows, threading: threading)
              }
            }
            scores.withUnsafeBufferPointer { scores in
              for q in 0..<blockCount {
                let row = UnsafeBufferPointer(rebasing: scores[(q * rows)..<(q * rows + rows)])
                ExactNeighborIndex.scan(
                  row, offset: start, into: &heaps[q], excluding: blockRows[blockStart + q],
                  isEligible: isEligible)
              }
            }
            start += rows
          }
          for q in 0..<blockCount {
            results.value[blockStart - queries.startIndex + q] = heaps[q].sorted()
          }
        }
      }
    }
    return results
  }

  /// Offers every score of `row` (rows `offset ..< offset + row.count`) to `heap`.
  ///
  /// A kernel (`semblance_indices_at_least`, sixteen comparisons per instruction with
  /// AVX-512) lists the scores that reach the heap's threshold; once the heap is full almost
  /// none do, so the scan costs a small fraction of the SGEMM that produced the scores.
  @inline(__always)
  static func scan<Selector: TopKSelector>(
    _ row: UnsafeBufferPointer<Float>, offset: Int, into heap: inout Selector, excluding: Int?,
    isEligible: ((Int) -> Bool)?
  ) {
    scan(row, into: &heap, excluding: excluding, isEligible: isEligible) { offset + $0 }
  }

  /// Offers every score of `row` to `heap`, where score `i` belongs to row `candidate(i)`
  /// (for an inverted list, the original row of its `i`-th member).
  @inline(__always)
  static func scan<Selector: TopKSelector>(
    _ row: UnsafeBufferPointer<Float>, into heap: inout Selector, excluding: Int?,
    isEligible: ((Int) -> Bool)?, candidate: (Int) -> Int
  ) {
    let count = row.count
    guard count > 0, let scores = row.baseAddress else { return }
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: scanChunk + 16) { hits in
      var start = 0
      while start < count {
        // The threshold is read again for every chunk, as the heap fills.
        let length = min(scanChunk, count - start)
        let found = semblance_indices_at_least(
          scores + start, length, heap.threshold, hits.baseAddress!)
        for hit in 0..<found {
          let index = start + Int(hits[hit])
          let score = scores[index]
          if score < heap.threshold { continue }
          let candidate = candidate(index)
          if candidate == excluding { continue }
          if let isEligible, !isEligible(candidate) { continue }
          heap.insert(score, Int32(candidate))
        }
        start += length
      }
    }
  }

  /// Scores compared per call of the selection kernel in `scan`: short enough that the
  /// threshold keeps up with a filling heap, long enough that the call costs little.
  static let scanChunk = 128
}
