import CSemblanceKernels

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
  /// the selectors of its columns (a kernel comparing each score with its column selector's
  /// threshold, from one contiguous array of them). Each task owns a selector for every row and a
  /// contiguous share of the block pairs; the tasks' selectors are merged at the end. Top-k
  /// under a total order does not depend on the order candidates arrive in, so the result
  /// is the same for any split.
  ///
  /// Each row's selectors start from a floor estimated on a sample of the rows
  /// (``sampledFloors(count:isEligible:margin:)``), so that only scores likely to reach the row's
  /// top `count` are offered to them. A row whose floor turns out to lie above its `count`-th
  /// best score ends with fewer than `count` pairs; such rows are searched again without a
  /// floor, so the result is exact either way.
  ///
  /// With `ordered` false the lists come in no particular order (the same from run to run),
  /// for callers that rank them again: the hybrid re-ranking skips a sort of every list.
  func symmetricNeighbors(
    count: Int, isEligible: ((Int) -> Bool)?, floorMargin: Double = 4, ordered: Bool = true
  ) -> [[Neighbor]] {
    let n = vectors.rows, d = vectors.columns
    let floors = sampledFloors(count: count, isEligible: isEligible, margin: floorMargin)
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
    for _ in 0..<tasks { perTask.append(SelectorTable(rows: n, capacity: count, floors: floors)) }
    defer { for table in perTask { table.deallocate() } }
    let tables = UnsafeSendable(perTask)
    parallelForEach(chunks: tasks) { task in
      let selectors = tables.value[task]
      let thresholds = selectors.thresholds
      var scores = [Float](repeating: 0, count: side * side)
      let hits = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: side + 16)
      defer { hits.deallocate() }
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
          // Along columns: column c of block J against the rows of block I, the kernel
          // comparing each score with its column's threshold.
          let columnThresholds = thresholds + rowsJ.lowerBound
          for r in 0..<bi {
            let candidate = rowsI.lowerBound + r
            if let isEligible, !isEligible(candidate) { continue }
            let found = semblance_indices_at_least_each(
              scores.baseAddress! + r * bj, columnThresholds, bj, hits.baseAddress!)
            for hit in 0..<found {
              let c = Int(hits[hit])
              selectors.insert(row: rowsJ.lowerBound + c, scores[r * bj + c], Int32(candidate))
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
          output.value[row] = ordered ? merged.sorted() : merged.unordered()
        }
      }
    }
    guard floors != nil else { return result }
    // Rows with fewer pairs than they have candidates had a floor above their `count`-th
    // best score: search them again, row by row.
    let eligible = isEligible.map { isEligible in (0..<n).count(where: isEligible) } ?? n
    let short = (0..<n).filter { row in
      let others = eligible - ((isEligible?(row) ?? true) ? 1 : 0)
      return result[row].count < min(count, others)
    }
    if !short.isEmpty {
      let redone = blockedNeighbors(ofRows: short, count: count, isEligible: isEligible)
      for (row, list) in zip(short, redone) { result[row] = list }
    }
    return result
  }

  /// Rows sampled for the floors, at most.
  static let floorSample = 1_024

  /// A floor for every row's `count`-th best score, from its scores against a sample of
  /// rows; nil when the rows are too few for a sample to say much.
  ///
  /// Of `s` rows sampled evenly from `n`, a row's true top `count` contribute about
  /// μ = count · s / n. The row's `m`-th best sampled score, with m = μ + margin·√μ + 2, lies
  /// below its `count`-th best score unless the sample holds `m` or more of its top `count`,
  /// which at a margin of 4 standard deviations is rare, and then only costs that row a
  /// second search. About m · n / s scores pass the floor, where without it a selector
  /// admits about count · (1 + ln(n / count)) as its threshold rises.
  func sampledFloors(count: Int, isEligible: ((Int) -> Bool)?, margin: Double) -> [Float]? {
    let n = vectors.rows, d = vectors.columns
    let s = ExactNeighborIndex.floorSample
    guard n >= 8 * s, count >= 1 else { return nil }
    let mu = Double(count) * Double(s) / Double(n)
    let m = Int((mu + margin * mu.squareRoot() + 2).rounded(.up))
    guard m >= 1, m <= s / 4 else { return nil }
    let sample = (0..<s).map { $0 * n / s }
    var sampled = [Float](repeating: 0, count: s * d)
    sampled.withUnsafeMutableBufferPointer { sampled in
      for (j, row) in sample.enumerated() {
        (sampled.baseAddress! + j * d).update(from: vectors.baseAddress + row * d, count: d)
      }
    }
    var floors = [Float](repeating: -.infinity, count: n)
    let side = ExactNeighborIndex.symmetricBlock
    let blocks = (n + side - 1) / side
    let tasks = min(processorCount, blocks)
    let threading: BLAS.Threading = tasks > 1 ? .single : .shared
    floors.withUnsafeMutableBufferPointer { floors in
      let output = UnsafeSendable(floors)
      sampled.withUnsafeBufferPointer { sampled in
        parallelForEach(chunks: tasks) { task in
          var scores = [Float](repeating: 0, count: side * s)
          var top = TopK(capacity: m)
          for block in chunkRange(task, of: tasks, count: blocks) {
            let rows = (block * side)..<min(block * side + side, n)
            scores.withUnsafeMutableBufferPointer { scores in
              BLAS.sgemm(
                .none, .transposed, m: rows.count, n: s, k: d,
                a: vectors.baseAddress + rows.lowerBound * d, lda: d,
                b: sampled.baseAddress!, ldb: d, c: scores.baseAddress!, ldc: s,
                threading: threading)
            }
            scores.withUnsafeBufferPointer { scores in
              for (r, row) in rows.enumerated() {
                top.removeAll()
                ExactNeighborIndex.scan(
                  UnsafeBufferPointer(rebasing: scores[(r * s)..<(r * s + s)]), into: &top,
                  excluding: row, isEligible: isEligible, candidate: { sample[$0] })
                if let floor = top.worstKeptScore() { output.value[row] = floor }
              }
            }
          }
        }
      }
    }
    return floors
  }
}
