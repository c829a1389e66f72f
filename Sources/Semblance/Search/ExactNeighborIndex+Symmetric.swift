extension ExactNeighborIndex {
  /// Rows per side of a square block of scores in the symmetric all-pairs search: 512 × 512
  /// floats, 1 MB, the size of a core's second-level cache.
  static let symmetricBlock = 512
  /// The most bytes of per-task selectors the symmetric search may hold; above it, all pairs
  /// run as one query block against every row (``neighbors(ofRows:count:isEligible:)``).
  static let symmetricSelectorBudget = 512 << 20

  /// Whether ``symmetricNeighbors(count:isEligible:)`` applies to `n` rows and `count`.
  static func usesSymmetricSearch(rows n: Int, count: Int) -> Bool {
    let tasks = processorCount
    let selectorBytes = n * tasks * (16 * count + 96)
    return n >= 2 * symmetricBlock && count <= n && selectorBytes <= symmetricSelectorBudget
  }

  /// The `count` nearest other rows of every row, computing each score once.
  ///
  /// The score matrix E Eᵀ is symmetric, so only its blocks on and above the diagonal are
  /// multiplied: half the SGEMM work of scoring every row against every row. Each block's
  /// scores go to the selectors of its rows (scanning along rows) and, off the diagonal, to
  /// the selectors of its columns (scanning 16 columns at a time against a contiguous array
  /// of those selectors' thresholds). Each task owns a selector for every row and a
  /// contiguous share of the block pairs; the tasks' selectors are merged at the end. Top-k
  /// under a total order does not depend on the order candidates arrive in, so the result
  /// is the same for any split.
  func symmetricNeighbors(count: Int, isEligible: ((Int) -> Bool)?) -> [[Neighbor]] {
    let n = vectors.rows, d = vectors.columns
    let side = ExactNeighborIndex.symmetricBlock
    let blocks = (n + side - 1) / side
    // Block pairs (I, J), I ≤ J, in row-major order of the upper triangle.
    var pairs: [(Int, Int)] = []
    pairs.reserveCapacity(blocks * (blocks + 1) / 2)
    for i in 0..<blocks { for j in i..<blocks { pairs.append((i, j)) } }
    let tasks = min(processorCount, pairs.count)
    let threading: BLAS.Threading = tasks > 1 ? .single : .shared
    var perTask: [SelectorTable] = []
    perTask.reserveCapacity(tasks)
    for _ in 0..<tasks { perTask.append(SelectorTable(rows: n, capacity: count)) }
    defer { for table in perTask { table.deallocate() } }
    let tables = UnsafeSendable(perTask)
    parallelForEach(chunks: tasks) { task in
      let selectors = tables.value[task]
      let thresholds = selectors.thresholds
      var scores = [Float](repeating: 0, count: side * side)
      for (blockI, blockJ) in pairs[chunkRange(task, of: tasks, count: pairs.count)] {
        let rowsI = (blockI * side)..<min(blockI * side + side, n)
        let rowsJ = (blockJ * side)..<min(blockJ * side + side, n)
        let bi = rowsI.count, bj = rowsJ.count
        scores.withUnsafeMutableBufferPointer { scores in
          BLAS.sgemm(
            .none, .transposed, m: bi, n: bj, k: d,
            a: vectors.baseAddress + rowsI.lowerBound * d, lda: d,
            b: vectors.baseAddress + rowsJ.lowerBound * d, ldb: d,
            c: scores.baseAddress!, ldc: bj, threading: threading)
        }
        scores.withUnsafeBufferPointer { scores in
          // Along rows: row r of block I against the columns of block J.
          for r in 0..<bi {
            let row = rowsI.lowerBound + r
            var selector = SelectorTable.Row(table: selectors, row: row)
            ExactNeighborIndex.scan(
              UnsafeBufferPointer(rebasing: scores[(r * bj)..<(r * bj + bj)]),
              offset: rowsJ.lowerBound, into: &selector, excluding: row,
              isEligible: isEligible)
          }
          guard blockI != blockJ else { return }
          // Along columns: column c of block J against the rows of block I.
          let columnThresholds = thresholds + rowsJ.lowerBound
          let base = UnsafeRawPointer(scores.baseAddress!)
          for r in 0..<bi {
            let candidate = rowsI.lowerBound + r
            if let isEligible, !isEligible(candidate) { continue }
            // Offers score (r, c) to the selector of column c, when it can enter.
            @inline(__always)
            func offer(_ c: Int) {
              let value = scores[r * bj + c]
              guard value >= columnThresholds[c] else { return }
              selectors.insert(row: rowsJ.lowerBound + c, value, Int32(candidate))
            }
            var c = 0
            let limitsBase = UnsafeRawPointer(columnThresholds)
            while c + 8 <= bj {
              // Two 4-lane comparisons OR-ed as integers (see `scan`: wider masks lower
              // to per-lane code on baseline x86-64).
              let offset = (r * bj + c) * 4
              let low =
                base.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
                .>= limitsBase.loadUnaligned(fromByteOffset: c * 4, as: SIMD4<Float>.self)
              let high =
                base.loadUnaligned(fromByteOffset: offset + 16, as: SIMD4<Float>.self)
                .>= limitsBase.loadUnaligned(fromByteOffset: c * 4 + 16, as: SIMD4<Float>.self)
              let bits = unsafeBitCast(low, to: SIMD4<Int32>.self)
                | unsafeBitCast(high, to: SIMD4<Int32>.self)
              if bits.wrappedSum() != 0 {
                for lane in c..<(c + 8) { offer(lane) }
              }
              c += 8
            }
            while c < bj {
              offer(c)
              c += 1
            }
          }
        }
      }
    }
    // Merge the tasks' selectors row by row: every buffered pair of every task, so that no
    // task's selector needs a final selection or sort of its own.
    var result = [[Neighbor]](repeating: [], count: n)
    result.withUnsafeMutableBufferPointer { result in
      let output = UnsafeSendable(result)
      let mergeTasks = processorCount * 4
      parallelForEach(chunks: mergeTasks) { task in
        var merged = TopK(capacity: count)
        for row in chunkRange(task, of: mergeTasks, count: n) {
          merged.removeAll()
          for table in tables.value {
            table.forEachBuffered(row: row) { merged.insert($0, $1) }
          }
          output.value[row] = merged.sorted()
        }
      }
    }
    return result
  }
}
