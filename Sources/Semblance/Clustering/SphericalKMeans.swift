/// Spherical k-means: clusters unit vectors by cosine similarity.
///
/// Each centroid is the normalised mean of its members, and each point belongs to the
/// centroid with the highest cosine similarity. The fit maximises the objective
/// `Σᵢ cos(xᵢ, c_{a(i)})`, the sum of every point's similarity to its centroid
/// (Dhillon & Modha 2001).
///
/// ```swift
/// let model = try SphericalKMeans.fit(
///   index.embeddings, configuration: .init(clusters: 8, seed: 42))
/// model.assignments[0]     // the cluster of the first paper
/// model.centroids.row(3)   // a unit vector
/// model.objective          // Σ cos(point, its centroid)
/// ```
///
/// - Seeding: greedy k-means++ (Arthur & Vassilvitskii 2007). On unit vectors the squared
///   Euclidean distance is `2·(1 − cos)`, so "D² seeding" draws candidates with probability
///   proportional to their cosine distance `1 − cos` to the nearest seed so far; of
///   `2 + ⌊ln k⌋` candidates, the one that most reduces the total distance becomes the next
///   seed. Above 10,000 points, seeds are drawn from a uniform sample of
///   `max(10,000, 8·k)` points (without replacement), which keeps seeding at
///   O(sample · k · log k · d) while the Lloyd iterations still use every point.
/// - Iterations: Lloyd's algorithm. The assignment step is a blocked SGEMM of points ×
///   centroids with the argmax fused into the scan of each block, so at most one block of
///   scores exists at a time. The update step replaces each centroid with the normalised
///   sum of its members.
/// - Refinement: when the iterations converge, a split–merge move may follow: the cluster
///   whose 2-means split gains the most objective is split, and the two clusters whose
///   union loses the least are merged, when the gain exceeds the loss; the iterations then
///   resume (within `maxIterations` in all). This escapes the common local optimum where one
///   cluster spans two groups while another group is split in two.
/// - Empty clusters: a cluster left without members takes the worst-fitting point (lowest
///   similarity to its own centroid) from a cluster that has more than one member, and that
///   point becomes its centroid. Every cluster of a result has at least one member.
/// - Zero rows (papers with no terms): they score 0 against every centroid, so they join
///   cluster 0 (ties go to the lower cluster), and they add nothing to any centroid or to
///   the objective. They are never drawn as seeds while a non-zero point is available.
/// - Determinism: the same points and configuration give bit-identical results on any
///   number of threads. Ties in the argmax go to the lower cluster; sums run in a fixed order.
public struct SphericalKMeans: Sendable {
  /// The options of a fit.
  public struct Configuration: Sendable, Hashable, Codable {
    /// The number of clusters, k, from 1 to the number of points.
    public var clusters: Int
    /// How many independently seeded runs to make; the best objective wins. Default 3.
    public var restarts: Int
    /// The most assignment steps per run. Default 100.
    public var maxIterations: Int
    /// A run stops when an iteration improves the objective by at most
    /// `tolerance × objective`, or when no assignment changes. Default 1e-4.
    public var tolerance: Double
    /// The seed of every random choice.
    public var seed: UInt64
    /// Whether converged runs try split–merge moves (see `SphericalKMeans`). Default true.
    public var refinement: Bool

    /// Creates a configuration.
    ///
    /// ```swift
    /// let configuration = SphericalKMeans.Configuration(clusters: 20, restarts: 5, seed: 7)
    /// ```
    public init(
      clusters: Int, restarts: Int = 3, maxIterations: Int = 100, tolerance: Double = 1e-4,
      seed: UInt64 = 0, refinement: Bool = true
    ) {
      self.clusters = clusters
      self.restarts = restarts
      self.maxIterations = maxIterations
      self.tolerance = tolerance
      self.seed = seed
      self.refinement = refinement
    }

