extension IVFNeighborIndex {
  /// Builds an IVF index over the rows of `vectors`: trains the coarse quantizer, files every
  /// vector under its most similar centroid and, unless the configuration fixes `nprobe`,
  /// calibrates `nprobe` against exact search.
  ///
  /// ```swift
  /// let ivf = try IVFNeighborIndex(embeddings, configuration: .init(seed: 42))
  /// print(ivf.listCount, ivf.nprobe, ivf.calibratedRecall ?? .nan)
  /// ```
  ///
  /// - Parameters:
  ///   - vectors: one vector per row, of unit length (or zero, which matches nothing better
  ///     than anything else); scores are inner products.
  ///   - configuration: lists, training sample, nprobe or its target recall, and the seed.
  /// - Throws: `ClusteringError.emptyInput` for a matrix without rows or columns,
  ///   `ConfigurationError.invalidValue` for an option out of range.
  /// - Complexity: training O(iterations · sample · lists · d) and filing O(n · lists · d)
  ///   multiply-adds, all in SGEMM; calibration one exact search per sampled query plus a few
  ///   IVF passes over them. Memory: a second copy of the vectors (in list order) and 4 bytes
  ///   of row id per vector.
  public init(_ vectors: DenseMatrix, configuration: Configuration = Configuration()) throws {
    guard vectors.rows > 0, vectors.columns > 0 else {
      throw ClusteringError.emptyInput(rows: vectors.rows, columns: vectors.columns)
    }
    try configuration.validate(vectors: vectors.rows)
    guard vectors.rows <= Int(Int32.max) else {
      throw ConfigurationError.invalidValue(
        option: "vectors", value: "\(vectors.rows)", expected: "at most \(Int32.max) rows")
    }
    let n = vectors.rows, d = vectors.columns
    let lists = configuration.lists ?? Configuration.defaultLists(for: n)
    let centroids = IVFNeighborIndex.trainQuantizer(
      vectors, lists: lists, trainingSize: configuration.trainingSize ?? 64 * lists,
      iterations: configuration.iterations, seed: configuration.seed)

    // File every vector under its most similar centroid (ties: the lower list).
    var labels = [Int](repeating: 0, count: n)
    var scores = [Float](repeating: 0, count: n)
    NearestCentroid.assign(
      vectors, centroids: centroids, count: lists, labels: &labels, scores: &scores)
    scores = []

    // Counting sort by list; rows stay in increasing order within a list.
    var offsets = [Int64](repeating: 0, count: lists + 1)
    for label in labels { offsets[label + 1] += 1 }
    for list in 0..<lists { offsets[list + 1] += offsets[list] }
    var next = offsets
    let rowIDs = Storage<Int32>(count: n) { rowIDs in
      for (row, label) in labels.enumerated() {
        rowIDs[Int(next[label])] = Int32(row)
        next[label] += 1
      }
    }
    let listVectors = DenseMatrix(rows: n, columns: d) { output in
      let tasks = n < 16_384 ? 1 : processorCount
      let shared = UnsafeSendable(output)
      parallelForEach(chunks: tasks) { task in
        for position in chunkRange(task, of: tasks, count: n) {
          (shared.value.baseAddress! + position * d).update(
            from: vectors.baseAddress + Int(rowIDs[position]) * d, count: d)
        }
      }
    }
    var index = IVFNeighborIndex(
      uncheckedCentroids: DenseMatrix(rows: lists, columns: d, storage: Storage(centroids)),
      listOffsets: Storage(offsets), rowIDs: rowIDs, listVectors: listVectors,
      nprobe: min(lists, configuration.nprobe ?? lists), calibratedRecall: nil)
    if configuration.nprobe == nil {
      let (nprobe, recall) = index.calibrate(
        vectors, queries: configuration.calibrationQueries, targetRecall: configuration.targetRecall,
        seed: configuration.seed)
      index = index.with(nprobe: nprobe, calibratedRecall: recall)
    }
    self = index
  }

  /// Trains the coarse quantizer: spherical k-means on a uniform sample of at most
  /// `trainingSize` vectors, from seeds drawn uniformly among the sample's non-zero vectors.
  ///
  /// Uniform seeds (rather than k-means++) keep seeding at O(lists · d) instead of
  /// O(sample · lists · d), and the Lloyd iterations run without split–merge refinement:
  /// with thousands of lists, the partition is as useful for search, which only needs
  /// neighbours to share lists, at a fraction of the cost.
  ///
  /// - Returns: `lists × d` unit centroids, row-major.
  static func trainQuantizer(
    _ vectors: DenseMatrix, lists: Int, trainingSize: Int, iterations: Int, seed: UInt64
  ) -> [Float] {
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
    var nonzero: [Int] = [], zero: [Int] = []
    for row in 0..<m {
      if sample.rowBuffer(row).contains(where: { $0 != 0 }) {
        nonzero.append(row)
      } else {
        zero.append(row)
      }
    }
    var seedRows = KMeansPlusPlus.uniformSample(
      min(lists, nonzero.count), of: nonzero.count, using: &generator
    ).map { nonzero[$0] }
    seedRows += zero.prefix(lists - seedRows.count)
    let seeds = KMeansPlusPlus.gatherRows(sample, seedRows)
    let run = LloydIterations.run(
      sample, centroids: seeds,
      configuration: SphericalKMeans.Configuration(
        clusters: lists, restarts: 1, maxIterations: iterations, seed: seed, refinement: false))
    return run.centroids
  }

  /// An index from parts known to be consistent (built here, or checked by the caller).
  init(
    uncheckedCentroids centroids: DenseMatrix, listOffsets: Storage<Int64>,
    rowIDs: Storage<Int32>, listVectors: DenseMatrix, nprobe: Int, calibratedRecall: Double?
  ) {
    var largest = 0
    for list in 0..<centroids.rows {
      largest = max(largest, Int(listOffsets[list + 1] - listOffsets[list]))
    }
    self.centroids = centroids
    self.listOffsets = listOffsets
    self.rowIDs = rowIDs
    self.listVectors = listVectors
    self.nprobe = nprobe
    self.calibratedRecall = calibratedRecall
    self.largestList = largest
  }

  /// The same lists with another default `nprobe`.
  func with(nprobe: Int, calibratedRecall: Double?) -> IVFNeighborIndex {
    IVFNeighborIndex(
      uncheckedCentroids: centroids, listOffsets: listOffsets, rowIDs: rowIDs,
      listVectors: listVectors, nprobe: nprobe, calibratedRecall: calibratedRecall)
  }
}
