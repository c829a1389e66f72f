/// Papers grouped into labelled clusters: the result of `PaperIndex.clusters(_:options:progress:)`.
///
/// ```swift
/// let clustering = try index.clusters(.count(8))
/// for cluster in clustering.clusters {
///   print(cluster.id, cluster.size, cluster.label.joined(separator: ", "))
/// }
/// clustering.assignments[0]    // the cluster of the first paper
/// ```
public struct Clustering: Sendable, Hashable {
  /// The number of clusters.
  public let k: Int
  /// The mean silhouette (cosine distance) of the clustering, from −1 to 1; measured on a
  /// sample of 10,000 papers above that many, and 0 when k = 1.
  public let silhouette: Float
  /// The clusters, numbered `0..<k` by decreasing size (equal sizes keep the order of
  /// their first paper).
  public let clusters: [Cluster]
  /// The cluster id of every paper, by index position.
  public let assignments: [Int]

  /// Creates a clustering.
  public init(k: Int, silhouette: Float, clusters: [Cluster], assignments: [Int]) {
    self.k = k
    self.silhouette = silhouette
    self.clusters = clusters
    self.assignments = assignments
  }
}

/// One labelled cluster of papers.
public struct Cluster: Sendable, Hashable, Identifiable {
  /// The cluster number, `0..<k`.
  public let id: Int
  /// The terms that characterise the cluster, strongest first (see
  /// `PaperIndex.clusters(_:options:progress:)`).
  public let label: [String]
  /// The ids of the member papers, in index order.
  public let members: [String]
  /// The index positions of the member papers, ascending.
  public let positions: [Int]

  /// The number of papers.
  public var size: Int { positions.count }

  /// Creates a cluster.
  public init(id: Int, label: [String], members: [String], positions: [Int]) {
    self.id = id
    self.label = label
    self.members = members
    self.positions = positions
  }
}
