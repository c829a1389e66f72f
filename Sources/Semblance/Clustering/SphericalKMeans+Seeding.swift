/// k-means++ seeding on the unit sphere (Arthur & Vassilvitskii 2007).
///
/// The first seed is drawn uniformly; each next seed is drawn with probability proportional
/// to its cosine distance `1 − cos` to the nearest seed so far, which on unit vectors is half
/// the squared Euclidean distance: exactly the D² weighting of the paper. Above
/// `sampleThreshold` points the seeds come from a uniform sample of
/// `max(sampleThreshold, 8·k)` points.
enum KMeansPlusPlus {
  /// Above this many points, seeds are drawn from a sample.
  static let sampleThreshold = 50_000

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

  /// The D² draws over `rows` row-major vectors, written into `seeds` (k × columns).
  private static func draw(
    _ rows: UnsafePointer<Float>, rows m: Int, columns d: Int,
    into seeds: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator
  ) {
    let k = seeds.count / d
    var isZero = [Bool](repeating: false, count: m)
    var nonzero = 0
    for row in 0..<m {
      let vector = UnsafeBufferPointer(start: rows + row * d, count: d)
      isZero[row] = !vector.contains { $0 != 0 }
      if !isZero[row] { nonzero += 1 }
    }
    // The cosine distance of every row to its nearest seed; 0 for drawn and zero rows.
    var distance = [Float](repeating: 0, count: m)
    var chosen = [Bool](repeating: false, count: m)
    var scores = [Float](repeating: 0, count: m)
    var drawn = 0

    func take(_ row: Int) {
      chosen[row] = true
      drawn += 1
      let seed = seeds.baseAddress! + (drawn - 1) * d
      seed.update(from: rows + row * d, count: d)
      scores.withUnsafeMutableBufferPointer { scores in
        BLAS.sgemv(.none, m: m, n: d, a: rows, lda: d, x: seed, y: scores.baseAddress!)
      }
      for other in 0..<m where !isZero[other] && !chosen[other] {
        let gap = max(0, 1 - scores[other])
        if drawn == 1 || gap < distance[other] { distance[other] = gap }
      }
      distance[row] = 0
    }

    /// A uniform draw among rows not yet chosen, non-zero ones first.
    func uniformRemaining() -> Int {
      let preferNonzero = drawn < nonzero
      let eligible = { (row: Int) in !chosen[row] && (!preferNonzero || !isZero[row]) }
      let available = (0..<m).reduce(0) { $0 + (eligible($1) ? 1 : 0) }
      var target = Int.random(in: 0..<available, using: &generator)
      for row in 0..<m where eligible(row) {
        if target == 0 { return row }
        target -= 1
      }
      preconditionFailure("no row left to draw")
    }

    take(uniformRemaining())
    while drawn < k {
      var total: Double = 0
      for value in distance { total += Double(value) }
      guard total > 0 else {
        take(uniformRemaining())
        continue
      }
      let target = generator.nextUnit() * total
      var cumulative: Double = 0
      var pick = -1
      for row in 0..<m where distance[row] > 0 {
        pick = row
        cumulative += Double(distance[row])
        if cumulative > target { break }
      }
      take(pick)
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
