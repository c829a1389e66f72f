import Foundation

/// k-means++ seeding on the unit sphere (Arthur & Vassilvitskii 2007), greedy variant.
///
/// The first seed is drawn uniformly. For each next seed, `2 + ⌊ln k⌋` candidates are drawn
/// with probability proportional to their cosine distance `1 − cos` to the nearest seed so
/// far (on unit vectors, half the squared Euclidean distance: exactly the D² weighting of
/// the paper), and the candidate that most reduces the total distance is kept, as in the
/// greedy variant the paper's experiments use. The candidates are scored together in one
/// pass over the rows. Above `sampleThreshold` points the seeds come from a uniform sample of
/// `max(sampleThreshold, 8·k)` points.
enum KMeansPlusPlus {
  /// Above this many points, seeds are drawn from a sample.
  static let sampleThreshold = 10_000

  /// The size of the sample seeds are drawn from, for `n` points and `k` seeds.
  static func sampleSize(points n: Int, seeds k: Int) -> Int {
    n <= sampleThreshold ? n : min(n, max(sampleThreshold, 8 * k))
  }

  /// `count` seeds, row-major (`count × points.columns`), each a copy of a distinct point.
  ///
  /// Zero rows are drawn only when every non-zero point has been drawn. When every distance
  /// left is zero (identical points), the next seed is drawn uniformly from the points not
  /// yet drawn.
  static func seeds(
    _ points: DenseMatrix, count k: Int, using generator: inout SeededGenerator
  ) -> [Float] {
    let n = points.rows, d = points.columns
    precondition(k >= 1 && k <= n)
    let m = sampleSize(points: n, seeds: k)
    let sample: [Float]? =
      m < n ? gatherRows(points, uniformSample(m, of: n, using: &generator)) : nil
    var seeds = [Float](repeating: 0, count: k * d)
    seeds.withUnsafeMutableBufferPointer { seeds in
      if let sample {
        sample.withUnsafeBufferPointer { sample in
          draw(sample.baseAddress!, rows: m, columns: d, into: seeds, using: &generator)
        }
      } else {
        draw(points.baseAddress, rows: n, columns: d, into: seeds, using: &generator)
      }
    }
    return seeds
  }

  /// The number of candidates tried for each seed after the first: `2 + ⌊ln k⌋`.
  static func trials(seeds k: Int) -> Int {
    2 + Int(log(Double(k)))
  }

