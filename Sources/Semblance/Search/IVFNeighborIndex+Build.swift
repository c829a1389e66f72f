import Foundation

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
    var profile = BuildProfile()
    try self.init(vectors, configuration: configuration, profile: &profile)
  }

  /// Builds the index as ``init(_:configuration:)`` does, and records how long each part took.
  package init(
    _ vectors: DenseMatrix, configuration: Configuration, profile: inout BuildProfile
  ) throws {
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
    var clock = ContinuousClock.now
    var cpuClock = IVFNeighborIndex.processorSeconds()
    // Wall and processor seconds since the last lap.
    func lap() -> (Double, Double) {
      let now = ContinuousClock.now, cpuNow = IVFNeighborIndex.processorSeconds()
      defer { (clock, cpuClock) = (now, cpuNow) }
      let (whole, attoseconds) = (now - clock).components
      return (Double(whole) + Double(attoseconds) * 1e-18, cpuNow - cpuClock)
    }
    let (centroids, iterations) = IVFNeighborIndex.trainQuantizer(
      vectors, lists: lists,
      trainingSize: configuration.trainingSize ?? IVFNeighborIndex.defaultTrainingSize(lists: lists),
      iterations: configuration.iterations, seed: configuration.seed)
    (profile.training, profile.trainingCPU) = lap()
    profile.iterations = iterations

    // File every vector under its most similar centroid (ties: the lower list).
    var labels = [Int](repeating: 0, count: n)
    var scores = [Float](repeating: 0, count: n)
    IVFNeighborIndex.nearestLists(
      vectors, centroids: centroids, lists: lists, labels: &labels, scores: &scores)
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
    (profile.filing, profile.filingCPU) = lap()
    if configuration.nprobe == nil {
      let (nprobe, estimate) = index.calibrate(
        vectors, queries: configuration.calibrationQueries, targetRecall: configuration.targetRecall,
        seed: configuration.seed)
      index = index.with(nprobe: nprobe, calibratedRecall: estimate.mean)
      profile.calibrationLowerBound = estimate.lowerBound
    }
    (profile.calibration, profile.calibrationCPU) = lap()
    self = index
  }

  /// Where the time of a build went, in seconds (for semblance-bench).
  package struct BuildProfile: Sendable {
    /// Sampling, seeding and the Lloyd iterations of the quantizer.
    package var training = 0.0
    /// The Lloyd iterations the quantizer ran.
    package var iterations = 0
    /// Assigning every vector to its list and copying the vectors into list order.
    package var filing = 0.0
    /// Calibrating `nprobe` (0 when the configuration fixes it).
    package var calibration = 0.0
    /// The same parts in processor time of all threads (wall time is unreliable on a busy machine).
    package var trainingCPU = 0.0, filingCPU = 0.0, calibrationCPU = 0.0
    /// The 95% lower confidence bound of the recall at the calibrated `nprobe` (nil when fixed).
    package var calibrationLowerBound: Double?

    package init() {}
  }

  /// The processor time this process has used, over all its threads.
  static func processorSeconds() -> Double {
    Double(clock()) / Double(CLOCKS_PER_SEC)
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
