extension IVFNeighborIndex {
  /// Training vectors per list when the configuration does not say.
  static let trainingPointsPerList = 32
  /// The most training vectors by default (32 per list up to 4,096 lists).
  static let trainingSizeCap = 131_072
  /// Lloyd iterations stop early once fewer than this share of the sample changes list.
  static let convergedShare = 0.01

  /// The default training sample for `lists` lists: 32 vectors per list, at most 131,072
  /// (and never fewer than `lists`).
  ///
  /// The sample only has to place the centroids where the vectors are; calibration then
  /// picks `nprobe` for the lists it gets, so a smaller sample costs search time, not recall.
  /// Measured at 300,000 vectors and 2,191 lists: on the benchmark corpus 16, 32 and 64 per
  /// list give the same recall@10 at the same `nprobe` (within ±0.003); on synthetic vectors
  /// with heavy noise around 1,000 centres, 16 per list needed nprobe 36, 32 per list 9 and
  /// 64 per list 8 (see Docs/Algorithms.md).
  static func defaultTrainingSize(lists: Int) -> Int {
    max(lists, min(trainingSizeCap, trainingPointsPerList * lists))
  }

  /// Trains the coarse quantizer: spherical k-means on a uniform sample of at most
  /// `trainingSize` vectors, from seeds drawn uniformly among the sample's non-zero vectors.
  ///
  /// Uniform seeds (rather than k-means++) keep seeding at O(lists · d) instead of
  /// O(sample · lists · d), and the Lloyd iterations run without split–merge refinement:
  /// with thousands of lists, the partition is as useful for search, which only needs
  /// neighbours to share lists, at a fraction of the cost. The iterations stop early once
  /// fewer than 1% of the sample changes list.
  ///
  /// - Returns: `lists × d` unit centroids, row-major, and the iterations run.
  static func trainQuantizer(
    _ vectors: DenseMatrix, lists: Int, trainingSize: Int, iterations: Int, seed: UInt64
  ) -> (centroids: [Float], iterations: Int) {
    let n = vectors.rows, d = vectors.columns
    var generator = SeededGenerator(seed: seed ^ 0x4956_4651_5541_4E54)  // "IVFQUANT"
    let m = min(n, max(lists, trainingSize))
    let sample =
      m < n
      ? DenseMatrix(
        rows: m, columns: d,
        storage: Storage(
          KMeansPlusPlus.gatherRows(
            vectors, KMeansPlusPlus.uniformSample(m, of: n, using: &generator))))
      : vectors
    var isZero = [Bool](repeating: false, count: m)
    var nonzero: [Int] = [], zero: [Int] = []
    for row in 0..<m {
      if sample.rowBuffer(row).contains(where: { $0 != 0 }) {
        nonzero.append(row)
      } else {
        isZero[row] = true
        zero.append(row)
      }
    }
    var seedRows = KMeansPlusPlus.uniformSample(
      min(lists, nonzero.count), of: nonzero.count, using: &generator
    ).map { nonzero[$0] }
    seedRows += zero.prefix(lists - seedRows.count)
    var centroids = KMeansPlusPlus.gatherRows(sample, seedRows)

    var labels = [Int](repeating: -1, count: m)
    var scores = [Float](repeating: 0, count: m)
    var iteration = 0
    while iteration < iterations {
      if iteration > 0 {
        LloydIterations.updateCentroids(sample, labels: labels, count: lists, centroids: &centroids)
      }
      let changed = nearestLists(
        sample, centroids: centroids, lists: lists, labels: &labels, scores: &scores)
      LloydIterations.repairEmptyClusters(
        sample, isZero: isZero, count: lists, labels: &labels, scores: &scores,
        centroids: &centroids)
      iteration += 1
      if iteration > 1 && Double(changed) < convergedShare * Double(m) { break }
    }
    // The last assignment step may have left a centroid behind its members; one more update
    // puts every centroid at the mean direction of the members it will be filed with.
    LloydIterations.updateCentroids(sample, labels: labels, count: lists, centroids: &centroids)
    return (centroids, iteration)
  }

