/// Approximate maximum-inner-product search over unit vectors with an inverted file (IVF):
/// the vectors are partitioned by a coarse quantizer, and a query scans only the lists of
/// its `nprobe` most similar centroids.
///
/// ```swift
/// let ivf = try IVFNeighborIndex(embeddings)            // ≈ 4·√n lists, nprobe calibrated
/// let best = ivf.search(embeddings.row(0), count: 10, excluding: 0)
/// let wider = ivf.search(query, count: 10, nprobe: 4 * ivf.nprobe)   // slower, closer to exact
/// let graph = ivf.neighbors(count: 10)                  // approximate all-pairs k-NN
/// ```
///
/// - Coarse quantizer: spherical k-means (see ``SphericalKMeans``) with about 4·√n lists,
///   trained by at most 4 Lloyd iterations (fewer once under 1% of the sample changes list)
///   on a uniform sample of 32 vectors per list (at most 131,072), from
///   uniformly drawn seeds. Every vector then joins the list of its most similar centroid.
///   This is the inverted file of Jégou, Douze & Schmid (2011), *Product quantization for
///   nearest neighbor search*, with the vectors stored uncompressed.
/// - Layout: the members of each list are stored contiguously, in a copy of the vectors
///   permuted into list order with each member's original row beside it. Scanning a list is
///   one GEMV for a single query, and one SGEMM for all the queries of a batch that probe
///   it; top-k selection is fused into the scan exactly as in ``ExactNeighborIndex``.
/// - `nprobe`: chosen at build time as the smallest number of lists whose recall@10 against
///   exact search reaches `targetRecall` (0.95) with 95% confidence: the one-sided lower
///   confidence bound of the mean over sampled queries must reach it, unless the
///   configuration fixes `nprobe`. Every search may override it. A query always probes enough
///   lists to hold `count` candidates, so it never returns fewer results for lack of lists.
/// - Exactness: with `nprobe == listCount` every vector is scored and the results are those
///   of ``ExactNeighborIndex`` (up to the rounding of the BLAS kernels).
/// - Determinism: the same vectors and configuration give the same index; ties are broken by
///   the lower original row, so results do not depend on list order or thread count.
public struct IVFNeighborIndex: Sendable {
  /// The options of an IVF index.
  ///
  /// ```swift
  /// var configuration = IVFNeighborIndex.Configuration(seed: 7)
  /// configuration.lists = 1024
  /// configuration.targetRecall = 0.99
  /// ```
  public struct Configuration: Sendable, Hashable {
    /// The number of lists; `nil` means `round(4·√n)`, at most n.
    public var lists: Int?
    /// The vectors the quantizer is trained on; `nil` means 32 per list, at most 131,072
    /// (all n when there are fewer).
    public var trainingSize: Int?
    /// The most Lloyd iterations of the quantizer's training (default 4); training stops
    /// earlier once fewer than 1% of the sample changes list.
    ///
    /// Search only needs neighbours to share lists, not converged centroids: on the
    /// benchmark corpus, 4 iterations instead of 6 kept recall@10 at 300,000 papers (0.964 at
    /// the same `nprobe`, 11) and cost one more list probed at a million (15 instead of 14,
    /// for 0.959 against 0.954), while training took a third less time.
    public var iterations: Int
    /// Lists probed per query; `nil` (the default) calibrates it to reach `targetRecall`.
    public var nprobe: Int?
    /// The recall@10 the calibrated `nprobe` must reach with 95% confidence, in 0...1
    /// (default 0.95).
    public var targetRecall: Double
    /// How many sampled vectors calibrate `nprobe` (default 1,000, at most n).
    public var calibrationQueries: Int
    /// The seed of every random choice (default 0).
    public var seed: UInt64

    /// Creates a configuration.
    public init(
      lists: Int? = nil, trainingSize: Int? = nil, iterations: Int = 4, nprobe: Int? = nil,
      targetRecall: Double = 0.95, calibrationQueries: Int = 1_000, seed: UInt64 = 0
    ) {
      self.lists = lists
      self.trainingSize = trainingSize
      self.iterations = iterations
      self.nprobe = nprobe
      self.targetRecall = targetRecall
      self.calibrationQueries = calibrationQueries
      self.seed = seed
    }

    /// The default number of lists for `n` vectors: `round(4·√n)`, between 1 and n.
    public static func defaultLists(for n: Int) -> Int {
      max(1, min(n, Int((4 * Double(n).squareRoot()).rounded())))
    }

