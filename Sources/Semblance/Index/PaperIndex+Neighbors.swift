import CSemblanceKernels

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
  /// each paper are re-scored with their TF-IDF cosine, tested term by term against a bitmap
  /// of the paper's terms and looked up in a small per-task table, then with the configured
  /// relevance feedback (``RelevanceFeedback``).
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
    let lists = lsaNeighbors(count: candidates, exact: exact)
    if alpha >= 1 { return NeighborGraph(lists, k: count) }
    // Re-rank each row's candidates by α·LSA + (1−α)·TF-IDF cosine.
    var positions = [Int32](repeating: -1, count: n * count)
    var scores = [Float](repeating: 0, count: n * count)
    let tasks = n < 256 ? 1 : processorCount * 4
    let longestRow = (0..<n).reduce(0) { longest, row in
      max(longest, Int(tfidf.offsets.buffer[row + 1] - tfidf.offsets.buffer[row]))
    }
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
          // The paper's row in a small hash table, and its terms marked in a bitmap
          // (``TermMarks``): a candidate's terms are tested against the marks, sixteen at a
          // time, and only the marked ones are looked up, in a table of a few kilobytes. No
          // vocabulary-sized array of floats is touched at random.
          var table = SmallColumnTable()
          var top = TopK(capacity: count)
          var scorer = FeedbackScorer(feedback, dimensions: dimensions)
          let usesFeedback = scorer != nil
          let embeddingBase = embeddings.baseAddress
          var tfidfScores = [Float](repeating: 0, count: candidates)
          var hybridScores = [Float](repeating: 0, count: candidates)
          var marks = TermMarks(columns: tfidf.columns)
          let hits = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: longestRow + 16)
          defer { hits.deallocate() }
          let offsets = tfidf.offsets.buffer, allIndices = tfidf.indices.buffer
          let allValues = tfidf.storedValues.buffer
          for slot in chunkRange(task, of: tasks, count: n) {
            let row = Int(order[slot])
            let rowStart = Int(offsets[row]), rowEnd = Int(offsets[row + 1])
            if rowStart == rowEnd { continue }
            table.reset(capacityFor: rowEnd - rowStart)
            for p in rowStart..<rowEnd {
              let column = Int(allIndices[p])
              table.insert(Int32(column), allValues[p])
              marks.mark(Int32(column))
            }
            top.removeAll()
            lists[row].withUnsafeBufferPointer { candidates in
              marks.withHits { hitsOf in
                table.withLookup { lookup in
                  for (number, candidate) in candidates.enumerated() {
                    // Candidate rows lie anywhere in the matrix: start loading the one a few
                    // candidates ahead (the rest of a row streams behind its first lines).
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
                    let start = Int(offsets[candidate.position])
                    let end = Int(offsets[candidate.position + 1])
                    // The candidate's entries whose term the paper may have, in column order
                    // (a term the paper lacks looks up 0).
                    let found = hitsOf(allIndices.baseAddress! + start, end - start, hits)
                    var cosine: Float = 0
                    for hit in 0..<found {
                      let p = start + Int(hits[hit])
                      cosine += allValues[p] * lookup(allIndices[p])
                    }
                    tfidfScores[number] = cosine
                  }
                }
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
            for p in rowStart..<rowEnd { marks.clear(allIndices[p]) }
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
  /// its candidates, best first; each row not yet reached starts a new search, in row order.
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

/// The terms of one paper, marked for fast membership tests of another paper's terms.
///
/// Up to 2²⁰ terms it is an exact bitmap over the vocabulary (at most 128 KiB); above, a
/// filter of 2¹⁷ bits (16 KiB) addressed by a hash of the term, which stays in the first-level
/// cache where a bitmap of millions of terms would not. A filter's false positives are terms
/// the paper lacks, which the caller's exact lookup gives 0, so neither way changes a sum.
/// Measured on the all-pairs re-rank: with 432,024 terms (34,000 papers) the bitmap is 3%
/// faster; with 3,673,944 (300,000 papers) the filter is 10% faster.
struct TermMarks {
  /// Vocabularies above this many terms use the hashed filter.
  static let exactLimit = 1 << 20

  private let hashed: Bool
  private var words: [UInt64]

  /// Marks for a vocabulary of `columns` terms; `hashed` overrides the choice (for tests).
  init(columns: Int, hashed: Bool? = nil) {
    self.hashed = hashed ?? (columns > Self.exactLimit)
    words = Array(
      repeating: 0, count: self.hashed ? (1 << SEMBLANCE_FILTER_BITS) / 64 : (columns + 63) / 64)
  }

  @inline(__always)
  private func bit(_ column: Int32) -> Int {
    hashed ? Int(semblance_filter_bit(column)) : Int(column)
  }

  mutating func mark(_ column: Int32) {
    let bit = bit(column)
    words[bit >> 6] |= 1 &<< UInt64(bit & 63)
  }

  /// Clears the word of `column`'s bit (and so every other bit in it); clearing every marked
  /// column empties the marks.
  mutating func clear(_ column: Int32) {
    words[bit(column) >> 6] = 0
  }

  /// Calls `body` with a function that writes to its third argument the indices of the
  /// `count` columns at its first argument that are marked (with the filter, possibly
  /// others), ascending, and returns how many. The output needs room for `count + 16`.
  func withHits<R>(
    _ body: ((UnsafePointer<Int32>, Int, UnsafeMutableBufferPointer<UInt32>) -> Int) -> R
  ) -> R {
    let hashed = self.hashed
    return words.withUnsafeBufferPointer { words in
      body { columns, count, hits in
        hashed
          ? semblance_indices_in_filter(columns, count, words.baseAddress!, hits.baseAddress!)
          : semblance_indices_in_bitmap(columns, count, words.baseAddress!, hits.baseAddress!)
      }
    }
  }
}

/// A tiny open-addressing map from column to value for one sparse row: a few kilobytes that
/// stay in the first-level cache while the row's candidates are scored against it.
struct SmallColumnTable {
  private var keys: [Int32] = Array(repeating: -1, count: 256)
  private var values: [Float] = Array(repeating: 0, count: 256)
  private var shift = 56  // 64 - log2(capacity)

  /// Empties the table and sizes it for `count` entries (load at most 1/2).
  mutating func reset(capacityFor count: Int) {
    var capacity = 256
    while capacity < count * 2 { capacity <<= 1 }
    if capacity != keys.count {
      keys = Array(repeating: -1, count: capacity)
      values = Array(repeating: 0, count: capacity)
      shift = 64 - capacity.trailingZeroBitCount
    } else {
      for index in keys.indices { keys[index] = -1 }
    }
  }

  @inline(__always)
  private static func slot(_ key: Int32, shift: Int) -> Int {
    let product = UInt64(UInt32(bitPattern: key)) &* 0x9E37_79B9_7F4A_7C15
    return Int(truncatingIfNeeded: product &>> UInt64(shift))
  }

  mutating func insert(_ key: Int32, _ value: Float) {
    let mask = keys.count - 1
    var slot = Self.slot(key, shift: shift)
    while keys[slot] >= 0 && keys[slot] != key { slot = (slot + 1) & mask }
    keys[slot] = key
    values[slot] = value
  }

  /// Calls `body` with a lookup function (0 for an absent key).
  func withLookup<R>(_ body: ((Int32) -> Float) -> R) -> R {
    let shift = self.shift
    return keys.withUnsafeBufferPointer { keys in
      values.withUnsafeBufferPointer { values in
        let mask = keys.count - 1
        return body { key in
          var slot = SmallColumnTable.slot(key, shift: shift)
          while true {
            let found = keys[slot]
            if found == key { return values[slot] }
            if found < 0 { return 0 }
            slot = (slot + 1) & mask
          }
        }
      }
    }
  }
}