    /// Checks every option except `clusters`, which depends on the data.
    ///
    /// - Throws: `ConfigurationError.invalidValue` naming the option.
    public func validate() throws {
      guard restarts >= 1 else {
        throw ConfigurationError.invalidValue(
          option: "restarts", value: "\(restarts)", expected: "at least 1")
      }
      guard maxIterations >= 1 else {
        throw ConfigurationError.invalidValue(
          option: "maxIterations", value: "\(maxIterations)", expected: "at least 1")
      }
      guard tolerance >= 0, tolerance.isFinite else {
        throw ConfigurationError.invalidValue(
          option: "tolerance", value: "\(tolerance)", expected: "a finite number ≥ 0")
      }
    }
  }

  /// The configuration of the fit.
  public let configuration: Configuration
  /// The k unit-length centroids, one per row (a cluster made only of zero rows keeps a
  /// zero centroid).
  public let centroids: DenseMatrix
  /// The cluster of every point, in `0..<k`.
  public let assignments: [Int]
  /// The sum over points of the cosine similarity to their centroid (higher is better).
  public let objective: Double
  /// The number of assignment steps of the winning run.
  public let iterations: Int

  /// The number of clusters.
  public var k: Int { centroids.rows }

  /// Fits spherical k-means to the rows of `points`.
  ///
  /// ```swift
  /// let model = try SphericalKMeans.fit(embeddings, configuration: .init(clusters: 8))
  /// ```
  ///
  /// - Parameters:
  ///   - points: one point per row, each of unit length or zero. Other lengths are not
  ///     normalised: they weight their points, as in a weighted spherical k-means.
  ///   - configuration: k, restarts, iteration limits and the seed.
  /// - Returns: the run with the highest objective (the first such run on a tie).
  /// - Throws: `ClusteringError.invalidClusterCount` when k is not in `1...points.rows`,
  ///   `ClusteringError.emptyInput` for a matrix without rows or columns, and
  ///   `ConfigurationError.invalidValue` for other options.
  /// - Complexity: O(restarts · iterations · n · k · d) multiply-adds, nearly all in SGEMM;
  ///   O(n + k · d) memory besides the points and one block of scores.
  public static func fit(_ points: DenseMatrix, configuration: Configuration) throws
    -> SphericalKMeans
  {
    try configuration.validate()
    guard points.rows > 0, points.columns > 0 else {
      throw ClusteringError.emptyInput(rows: points.rows, columns: points.columns)
    }
    guard configuration.clusters >= 1 && configuration.clusters <= points.rows else {
      throw ClusteringError.invalidClusterCount(configuration.clusters, points: points.rows)
    }
    var best: Run?
    for restart in 0..<configuration.restarts {
      var generator = SeededGenerator(
        seed: configuration.seed ^ (UInt64(restart) &* 0x9E37_79B9_7F4A_7C15))
      let seeds = KMeansPlusPlus.seeds(
        points, count: configuration.clusters, using: &generator)
      let run = LloydIterations.run(points, centroids: seeds, configuration: configuration)
      if best == nil || run.objective > best!.objective { best = run }
    }
    let winner = best!
    return SphericalKMeans(
      configuration: configuration,
      centroids: DenseMatrix(
        rows: configuration.clusters, columns: points.columns, storage: Storage(winner.centroids)),
      assignments: winner.assignments, objective: winner.objective,
      iterations: winner.iterations)
  }

  /// The nearest centroid of every row of `points` (the cluster each would join).
  ///
  /// ```swift
  /// let clusters = model.assignments(for: newEmbeddings)
  /// ```
  ///
  /// - Precondition: `points.columns == centroids.columns` (a programmer error otherwise).
  public func assignments(for points: DenseMatrix) -> [Int] {
    precondition(points.columns == centroids.columns, "points have \(points.columns) columns")
    var labels = [Int](repeating: 0, count: points.rows)
    var scores = [Float](repeating: 0, count: points.rows)
    NearestCentroid.assign(
      points, centroids: centroids.elements, count: k, labels: &labels, scores: &scores)
    return labels
  }

  /// The result of one seeded run.
  struct Run {
    var centroids: [Float]
    var assignments: [Int]
    var objective: Double
    var iterations: Int
  }
}
