extension PaperIndex {
  /// The all-pairs k-nearest-neighbour graph: every paper's `count` most related papers,
  /// ranked exactly as `related(to:count:exact:)` ranks them (hybrid by default).
  ///
  /// ```swift
  /// let graph = try index.neighbors(count: 10)
  /// graph[0].map { index.id(at: $0.position) }
  /// ```
  ///
  /// LSA scores come from blocked SGEMM (never an n × n matrix) with the top-k selection fused
  /// into the scan of each block; with α < 1 the top `max(100, 10·count)` LSA candidates of
  /// each paper are re-scored with their TF-IDF cosine through one dense scatter row per task.
  ///
  /// With an IVF index (see `IndexConfiguration.approximateSearch`) the LSA candidates come
  /// from it, every list scanned once with SGEMM for all the papers that probe it, unless
  /// `exact` is true.
  ///
  /// - Throws: `QueryError.invalidCount` unless `1 ≤ count ≤ papers`.
  /// - Complexity: O(n² · d) multiply-adds in SGEMM, plus O(n · candidates · nnz-per-row)
  ///   for the re-ranking.
  public func neighbors(count: Int, exact: Bool = false) throws -> NeighborGraph {
    try neighbors(count: count, exact: exact, alpha: configuration.alpha)
  }

  /// The all-pairs graph ranked with another α and LSA candidate count than the index's
  /// configuration: for benchmarks that compare rankings on one index without rebuilding it.
  ///
  /// - Parameters:
  ///   - alpha: the LSA weight of the hybrid score, in 0...1 (1: LSA alone).
  ///   - candidates: LSA candidates re-ranked per paper; `nil` means `max(100, 10·count)`.
  ///     It is clamped to `count...papers`.
  package func neighbors(count: Int, exact: Bool = false, alpha: Float, candidates: Int? = nil)
    throws -> NeighborGraph
  {
    guard count >= 1 && count <= self.count else {
      throw QueryError.invalidCount(count, papers: self.count)
    }
    let n = self.count
    let candidates =
      alpha >= 1 ? count : min(max(candidates ?? Self.candidateCount(for: count), count), n)
    let lists = lsaNeighbors(count: candidates, exact: exact)
    if alpha >= 1 { return NeighborGraph(lists, k: count) }
    // Re-rank each row's candidates by α·LSA + (1−α)·TF-IDF cosine.
    var positions = [Int32](repeating: -1, count: n * count)
    var scores = [Float](repeating: 0, count: n * count)
    let tasks = n < 256 ? 1 : processorCount * 4
    positions.withUnsafeMutableBufferPointer { positions in
      scores.withUnsafeMutableBufferPointer { scores in
        let output = UnsafeSendable((positions, scores))
        parallelForEach(chunks: tasks) { task in
          var dense = [Float](repeating: 0, count: tfidf.columns)
          for row in chunkRange(task, of: tasks, count: n) where !isEmptyRow(row) {
            let (indices, values) = tfidf.rowBuffers(row)
            for p in 0..<indices.count { dense[Int(indices[p])] = values[p] }
            var top = TopK(capacity: count)
            for candidate in lists[row] {
              let (otherIndices, otherValues) = tfidf.rowBuffers(candidate.position)
              var cosine: Float = 0
              for p in 0..<otherIndices.count { cosine += otherValues[p] * dense[Int(otherIndices[p])] }
              top.insert(alpha * candidate.score + (1 - alpha) * cosine, Int32(candidate.position))
            }
            for p in 0..<indices.count { dense[Int(indices[p])] = 0 }
            for (rank, neighbor) in top.sorted().enumerated() {
              output.value.0[row * count + rank] = Int32(neighbor.position)
              output.value.1[row * count + rank] = neighbor.score
            }
          }
        }
      }
    }
    return NeighborGraph(rows: n, k: count, positions: positions, scores: scores)
  }
}
