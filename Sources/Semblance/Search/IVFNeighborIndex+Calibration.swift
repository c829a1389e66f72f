extension IVFNeighborIndex {
  /// The neighbours per query that calibration compares: recall@10.
  static let calibrationDepth = 10
  /// The standard normal quantile of the one-sided 95% lower confidence bound.
  static let calibrationConfidenceQuantile = 1.6449

  /// What calibration measured at one `nprobe`.
  struct RecallEstimate: Equatable {
    /// The mean recall@10 of the sampled queries.
    var mean: Double
    /// The one-sided 95% lower confidence bound of the mean over all queries.
    var lowerBound: Double
  }

  /// The mean of per-query recalls and its one-sided 95% lower confidence bound,
  /// `mean − 1.645 · s / √m` with `s` the sample standard deviation of the `m` recalls: the
  /// normal approximation of the mean's distribution, which a mean of hundreds of values in
  /// [0, 1] satisfies closely. Per-query recall, not the pooled fraction of found
  /// neighbours, is the unit: a query's 10 neighbours are found or missed together, so a
  /// binomial (Wilson) bound over 10·m trials would be too narrow.
  ///
  /// With one query the bound is 0 (nothing is known about the spread); with none, the mean
  /// and bound are 1 (nothing to find).
  static func recallEstimate(_ recalls: [Double]) -> RecallEstimate {
    let m = Double(recalls.count)
    guard recalls.count > 0 else { return RecallEstimate(mean: 1, lowerBound: 1) }
    let mean = recalls.reduce(0, +) / m
    guard recalls.count > 1 else { return RecallEstimate(mean: mean, lowerBound: 0) }
    let variance = recalls.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (m - 1)
    let bound = mean - calibrationConfidenceQuantile * (variance / m).squareRoot()
    return RecallEstimate(mean: mean, lowerBound: min(mean, max(0, bound)))
  }

  /// The smallest `nprobe` in `1...listCount` whose lower confidence bound reaches
  /// `targetRecall`, or `listCount` when none does, with the estimate there.
  ///
  /// `nprobe` doubles from 1 until the bound reaches the target, then a binary search between
  /// the last two values finds the smallest. Mean recall can only grow with `nprobe`: the
  /// probed lists of a smaller `nprobe` are a prefix of a larger one's, and a true top-10
  /// vector among the scanned candidates always makes the candidates' top 10. The bound
  /// follows the mean up to the change in spread, which the search ignores.
  ///
  /// With `start` above 1, `start − 1` is taken to miss the target (a lower bound found
  /// by another measure that must also hold), and the search begins at `start`.
  static func smallestProbes(
    from start: Int = 1, listCount: Int, targetRecall: Double,
    measure: (Int) -> RecallEstimate
  ) -> (nprobe: Int, estimate: RecallEstimate) {
    var measured: [Int: RecallEstimate] = [:]
    func estimate(_ nprobe: Int) -> RecallEstimate {
      if let known = measured[nprobe] { return known }
      let value = measure(nprobe)
      measured[nprobe] = value
      return value
    }
    // The bound at `low` misses the target (0 stands for "no list").
    var low = min(max(start, 1), listCount) - 1, high = low + 1
    while high < listCount && estimate(high).lowerBound < targetRecall {
      low = high
      high = min(listCount, 2 * high)
    }
    while high - low > 1 {
      let middle = (low + high) / 2
      if estimate(middle).lowerBound >= targetRecall { high = middle } else { low = middle }
    }
    return (high, estimate(high))
  }

  /// The smallest `nprobe` whose recall@10 against exact search reaches `targetRecall` with
  /// 95% confidence: its one-sided lower confidence bound (see ``recallEstimate(_:)``),
  /// measured on a uniform sample of the non-zero rows of `vectors` (each query excluding
  /// itself), is at least the target.
  ///
  /// Requiring the bound, not the sample mean, to reach the target pays for the sampling
  /// error: with the mean alone, the chosen `nprobe` is the first whose sample happened to
  /// reach the target, and its recall over all queries is often just below it.
  ///
  /// - Returns: `nprobe` and the estimate at it (1 and 1 when there is nothing to measure).
  func calibrate(
    _ vectors: DenseMatrix, queries: Int, targetRecall: Double, seed: UInt64
  ) -> (nprobe: Int, estimate: RecallEstimate) {
    guard let sample = calibrationSample(vectors, queries: queries, seed: seed) else {
      return (1, RecallEstimate(mean: 1, lowerBound: 1))
    }
    let k = min(IVFNeighborIndex.calibrationDepth, vectors.rows - 1)
    var ladder = ProbeLadder(self, rows: sample.rows, in: vectors, count: k, isEligible: nil)
    return IVFNeighborIndex.smallestProbes(listCount: listCount, targetRecall: targetRecall) {
      IVFNeighborIndex.sampledRecall(sample, ladder: &ladder, nprobe: $0)
    }
  }

  /// Calibration's queries and their exact neighbours.
  struct CalibrationSample {
    /// Rows of the vectors, increasing.
    var rows: [Int]
    /// The exact `calibrationDepth` best other rows of each query.
    var truth: [Set<Int>]
    /// The exact best other rows of each query, best first, as deep as the sample was
    /// drawn (at least `calibrationDepth`), for a ranking that re-ranks them.
    var candidates: [[Neighbor]]
  }

  /// A uniform sample of `queries` non-zero rows of `vectors` (seeded) with their exact
  /// neighbours, `depth` of them (at least `calibrationDepth`) among the rows `isEligible`
  /// accepts, or nil when there is nothing to measure.
  func calibrationSample(
    _ vectors: DenseMatrix, queries: Int, seed: UInt64,
    depth: Int = IVFNeighborIndex.calibrationDepth, isEligible: ((Int) -> Bool)? = nil
  ) -> CalibrationSample? {
    let n = vectors.rows
    let k = min(IVFNeighborIndex.calibrationDepth, n - 1)
    let deep = min(max(depth, k), n - 1)
    let nonzero = (0..<n).filter { row in vectors.rowBuffer(row).contains(where: { $0 != 0 }) }
    guard k >= 1, !nonzero.isEmpty else { return nil }
    var generator = SeededGenerator(seed: seed ^ 0x4E50_524F_4245_4341)  // "NPROBECA"
    let rows = KMeansPlusPlus.uniformSample(
      min(queries, nonzero.count), of: nonzero.count, using: &generator
    ).map { nonzero[$0] }
    let candidates = ExactNeighborIndex(vectors).neighbors(
      ofRows: rows, count: deep, isEligible: isEligible)
    let truth = candidates.map { Set($0.prefix(k).map(\.position)) }
    return CalibrationSample(rows: rows, truth: truth, candidates: candidates)
  }

  /// Recall@10 of the sample's queries at `nprobe`, with its lower confidence bound.
  func sampledRecall(
    _ sample: CalibrationSample, in vectors: DenseMatrix, nprobe: Int,
    isEligible: ((Int) -> Bool)? = nil
  ) -> RecallEstimate {
    let k = min(IVFNeighborIndex.calibrationDepth, vectors.rows - 1)
    let found = neighbors(
      ofRows: sample.rows, in: vectors, count: k, nprobe: nprobe, excluding: { $0 },
      isEligible: isEligible)
    return IVFNeighborIndex.recallEstimate(
      expected: sample.truth, found: found.map { $0.map(\.position) })
  }

  /// Recall@10 of the sample's queries at `nprobe`, searched with `ladder` (of the sample's
  /// rows, at least `calibrationDepth` deep): the estimate
  /// ``sampledRecall(_:in:nprobe:isEligible:)`` gives (up to SGEMM's rounding), with each
  /// list scanned once over all the `nprobe` values asked.
  static func sampledRecall(
    _ sample: CalibrationSample, ladder: inout ProbeLadder, nprobe: Int
  ) -> RecallEstimate {
    let k = min(IVFNeighborIndex.calibrationDepth, ladder.vectors.rows - 1)
    let found = ladder.neighbors(nprobe: nprobe, depth: k)
    return recallEstimate(expected: sample.truth, found: found.map { $0.map(\.position) })
  }

  /// The estimate of ``recallEstimate(_:)`` over the per-query recalls of `found` against
  /// `expected` (the share of each query's expected positions found), skipping queries
  /// that expect nothing.
  static func recallEstimate(expected: [Set<Int>], found: [[Int]]) -> RecallEstimate {
    var recalls: [Double] = []
    recalls.reserveCapacity(expected.count)
    for (expected, result) in zip(expected, found) where !expected.isEmpty {
      recalls.append(
        Double(result.reduce(0) { $0 + (expected.contains($1) ? 1 : 0) })
          / Double(expected.count))
    }
    return recallEstimate(recalls)
  }
}