  /// The greedy D² draws over `rows` row-major vectors, written into `seeds` (k × columns).
  private static func draw(
    _ rows: UnsafePointer<Float>, rows m: Int, columns d: Int,
    into seeds: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
  ) {
    let k = seeds.count / d
    let trials = trials(seeds: k)
    // The cosine distance of every row to its nearest seed: +∞ before the first seed, and
    // 0 for seeds and zero rows, which are therefore never drawn by distance.
    let distance = UnsafeMutableBufferPointer<Float>.allocate(capacity: m)
    let isZero = UnsafeMutableBufferPointer<Bool>.allocate(capacity: m)
    let chosen = UnsafeMutableBufferPointer<Bool>.allocate(capacity: m)
    let cumulative = UnsafeMutableBufferPointer<Double>.allocate(capacity: m)
    // Cosine distances of every row to each candidate (m × trials, row-major).
    let gaps = UnsafeMutableBufferPointer<Float>.allocate(capacity: m * trials)
    let candidateRows = UnsafeMutableBufferPointer<Float>.allocate(capacity: trials * d)
    let potentials = UnsafeMutableBufferPointer<Double>.allocate(capacity: trials)
    var candidates = [Int](repeating: 0, count: trials)
    defer {
      for buffer in [distance, gaps, candidateRows] as [UnsafeMutableBufferPointer<Float>] {
        buffer.deallocate()
      }
      isZero.deallocate()
      chosen.deallocate()
      cumulative.deallocate()
      potentials.deallocate()
    }
    var nonzero = 0
    for row in 0..<m {
      let vector = UnsafeBufferPointer(start: rows + row * d, count: d)
      isZero[row] = !vector.contains { $0 != 0 }
      distance[row] = isZero[row] ? 0 : .infinity
      chosen[row] = false
      if !isZero[row] { nonzero += 1 }
    }
    var drawn = 0

    /// Makes `row` the next seed; column `column` of `gaps` (`width` wide) holds the
    /// cosine distance of every row to it.
    func take(_ row: Int, column: Int, width: Int) {
      chosen[row] = true
      (seeds.baseAddress! + drawn * d).update(from: rows + row * d, count: d)
      drawn += 1
      for other in 0..<m { distance[other] = min(distance[other], gaps[other * width + column]) }
      distance[row] = 0
    }

    /// Makes a uniform draw among rows not yet chosen, non-zero ones first, the next seed.
    func takeUniformly() {
      let preferNonzero = drawn < nonzero
      var available = 0
      for row in 0..<m where !chosen[row] && (!preferNonzero || !isZero[row]) { available += 1 }
      var target = Int.random(in: 0..<available, using: &generator)
      var pick = 0
      for row in 0..<m where !chosen[row] && (!preferNonzero || !isZero[row]) {
        if target == 0 {
          pick = row
          break
        }
        target -= 1
      }
      candidateRows.baseAddress!.update(from: rows + pick * d, count: d)
      scoreCandidates(
        rows, count: m, dimensions: d, candidates: candidateRows.baseAddress!, trials: 1,
        distance: distance.baseAddress!, gaps: gaps.baseAddress!, potentials: potentials)
      take(pick, column: 0, width: 1)
    }

    takeUniformly()
    while drawn < k {
      var total: Double = 0
      for row in 0..<m {
        total += Double(distance[row])
        cumulative[row] = total
      }
      guard total > 0 else {
        takeUniformly()
        continue
      }
      // Candidates drawn with probability proportional to their distance (with replacement).
      for trial in 0..<trials {
        let target = generator.nextUnit() * total
        var low = 0, high = m - 1
        while low < high {
          let middle = (low + high) / 2
          if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        while distance[low] == 0 { low -= 1 }  // only when rounding put the target at the end
        candidates[trial] = low
        (candidateRows.baseAddress! + trial * d).update(from: rows + low * d, count: d)
      }
      // Keep the candidate that leaves the smallest total distance (Arthur & Vassilvitskii's
      // greedy variant), the first one on a tie.
      scoreCandidates(
        rows, count: m, dimensions: d, candidates: candidateRows.baseAddress!, trials: trials,
        distance: distance.baseAddress!, gaps: gaps.baseAddress!, potentials: potentials)
      var best = 0
      for trial in 1..<trials where potentials[trial] < potentials[best] { best = trial }
      take(candidates[best], column: best, width: trials)
    }
  }

  /// Rows per task of `scoreCandidates`: a constant, so sums do not depend on the cores.
  static let scoringChunk = 4096

  /// For every row and candidate, the cosine distance `max(0, 1 − cos)` into `gaps`
  /// (rows × trials), and for every candidate the total distance that would remain with it
  /// as a seed, `Σ min(distance, gap)`, into `potentials`.
  ///
  /// One pass over the rows with the candidates in cache, instead of an SGEMM that would
  /// first copy every row into its packed layout for a product only `trials` columns wide.
  static func scoreCandidates(
    _ rows: UnsafePointer<Float>, count m: Int, dimensions d: Int,
    candidates: UnsafePointer<Float>, trials: Int, distance: UnsafePointer<Float>,
    gaps: UnsafeMutablePointer<Float>, potentials: UnsafeMutableBufferPointer<Double>
  ) {
    let chunks = (m + scoringChunk - 1) / scoringChunk
    var partial = [Double](repeating: 0, count: chunks * trials)
    partial.withUnsafeMutableBufferPointer { partial in
      let shared = UnsafeSendable((rows, candidates, distance, gaps, partial))
      parallelForEach(chunks: chunks) { chunk in
        let (rows, candidates, distance, gaps, partial) = shared.value
        let sums = partial.baseAddress! + chunk * trials
        for row in (chunk * scoringChunk)..<min(m, (chunk + 1) * scoringChunk) {
          let current = distance[row]
          for trial in 0..<trials {
            let score = VectorKernels.dot(rows + row * d, candidates + trial * d, count: d)
            let gap = max(0, 1 - score)
            gaps[row * trials + trial] = gap
            sums[trial] += Double(min(current, gap))
          }
        }
      }
      for trial in 0..<trials {
        var total: Double = 0
        for chunk in 0..<chunks { total += partial[chunk * trials + trial] }
        potentials[trial] = total
      }
    }
  }

  /// `count` distinct indices drawn uniformly from `0..<n`, sorted.
  static func uniformSample(
    _ count: Int, of n: Int, using generator: inout SeededGenerator
  ) -> [Int] {
    var indices = Array(0..<n)
    for i in 0..<count {
      let j = Int.random(in: i..<n, using: &generator)
      indices.swapAt(i, j)
    }
    return indices[0..<count].sorted()
  }

  /// The given rows of `points`, copied into one row-major array.
  static func gatherRows(_ points: DenseMatrix, _ rows: [Int]) -> [Float] {
    let d = points.columns
    var result = [Float](repeating: 0, count: rows.count * d)
    result.withUnsafeMutableBufferPointer { result in
      for (position, row) in rows.enumerated() {
        (result.baseAddress! + position * d).update(from: points.baseAddress + row * d, count: d)
      }
    }
    return result
  }
}