    /// Checks every option against the number of vectors.
    ///
    /// - Throws: `ConfigurationError.invalidValue` naming the first option out of range.
    public func validate(vectors n: Int) throws {
      func invalid(_ option: String, _ value: String, _ expected: String) -> ConfigurationError {
        .invalidValue(option: option, value: value, expected: expected)
      }
      if let lists, !(1...max(1, n)).contains(lists) {
        throw invalid("lists", "\(lists)", "between 1 and the number of vectors (\(n))")
      }
      if let trainingSize, trainingSize < 1 {
        throw invalid("trainingSize", "\(trainingSize)", "at least 1")
      }
      if iterations < 1 { throw invalid("iterations", "\(iterations)", "at least 1") }
      if let nprobe, nprobe < 1 { throw invalid("nprobe", "\(nprobe)", "at least 1") }
      if !(targetRecall >= 0 && targetRecall <= 1) {
        throw invalid("targetRecall", "\(targetRecall)", "a number between 0 and 1")
      }
      if calibrationQueries < 1 {
        throw invalid("calibrationQueries", "\(calibrationQueries)", "at least 1")
      }
    }
  }

  /// The unit-length centroid of every list, one per row (`listCount × dimensions`).
  public let centroids: DenseMatrix
  /// The lists probed per query unless a search says otherwise.
  public let nprobe: Int
  /// The mean recall@10 that `nprobe` reached on the calibration queries (its 95% lower
  /// confidence bound reached the target), or nil when `nprobe` was given rather than calibrated.
  public let calibratedRecall: Double?
  /// Where each list starts in `rowIDs` and `listVectors`; `listCount + 1` offsets.
  let listOffsets: Storage<Int64>
  /// The original row of every stored vector, in list order (a permutation of `0..<count`).
  let rowIDs: Storage<Int32>
  /// The vectors permuted into list order (`count × dimensions`).
  let listVectors: DenseMatrix
  /// The size of the largest list.
  let largestList: Int

  /// The number of lists.
  public var listCount: Int { centroids.rows }
  /// The number of indexed vectors.
  public var count: Int { rowIDs.count }
  /// The dimension of the vectors.
  public var dimensions: Int { centroids.columns }

  /// The original rows in list `list`, in increasing order.
  public func rows(inList list: Int) -> [Int] {
    precondition(list >= 0 && list < listCount, "list out of range")
    return listRange(list).map { Int(rowIDs[$0]) }
  }

  /// The positions of list `list`'s members in `rowIDs` and `listVectors`.
  @inline(__always)
  func listRange(_ list: Int) -> Range<Int> {
    Int(listOffsets[list])..<Int(listOffsets[list + 1])
  }

  /// Assembles an index from its parts, checking their structure: a shape mismatch,
  /// offsets that are not monotone from 0 to the row count, or row ids that are not a
  /// permutation would make a search read out of bounds.
  ///
  /// - Throws: `IVFNeighborIndex.StructureError` describing the first inconsistency.
  init(
    centroids: DenseMatrix, listOffsets: Storage<Int64>, rowIDs: Storage<Int32>,
    listVectors: DenseMatrix, nprobe: Int, calibratedRecall: Double?
  ) throws(StructureError) {
    let lists = centroids.rows, n = rowIDs.count, d = centroids.columns
    guard lists >= 1, d >= 1 else { throw StructureError("it has no lists") }
    guard listVectors.rows == n, listVectors.columns == d else {
      throw StructureError(
        "its list vectors are \(listVectors.rows) × \(listVectors.columns), "
          + "expected \(n) × \(d)")
    }
    guard n >= lists, n <= Int(Int32.max) else {
      throw StructureError("it has \(lists) lists for \(n) vectors")
    }
    guard listOffsets.count == lists + 1 else {
      throw StructureError("it has \(listOffsets.count) list offsets for \(lists) lists")
    }
    guard listOffsets[0] == 0, listOffsets[lists] == Int64(n) else {
      throw StructureError("its list offsets do not run from 0 to \(n)")
    }
    for list in 0..<lists where listOffsets[list + 1] < listOffsets[list] {
      throw StructureError("its list offsets decrease at list \(list)")
    }
    var seen = [Bool](repeating: false, count: n)
    for position in 0..<n {
      let row = Int(rowIDs[position])
      guard row >= 0, row < n, !seen[row] else {
        throw StructureError("its row ids are not a permutation of 0..<\(n)")
      }
      seen[row] = true
    }
    guard nprobe >= 1, nprobe <= lists else {
      throw StructureError("its nprobe \(nprobe) is not between 1 and \(lists)")
    }
    if let calibratedRecall, !(calibratedRecall >= 0 && calibratedRecall <= 1) {
      throw StructureError("its calibrated recall \(calibratedRecall) is not between 0 and 1")
    }
    self.init(
      uncheckedCentroids: centroids, listOffsets: listOffsets, rowIDs: rowIDs,
      listVectors: listVectors, nprobe: nprobe, calibratedRecall: calibratedRecall)
  }

  /// Why stored IVF parts do not form an index.
  struct StructureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }
}
