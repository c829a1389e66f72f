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
    guard let (split, best) = bestSplit(points, clusters: clusters, norms: norms, count: k),
      best.gain > minimumGain
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
    guard merge.i >= 0, best.gain - merge.loss > minimumGain else { return nil }
    var moved = centroids
    let union = (0..<d).map { clusters.sums[merge.i * d + $0] + clusters.sums[merge.j * d + $0] }
    let unionNorm = union.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for j in 0..<d {
      moved[merge.i * d + j] = unionNorm > 0 ? Float(union[j] / unionNorm) : centroids[merge.i * d + j]
      moved[split * d + j] = best.centroids[j]
      moved[merge.j * d + j] = best.centroids[d + j]
    }
    return moved
  }

  /// The 2-means split of one cluster: its two unit centroids and the objective it gains.
  struct Split {
    var centroids: [Float] = []
    var gain: Double = -.infinity
  }

  /// The 2-means split with the largest gain (the lower cluster on a tie), or nil when no
  /// cluster can be split.
  ///
  /// A split of c cannot gain more than c's distortion `n_c − ‖S_c‖`, the sum of
  /// `1 − cos` over its (unit) members, so clusters are tried by decreasing distortion, a
  /// batch at a time, and the search stops once no untried cluster could beat the best
  /// split found. The result is the same as trying every cluster.
  static func bestSplit(
    _ points: DenseMatrix, clusters: LloydIterations.ClusterSums, norms: [Double], count k: Int
  ) -> (cluster: Int, split: Split)? {
    let sizes = (0..<k).map { Double(clusters.offsets[$0 + 1] - clusters.offsets[$0]) }
    let distortion = (0..<k).map { sizes[$0] - norms[$0] }
    let order = (0..<k).sorted { distortion[$0] != distortion[$1] ? distortion[$0] > distortion[$1] : $0 < $1 }
    let batch = max(1, processorCount)
    var best: (cluster: Int, split: Split)?
    var next = 0
    while next < k {
      if let best, distortion[order[next]] < best.split.gain { break }
      let tried = Array(order[next..<min(k, next + batch)])
      let splits = parallelMap(chunks: tried.count) { position in
        split(points, cluster: tried[position], clusters: clusters, norm: norms[tried[position]])
      }
      for (cluster, split) in zip(tried, splits) where split.gain > -.infinity {
        if best == nil || split.gain > best!.split.gain
          || (split.gain == best!.split.gain && cluster < best!.cluster)
        {
          best = (cluster, split)
        }
      }
      next += tried.count
    }
    return best
  }

  /// The 2-means split of cluster c, seeded with the member least similar to the cluster's
  /// centroid and the member least similar to that one (the lower row on ties).
  static func split(
    _ points: DenseMatrix, cluster c: Int, clusters: LloydIterations.ClusterSums, norm: Double
  ) -> Split {
    let d = points.columns
    let count = clusters.offsets[c + 1] - clusters.offsets[c]
    guard count >= 2, norm > 0 else { return Split() }
    return clusters.order.withUnsafeBufferPointer { order in
      let members = UnsafeBufferPointer(
        rebasing: order[clusters.offsets[c]..<clusters.offsets[c + 1]])
      let mean = (0..<d).map { Float(clusters.sums[c * d + $0] / norm) }
      let first = mean.withUnsafeBufferPointer {
        leastSimilar(points, members: members, to: $0.baseAddress!)
      }
      let second = leastSimilar(points, members: members, to: points.baseAddress + first * d)
      guard first != second else { return Split() }
      var sides = [UInt8](repeating: 2, count: count)
      var sums = [Double](repeating: 0, count: 2 * d)
      var centroids = points.row(first) + points.row(second)
      let partial = UnsafeMutablePointer<Float>.allocate(capacity: 2 * d)
      defer { partial.deallocate() }
      return centroids.withUnsafeMutableBufferPointer { centroids in
        sums.withUnsafeMutableBufferPointer { sums in
          sides.withUnsafeMutableBufferPointer { sides in
            let a = centroids.baseAddress!, b = a + d
            for _ in 0..<splitIterations {
              var changed = 0
              sums.update(repeating: 0)
              var start = 0
              while start < count {
                let end = min(count, start + LloydIterations.flushEvery)
                partial.update(repeating: 0, count: 2 * d)
                for position in start..<end {
                  let row = points.baseAddress + Int(members[position]) * d
                  let side: UInt8 =
                    VectorKernels.dot(row, b, count: d) > VectorKernels.dot(row, a, count: d)
                    ? 1 : 0
                  if sides[position] != side {
                    sides[position] = side
                    changed += 1
                  }
                  VectorKernels.add(row, into: partial + Int(side) * d, count: d)
                }
                VectorKernels.accumulate(partial, into: sums.baseAddress!, count: 2 * d)
                start = end
              }
              for side in 0..<2 {
                let sum = sums.baseAddress! + side * d
                let norm = VectorKernels.norm(sum, count: d)
                guard norm > 0 else { return Split() }  // one side is empty or cancels out
                for j in 0..<d { centroids[side * d + j] = Float(sum[j] / norm) }
              }
              if changed == 0 { break }
            }
            let gain =
              VectorKernels.norm(sums.baseAddress!, count: d)
              + VectorKernels.norm(sums.baseAddress! + d, count: d) - norm
            return Split(centroids: Array(centroids), gain: gain)
          }
        }
      }
    }
  }

  /// The member with the lowest inner product with `vector` (the first on a tie).
  static func leastSimilar(
    _ points: DenseMatrix, members: UnsafeBufferPointer<Int32>, to vector: UnsafePointer<Float>
  ) -> Int {
    let d = points.columns
    var worst = Int(members[0])
    var lowest = Float.infinity
    for member in members {
      let score = VectorKernels.dot(points.baseAddress + Int(member) * d, vector, count: d)
      if score < lowest {
        lowest = score
        worst = Int(member)
      }
    }
    return worst
  }
}
