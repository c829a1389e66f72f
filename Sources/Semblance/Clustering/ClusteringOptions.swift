/// The options of `PaperIndex.clusters(_:options:progress:)`.
///
/// ```swift
/// var options = ClusteringOptions.default
/// options.seed = 7
/// options.method = .averageLinkage
/// let clustering = try index.clusters(.count(12), options: options)
/// ```
public struct ClusteringOptions: Sendable, Hashable, Codable {
  /// A clustering algorithm.
  public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
    /// `SphericalKMeans` on the embeddings (the default; any number of papers).
    case sphericalKMeans
    /// `AgglomerativeClustering.averageLinkage` on the embeddings, cut at k
    /// (at most `AgglomerativeClustering.maximumPoints` papers).
    case averageLinkage
  }

  /// The algorithm. Default `.sphericalKMeans`.
  public var method: Method
  /// The seed of every random choice (k-means seeding and sampling).
  public var seed: UInt64
  /// k-means restarts; the best objective wins. Default 3.
  public var restarts: Int
  /// The most k-means assignment steps per restart. Default 100.
  public var maxIterations: Int
  /// The most terms per cluster label. Default 5.
  public var labelTerms: Int

  /// The defaults: spherical k-means, seed 0, 3 restarts, 100 iterations, 5 label terms.
  public static let `default` = ClusteringOptions()

  /// Creates options.
  public init(
    method: Method = .sphericalKMeans, seed: UInt64 = 0, restarts: Int = 3,
    maxIterations: Int = 100, labelTerms: Int = 5
  ) {
    self.method = method
    self.seed = seed
    self.restarts = restarts
    self.maxIterations = maxIterations
    self.labelTerms = labelTerms
  }

  /// The k-means configuration for k clusters.
  func kMeansConfiguration(clusters k: Int, seed: UInt64? = nil) -> SphericalKMeans.Configuration {
    SphericalKMeans.Configuration(
      clusters: k, restarts: restarts, maxIterations: maxIterations, seed: seed ?? self.seed)
  }

  /// Checks every option.
  ///
  /// - Throws: `ConfigurationError.invalidValue` naming the option.
  public func validate() throws {
    try kMeansConfiguration(clusters: 1).validate()
    guard labelTerms >= 1 else {
      throw ConfigurationError.invalidValue(
        option: "labelTerms", value: "\(labelTerms)", expected: "at least 1")
    }
  }
}
