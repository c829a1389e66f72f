extension IVFNeighborIndex {
  /// The neighbours per query that calibration compares: recall@10.
  static let calibrationDepth = 10

  /// The smallest `nprobe` whose mean recall@10 against exact search reaches `targetRecall`
  /// on a uniform sample of the non-zero rows of `vectors` (each query excluding itself).
  ///
  /// Recall can only grow with `nprobe`: the probed lists of a smaller `nprobe` are a prefix
  /// of a larger one's, and a true top-10 vector among the scanned candidates always makes
  /// the candidates' top 10. So `nprobe` doubles from 1 until the target is met, then a
  /// binary search between the last two values finds the smallest.
  ///
  /// - Returns: `nprobe` and the recall it reached (1 when there is nothing to measure).
  func calibrate(
    _ vectors: DenseMatrix, queries: Int, targetRecall: Double, seed: UInt64
  ) -> (nprobe: Int, recall: Double) {
    let n = vectors.rows
    let k = min(IVFNeighborIndex.calibrationDepth, n - 1)
    let nonzero = (0..<n).filter { row in vectors.rowBuffer(row).contains(where: { $0 != 0 }) }
    guard k >= 1, !nonzero.isEmpty else { return (1, 1) }
    var generator = SeededGenerator(seed: seed ^ 0x4E50_524F_4245_4341)  // "NPROBECA"
    let sample = KMeansPlusPlus.uniformSample(
      min(queries, nonzero.count), of: nonzero.count, using: &generator
    ).map { nonzero[$0] }
    let truth = ExactNeighborIndex(vectors).neighbors(ofRows: sample, count: k).map {
      Set($0.map(\.position))
    }

    var measured: [Int: Double] = [:]
    func recall(_ nprobe: Int) -> Double {
      if let known = measured[nprobe] { return known }
      let found = neighbors(
        ofRows: sample, in: vectors, count: k, nprobe: nprobe, excluding: { $0 },
        isEligible: nil)
      var total = 0.0, counted = 0
      for (expected, result) in zip(truth, found) where !expected.isEmpty {
        total += Double(result.reduce(0) { $0 + (expected.contains($1.position) ? 1 : 0) })
          / Double(expected.count)
        counted += 1
      }
      let value = counted == 0 ? 1 : total / Double(counted)
      measured[nprobe] = value
      return value
    }

    var low = 0, high = 1  // recall(low) misses the target (0 stands for "no list")
    while high < listCount && recall(high) < targetRecall {
      low = high
      high = min(listCount, 2 * high)
    }
    while high - low > 1 {
      let middle = (low + high) / 2
      if recall(middle) >= targetRecall { high = middle } else { low = middle }
    }
    return (high, recall(high))
  }
}
