import CSemblanceKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
  /// each paper are re-scored with their TF-IDF cosine (a kernel that screens sixteen of a
  /// candidate's terms at a time against a summary of the paper's, held in registers), then
  /// with the configured relevance feedback (``RelevanceFeedback``). Cosines are summed in the
  /// same order as `related` sums them, so both give the same scores to the bit.
  ///
  /// With an IVF index (see `IndexConfiguration.approximateSearch`) the LSA candidates come
  /// from it, every list scanned once with SGEMM for all the papers that probe it, unless
  /// `exact` is true.
  ///
  /// - Throws: `QueryError.invalidCount` unless `1 ≤ count ≤ papers`.
  /// - Complexity: O(n² · d) multiply-adds in SGEMM, plus O(n · candidates · nnz-per-row)
  ///   for the re-ranking.
  public func neighbors(count: Int, exact: Bool = false) throws -> NeighborGraph {
    try neighbors(
      count: count, exact: exact, alpha: configuration.alpha, feedback: configuration.feedback)
  }

  /// The all-pairs graph ranked with another α, feedback and LSA candidate count than the
  /// index's configuration: for benchmarks that compare rankings on one index without
  /// rebuilding it.
  ///
  /// - Parameters:
  ///   - alpha: the LSA weight of the hybrid score, in 0...1 (1: LSA alone).
  ///   - feedback: the relevance feedback of the re-ranking; `nil` for none.
  ///   - candidates: LSA candidates re-ranked per paper; `nil` means `max(100, 10·count)`.
  ///     It is clamped to `count...papers`.
  package func neighbors(
    count: Int, exact: Bool = false, alpha: Float, feedback: RelevanceFeedback?,
    candidates: Int? = nil
  ) throws -> NeighborGraph {
    guard count >= 1 && count <= self.count else {
      throw QueryError.invalidCount(count, papers: self.count)
    }
    let n = self.count
    let candidates =
      alpha >= 1 ? count : min(max(candidates ?? Self.candidateCount(for: count), count), n)
    // The re-ranking ranks the candidates again, so their lists need no order of their own.
    let lists = lsaNeighbors(count: candidates, exact: exact, ordered: alpha >= 1)
    // The IVF's copy of the embeddings (as large as them) is not read again: when it lives in
    // an index file, its pages need not stay in this process while the TF-IDF rows come in.
    approximateIndex?.listVectors.storage.releasePagesIfMapped()
    if alpha >= 1 { return NeighborGraph(lists, k: count) }
    // Re-rank each row's candidates by α·LSA + (1−α)·TF-IDF cosine.
    var positions = [Int32](repeating: -1, count: n * count)
    var scores = [Float](repeating: 0, count: n * count)
    let tasks = n < 256 ? 1 : processorCount * 4
    // Papers are visited in an order that keeps candidate rows in cache from one paper to
    // the next, where row order fetches nearly every candidate row from memory: list by list
    // with an IVF index (the papers of a list share most of their candidates), otherwise
    // breadth first over the candidate graph. The order changes no result.
    let order: [Int32] =
      (exact ? nil : approximateIndex.flatMap { $0.count == n ? Array($0.rowIDs.buffer) : nil })
      ?? Self.breadthFirstOrder(lists)
    positions.withUnsafeMutableBufferPointer { positions in
      scores.withUnsafeMutableBufferPointer { scores in
        let output = UnsafeSendable((positions, scores))
        parallelForEach(chunks: tasks) { task in
          // The paper's row held for sparse dot products (``MarkedRow``): a candidate's terms
          // are screened sixteen at a time against a summary of the row's, and only those that
          // pass are looked up.
          let query = MarkedRow(columns: tfidf.columns)
          var top = TopK(capacity: count)
          var scorer = FeedbackScorer(feedback, dimensions: dimensions)
          let usesFeedback = scorer != nil
          let embeddingBase = embeddings.baseAddress
          var tfidfScores = [Float](repeating: 0, count: candidates)
          var hybridScores = [Float](repeating: 0, count: candidates)
          let offsets = tfidf.offsets.buffer, allIndices = tfidf.indices.buffer
          let allValues = tfidf.storedValues.buffer
          for slot in chunkRange(task, of: tasks, count: n) {
            let row = Int(order[slot])
            let (rowColumns, rowValues) = tfidf.rowBuffers(row)
            if rowColumns.isEmpty { continue }
            query.hold(columns: rowColumns, values: rowValues)
            top.removeAll()
            lists[row].withUnsafeBufferPointer { candidates in
              for (number, candidate) in candidates.enumerated() {
                // Candidate rows lie anywhere in the matrix: start loading the one a few
                // candidates ahead (the rest of a row streams behind its first lines), and
                // the row offsets of one further ahead, which that load needs first.
                if number + 16 < candidates.count {
                  semblance_prefetch(offsets.baseAddress! + candidates[number + 16].position)
                }
                if number + 4 < candidates.count {
                  let aheadRow = candidates[number + 4].position
                  let ahead = Int(offsets[aheadRow])
                  semblance_prefetch(allIndices.baseAddress! + ahead)
                  semblance_prefetch(allValues.baseAddress! + ahead)
                  // Feedback reads every candidate's embedding after this loop.
                  if usesFeedback {
                    let embedding = embeddingBase + aheadRow * dimensions
                    for line in stride(from: 0, to: dimensions, by: 16) {
                      semblance_prefetch(embedding + line)
                    }
                  }
                }
                let (columns, values) = tfidf.rowBuffers(candidate.position)
                tfidfScores[number] = query.dot(columns: columns, values: values)
              }
              for (number, candidate) in candidates.enumerated() {
                hybridScores[number] = alpha * candidate.score + (1 - alpha) * tfidfScores[number]
              }
              if usesFeedback {
                tfidfScores.withUnsafeBufferPointer { tfidf in
                  hybridScores.withUnsafeMutableBufferPointer { scores in
                    scorer!.raise(
                      UnsafeMutableBufferPointer(rebasing: scores[0..<candidates.count]),
                      lsaQuery: embeddings.rowBuffer(row).baseAddress!, candidates: candidates,
                      tfidf: UnsafeBufferPointer(rebasing: tfidf[0..<candidates.count]),
                      alpha: alpha, embeddings: embeddings)
                  }
                }
              }
              for (number, candidate) in candidates.enumerated() {
                top.insert(hybridScores[number], Int32(candidate.position))
              }
            }
            query.release(columns: rowColumns)
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

extension PaperIndex {
  /// The rows of `lists` in breadth-first order of the graph whose edges go from each row to
  /// its candidates, in list order; each row not yet reached starts a new search, in row order.
  /// Rows close in this order are close in the graph, so they share many candidates.
  static func breadthFirstOrder(_ lists: [[Neighbor]]) -> [Int32] {
    let n = lists.count
    var reached = [Bool](repeating: false, count: n)
    var order = [Int32]()
    order.reserveCapacity(n)
    var head = 0
    for start in 0..<n where !reached[start] {
      reached[start] = true
      order.append(Int32(start))
      while head < order.count {
        let row = Int(order[head])
        head += 1
        for neighbor in lists[row] where !reached[neighbor.position] {
          reached[neighbor.position] = true
          order.append(Int32(neighbor.position))
        }
      }
    }
    return order
  }
}

/// One paper's TF-IDF row held for many sparse dot products with other rows (the hybrid
/// re-ranking's TF-IDF cosines): its values in a vocabulary-sized array that is zero at every
/// other term, and its terms marked in a filter of 2¹⁷ bits (16 KiB, in the first-level cache)
/// and in a 2,048-bit summary of the filter's nonzero words, which the kernel keeps in
/// registers (`semblance_marked_dot`).
///
/// A filter's false positives read a value of 0, so they change no sum. Only the lines of the
/// values array that hold the paper's own terms are read, so they stay in cache; the array is
/// mapped lazily, and only the pages that ever held a term take memory.
///
/// Products are summed in the order and with the rounding of `SparseMatrix.dot`'s merge: a
/// score is the same to the bit whether `related` or `neighbors` computes it.
final class MarkedRow {
  private var filter = [UInt64](repeating: 0, count: (1 << SEMBLANCE_FILTER_BITS) / 64)
  private var summary = [UInt32](repeating: 0, count: 64)
  private let columns: Int
  /// `columns + 1` values: the row's, and zeros (the last one always).
  private let values: UnsafeMutablePointer<Float>

  /// Room for a row of a vocabulary of `columns` terms.
  init(columns: Int) {
    self.columns = columns
    // calloc maps large blocks fresh from the kernel: zero pages, faulted in on first touch.
    guard let memory = calloc(columns + 1, MemoryLayout<Float>.stride) else {
      fatalError("out of memory for a row of \(columns) terms")
    }
    values = memory.assumingMemoryBound(to: Float.self)
  }

  deinit { free(values) }

  /// Holds a row (ascending, distinct columns below the vocabulary size, values of at least
  /// zero). The previous row must have been released.
  func hold(columns: UnsafeBufferPointer<Int32>, values rowValues: UnsafeBufferPointer<Float>) {
    filter.withUnsafeMutableBufferPointer { filter in
      summary.withUnsafeMutableBufferPointer { summary in
        for (column, value) in zip(columns, rowValues) {
          let bit = Int(semblance_filter_bit(column))
          let word = bit >> 6
          filter[word] |= 1 &<< UInt64(bit & 63)
          summary[word >> 5] |= 1 &<< UInt32(word & 31)
          values[Int(column)] = value
        }
      }
    }
  }

  /// Releases the held row, given its columns: clears their words of the filter and the
  /// summary (and so every other bit in them) and their values.
  func release(columns: UnsafeBufferPointer<Int32>) {
    filter.withUnsafeMutableBufferPointer { filter in
      summary.withUnsafeMutableBufferPointer { summary in
        for column in columns {
          let word = Int(semblance_filter_bit(column)) >> 6
          filter[word] = 0
          summary[word >> 5] = 0
          values[Int(column)] = 0
        }
      }
    }
  }

  /// The dot product of the held row with another row (ascending, distinct columns below the
  /// vocabulary size, values of at least zero).
  func dot(columns: UnsafeBufferPointer<Int32>, values other: UnsafeBufferPointer<Float>) -> Float {
    guard let columnBase = columns.baseAddress, let valueBase = other.baseAddress else {
      return 0
    }
    return filter.withUnsafeBufferPointer { filter in
      summary.withUnsafeBufferPointer { summary in
        semblance_marked_dot(
          columnBase, valueBase, columns.count, filter.baseAddress!, summary.baseAddress!, values,
          Int32(self.columns))
      }
    }
  }
}
