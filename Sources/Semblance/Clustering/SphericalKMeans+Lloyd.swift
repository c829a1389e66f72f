/// Lloyd's iterations for spherical k-means, from given seeds.
enum LloydIterations {
  /// Runs assignment and update steps until convergence or the iteration limit; then, when
  /// the configuration asks for it, tries a split–merge move and converges again, for as
  /// long as moves improve the objective and iterations remain.
  ///
  /// Every iteration ends with an assignment step, so the returned assignments are the
  /// nearest centroids of the returned centroids (up to empty-cluster repairs, whose moved
  /// points become their own centroids).
  static func run(
    _ points: DenseMatrix, centroids seeds: [Float],
    configuration: SphericalKMeans.Configuration
  ) -> SphericalKMeans.Run {
    let n = points.rows, k = configuration.clusters
    var centroids = seeds
    var labels = [Int](repeating: -1, count: n)
    var scores = [Float](repeating: 0, count: n)
    let isZero = (0..<n).map { row in !points.rowBuffer(row).contains { $0 != 0 } }
    var best: SphericalKMeans.Run?
    var previous = -Double.infinity
    var objective = -Double.infinity
    var phaseStart = 1  // the first iteration since the seeds or the last move
    var iteration = 1
    while iteration <= configuration.maxIterations {
      if iteration > phaseStart {
        updateCentroids(points, labels: labels, count: k, centroids: &centroids)
      }
      let changed = NearestCentroid.assign(
        points, centroids: centroids, count: k, labels: &labels, scores: &scores)
      repairEmptyClusters(
        points, isZero: isZero, count: k, labels: &labels, scores: &scores,
        centroids: &centroids)
      objective = scores.reduce(0) { $0 + Double($1) }
      let converged =
        iteration > phaseStart
        && (changed == 0 || objective - previous <= configuration.tolerance * abs(objective))
      previous = objective
      iteration += 1
      guard converged || iteration > configuration.maxIterations else { continue }
      // A converged phase: keep it if it is the best so far, then try to escape it.
      if best == nil || objective > best!.objective {
        best = SphericalKMeans.Run(
          centroids: centroids, assignments: labels, objective: objective,
          iterations: iteration - 1)
      } else {
        break  // the last move did not pay off after all
      }
      guard configuration.refinement, iteration < configuration.maxIterations,
        let moved = SplitMergeRefinement.improvedCentroids(
          points, labels: labels, count: k, centroids: centroids,
          minimumGain: max(configuration.tolerance * abs(objective), 1e-9 * Double(n)))
      else { break }
      centroids = moved
      phaseStart = iteration
    }
    if var result = best {
      result.iterations = iteration - 1
      return result
    }
    return SphericalKMeans.Run(
      centroids: centroids, assignments: labels, objective: objective, iterations: iteration - 1)
  }

  /// The members of every cluster and their sums.
  struct ClusterSums {
    /// The members of cluster c are `order[offsets[c]..<offsets[c + 1]]`, ascending.
    var offsets: [Int]
    var order: [Int32]
    /// k × d sums, row-major, in Double.
    var sums: [Double]
  }

  /// Rows summed in Float before their sum is added to the Double total.
  static let flushEvery = 64

  /// Sums the members of every cluster in increasing row order, one cluster per task, so
  /// the result does not depend on the number of threads: Float sums of `flushEvery` rows at
  /// a time, added into Double totals.
  static func clusterSums(_ points: DenseMatrix, labels: [Int], count k: Int) -> ClusterSums {
    let n = points.rows, d = points.columns
    // Counting sort: the members of cluster c are order[offsets[c]..<offsets[c + 1]].
    var offsets = [Int](repeating: 0, count: k + 1)
    for label in labels { offsets[label + 1] += 1 }
    for c in 0..<k { offsets[c + 1] += offsets[c] }
    var order = [Int32](repeating: 0, count: n)
    var next = offsets
    for (row, label) in labels.enumerated() {
      order[next[label]] = Int32(row)
      next[label] += 1
    }
    var sums = [Double](repeating: 0, count: k * d)
    let tasks = min(k, n < 4096 ? 1 : processorCount)
    order.withUnsafeBufferPointer { order in
      sums.withUnsafeMutableBufferPointer { sums in
        let shared = UnsafeSendable((order, sums))
        parallelForEach(chunks: tasks) { task in
          let (order, sums) = shared.value
          // Float partial sums of up to `flushEvery` rows (fast), flushed into Double.
          let partial = UnsafeMutablePointer<Float>.allocate(capacity: d)
          defer { partial.deallocate() }
          for c in chunkRange(task, of: tasks, count: k) {
            let sum = sums.baseAddress! + c * d
            var start = offsets[c]
            while start < offsets[c + 1] {
              let end = min(offsets[c + 1], start + flushEvery)
              partial.update(repeating: 0, count: d)
              for member in order[start..<end] {
                VectorKernels.add(points.baseAddress + Int(member) * d, into: partial, count: d)
              }
              VectorKernels.accumulate(partial, into: sum, count: d)
              start = end
            }
          }
        }
      }
    }
    return ClusterSums(offsets: offsets, order: order, sums: sums)
  }

  /// Replaces each centroid by the normalised sum of its members. A cluster whose sum is
  /// zero (no members, or only zero rows) keeps its centroid.
  static func updateCentroids(
    _ points: DenseMatrix, labels: [Int], count k: Int, centroids: inout [Float]
  ) {
    let d = points.columns
    let sums = clusterSums(points, labels: labels, count: k).sums
    for c in 0..<k {
      var squares: Double = 0
      for j in 0..<d { squares += sums[c * d + j] * sums[c * d + j] }
      guard squares > 0 else { continue }
      let scale = 1 / squares.squareRoot()
      for j in 0..<d { centroids[c * d + j] = Float(sums[c * d + j] * scale) }
    }
  }

  /// Gives every empty cluster a member: the worst-fitting point (lowest score against its
  /// own centroid) among clusters with more than one member, preferring non-zero points.
  /// The moved point becomes the cluster's centroid.
  static func repairEmptyClusters(
    _ points: DenseMatrix, isZero: [Bool], count k: Int,
    labels: inout [Int], scores: inout [Float], centroids: inout [Float]
  ) {
    var sizes = [Int](repeating: 0, count: k)
    for label in labels { sizes[label] += 1 }
    let empty = (0..<k).filter { sizes[$0] == 0 }
    guard !empty.isEmpty else { return }
    let d = points.columns
    let candidates = labels.indices.sorted { a, b in
      if isZero[a] != isZero[b] { return !isZero[a] }
      if scores[a] != scores[b] { return scores[a] < scores[b] }
      return a < b
    }
    var next = 0
    for cluster in empty {
      while sizes[labels[candidates[next]]] <= 1 { next += 1 }
      let row = candidates[next]
      next += 1
      sizes[labels[row]] -= 1
      sizes[cluster] = 1
      labels[row] = cluster
      let vector = points.rowBuffer(row)
      var squares: Double = 0
      for value in vector { squares += Double(value) * Double(value) }
      let scale = squares > 0 ? 1 / squares.squareRoot() : 0
      var score: Double = 0
      for j in 0..<d {
        let value = Float(Double(vector[j]) * scale)
        centroids[cluster * d + j] = value
        score += Double(vector[j]) * Double(value)
      }
      scores[row] = Float(score)
    }
  }
}