  /// Rows scored per SGEMM call by `nearestLists`.
  static let assignmentBlock = 128
  /// Centroids scored per SGEMM call by `nearestLists` (a 512 KB tile at 128 dimensions).
  static let assignmentTile = 1_024

  /// Writes the most similar of `lists` centroids (row-major) of every row of `vectors` into
  /// `labels` (ties: the lower centroid), and its inner product into `scores`.
  ///
  /// Each core takes a contiguous share of the rows and runs single-threaded SGEMM on
  /// blocks of them against tiles of centroids, with the argmax fused into the scan of each
  /// block of scores; the result does not depend on the number of cores.
  ///
  /// - Returns: how many labels differ from what `labels` held before.
  @discardableResult
  static func nearestLists(
    _ vectors: DenseMatrix, centroids: [Float], lists: Int, labels: inout [Int],
    scores: inout [Float]
  ) -> Int {
    let n = vectors.rows, d = vectors.columns
    assert(labels.count == n && scores.count == n && centroids.count == lists * d)
    guard n > 0, lists > 0 else { return 0 }
    let tasks = n < 4 * assignmentBlock ? 1 : processorCount
    let block = min(n, assignmentBlock), tile = min(lists, assignmentTile)
    var changedPerTask = [Int](repeating: 0, count: tasks)
    centroids.withUnsafeBufferPointer { centroids in
      labels.withUnsafeMutableBufferPointer { labels in
        scores.withUnsafeMutableBufferPointer { scores in
          changedPerTask.withUnsafeMutableBufferPointer { changedPerTask in
            let shared = UnsafeSendable((centroids, labels, scores, changedPerTask))
            parallelForEach(chunks: tasks) { task in
              let (centroids, labels, scores, changedPerTask) = shared.value
              let buffer = UnsafeMutablePointer<Float>.allocate(capacity: block * tile)
              defer { buffer.deallocate() }
              var best = [Float](repeating: 0, count: block)
              var bestList = [Int](repeating: 0, count: block)
              var changed = 0
              let share = chunkRange(task, of: tasks, count: n)
              var start = share.lowerBound
              while start < share.upperBound {
                let rows = min(block, share.upperBound - start)
                for row in 0..<rows {
                  best[row] = -.infinity
                  bestList[row] = 0
                }
                var first = 0
                while first < lists {
                  let columns = min(tile, lists - first)
                  BLAS.sgemm(
                    .none, .transposed, m: rows, n: columns, k: d,
                    a: vectors.baseAddress + start * d, lda: d,
                    b: centroids.baseAddress! + first * d, ldb: d, c: buffer, ldc: columns,
                    threading: tasks > 1 ? .single : .shared)
                  for row in 0..<rows {
                    let (value, column) = argmax(buffer + row * columns, count: columns)
                    if value > best[row] {
                      best[row] = value
                      bestList[row] = first + column
                    }
                  }
                  first += columns
                }
                for row in 0..<rows {
                  if labels[start + row] != bestList[row] {
                    labels[start + row] = bestList[row]
                    changed += 1
                  }
                  scores[start + row] = best[row]
                }
                start += rows
              }
              changedPerTask[task] = changed
            }
          }
        }
      }
    }
    return changedPerTask.reduce(0, +)
  }

  /// The largest of `count` scores and its first position (`-infinity` and 0 for none):
  /// the maximum with SIMD, then a scan for its first occurrence.
  @inline(__always)
  static func argmax(_ values: UnsafePointer<Float>, count: Int) -> (Float, Int) {
    var lanes = SIMD16<Float>(repeating: -.infinity)
    var j = 0
    while j + 16 <= count {
      // A compare and a blend per lane (pointwiseMax follows IEEE maximum and is not vectorised).
      let next = UnsafeRawPointer(values + j).loadUnaligned(as: SIMD16<Float>.self)
      lanes.replace(with: next, where: next .> lanes)
      j += 16
    }
    var top = lanes[0]
    for lane in 1..<16 where lanes[lane] > top { top = lanes[lane] }
    while j < count {
      if values[j] > top { top = values[j] }
      j += 1
    }
    for position in 0..<count where values[position] == top { return (top, position) }
    return (-.infinity, 0)
  }
}
