/// Split–merge moves that lift Lloyd's iterations out of a local optimum.
///
/// Lloyd's algorithm often converges with one cluster spanning two groups while another
/// group is split between two clusters; no single reassignment fixes that. A move splits
/// the cluster whose 2-means split gains the most objective and merges the two clusters
/// whose union loses the least, keeping k fixed; it is made only when the gain exceeds the
/// loss, and Lloyd's iterations then continue from the new centroids.
///
/// With cluster sums `S`, the objective is `Σ ‖S_c‖`, so a merge of i and j loses
/// `‖S_i‖ + ‖S_j‖ − ‖S_i + S_j‖` (every pair from one Gram matrix of the sums), and a split
/// of c into a and b gains `‖S_a‖ + ‖S_b‖ − ‖S_c‖`.
enum SplitMergeRefinement {
  /// The most 2-means iterations per split.
  static let splitIterations = 10

  /// New centroids after the best split–merge move, or nil when no move gains more than
  /// `minimumGain`.
  static func improvedCentroids(
    _ points: DenseMatrix, labels: [Int], count k: Int, centroids: [Float],
    minimumGain: Double
  ) -> [Float]? {
    guard k >= 3 else { return nil }  // a split and a disjoint merge need three clusters
    let d = points.columns
    let clusters = LloydIterations.clusterSums(points, labels: labels, count: k)
    let norms = (0..<k).map { c in
      (0..<d).reduce(0.0) { $0 + clusters.sums[c * d + $1] * clusters.sums[c * d + $1] }
        .squareRoot()
    }
    let splits = bestSplits(points, clusters: clusters, norms: norms, count: k)
    guard let split = splits.indices.max(by: { splits[$0].gain < splits[$1].gain }),
      splits[split].gain > minimumGain
    else { return nil }
    // Merge losses from the Gram matrix of the sums.
    var gram = [Double](repeating: 0, count: k * k)
    clusters.sums.withUnsafeBufferPointer { sums in
      gram.withUnsafeMutableBufferPointer { gram in
        BLAS.dgemm(
          .none, .transposed, m: k, n: k, k: d, a: sums.baseAddress!, lda: d,
          b: sums.baseAddress!, ldb: d, c: gram.baseAddress!, ldc: k)
      }
    }
    var merge = (i: -1, j: -1, loss: Double.infinity)
    for i in 0..<k where i != split {
      for j in (i + 1)..<k where j != split {
        let union = max(0, gram[i * k + i] + gram[j * k + j] + 2 * gram[i * k + j]).squareRoot()
        let loss = norms[i] + norms[j] - union
        if loss < merge.loss { merge = (i, j, loss) }
      }
    }
    guard merge.i >= 0, splits[split].gain - merge.loss > minimumGain else { return nil }
    var moved = centroids
    let union = (0..<d).map { clusters.sums[merge.i * d + $0] + clusters.sums[merge.j * d + $0] }
    let unionNorm = union.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for j in 0..<d {
      moved[merge.i * d + j] = unionNorm > 0 ? Float(union[j] / unionNorm) : centroids[merge.i * d + j]
      moved[split * d + j] = splits[split].centroids[j]
      moved[merge.j * d + j] = splits[split].centroids[d + j]
    }
    return moved
  }

  /// The 2-means split of one cluster: its two unit centroids and the objective it gains.
  struct Split {
    var centroids: [Float] = []
    var gain: Double = -.infinity
  }

  /// The best 2-means split of every cluster, one cluster per task.
  ///
  /// The split is seeded with the member least similar to the cluster's centroid and the
  /// member least similar to that one (the lower row on ties), so it is deterministic.
  static func bestSplits(
    _ points: DenseMatrix, clusters: LloydIterations.ClusterSums, norms: [Double], count k: Int
  ) -> [Split] {
    let d = points.columns
    let tasks = min(k, points.rows < 4096 ? 1 : processorCount)
    let chunks = parallelMap(chunks: tasks) { task -> [Split] in
      chunkRange(task, of: tasks, count: k).map { c in
        let members = clusters.order[clusters.offsets[c]..<clusters.offsets[c + 1]].map(Int.init)
        guard members.count >= 2, norms[c] > 0 else { return Split() }
        let rows = DenseMatrix(
          rows: members.count, columns: d,
          storage: Storage(KMeansPlusPlus.gatherRows(points, members)))
        let mean = (0..<d).map { Float(clusters.sums[c * d + $0] / norms[c]) }
        let first = leastSimilar(rows, to: mean)
        let second = leastSimilar(rows, to: rows.row(first))
        guard first != second else { return Split() }
        var centroids = rows.row(first) + rows.row(second)
        var labels = [Int](repeating: -1, count: members.count)
        var scores = [Float](repeating: 0, count: members.count)
        var sums = [Double](repeating: 0, count: 2 * d)
        for _ in 0..<splitIterations {
          let changed = NearestCentroid.assign(
            rows, centroids: centroids, count: 2, labels: &labels, scores: &scores)
          for j in 0..<(2 * d) { sums[j] = 0 }
          for (row, label) in labels.enumerated() {
            for j in 0..<d { sums[label * d + j] += Double(rows[row, j]) }
          }
          for side in 0..<2 {
            let norm = (0..<d).reduce(0.0) { $0 + sums[side * d + $1] * sums[side * d + $1] }
              .squareRoot()
            guard norm > 0 else { return Split() }  // one side is empty or cancels out
            for j in 0..<d { centroids[side * d + j] = Float(sums[side * d + j] / norm) }
          }
          if changed == 0 { break }
        }
        let gain = (0..<2).reduce(-norms[c]) { total, side in
          total + (0..<d).reduce(0.0) { $0 + sums[side * d + $1] * sums[side * d + $1] }
            .squareRoot()
        }
        return Split(centroids: centroids, gain: gain)
      }
    }
    return chunks.flatMap { $0 }
  }

  /// The row with the lowest inner product with `vector` (the first on a tie).
  static func leastSimilar(_ rows: DenseMatrix, to vector: [Float]) -> Int {
    var scores = [Float](repeating: 0, count: rows.rows)
    vector.withUnsafeBufferPointer { vector in
      scores.withUnsafeMutableBufferPointer { scores in
        BLAS.sgemv(
          .none, m: rows.rows, n: rows.columns, a: rows.baseAddress, lda: rows.columns,
          x: vector.baseAddress!, y: scores.baseAddress!)
      }
    }
    var worst = 0
    for row in 1..<rows.rows where scores[row] < scores[worst] { worst = row }
    return worst
  }
}
