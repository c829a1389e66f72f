/// A clustering request that cannot be carried out on the given points.
///
/// ```swift
/// do {
///   _ = try SphericalKMeans.fit(points, configuration: .init(clusters: 500))
/// } catch let error as ClusteringError {
///   print(error)   // "cannot make 500 clusters of 81 points: k must be between 1 and 81"
/// }
/// ```
public enum ClusteringError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The number of clusters is below 1 or above the number of points.
  case invalidClusterCount(Int, points: Int)
  /// No k in the range of an automatic choice is possible: silhouettes need
  /// `2 ≤ k ≤ points − 1`.
  case invalidRange(ClosedRange<Int>, points: Int)
  /// The matrix to cluster has no rows or no columns.
  case emptyInput(rows: Int, columns: Int)
  /// Agglomerative clustering keeps an n × n distance matrix, so it has a size limit.
  case tooManyPoints(Int, limit: Int)

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .invalidClusterCount(let k, let points):
      "cannot make \(k) clusters of \(points) points: k must be between 1 and \(points)"
    case .invalidRange(let range, let points):
      "no number of clusters in \(range.lowerBound)...\(range.upperBound) can be scored on "
        + "\(points) points: an automatic choice needs k between 2 and \(max(2, points - 1))"
    case .emptyInput(let rows, let columns):
      "cannot cluster a \(rows) × \(columns) matrix: it needs at least one row and one column"
    case .tooManyPoints(let count, let limit):
      "agglomerative clustering is limited to \(limit) points (it keeps an n × n distance "
        + "matrix); \(count) were given: use spherical k-means instead"
    }
  }
}
