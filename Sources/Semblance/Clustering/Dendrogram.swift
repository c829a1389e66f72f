/// The merge history of an agglomerative clustering, laid out like SciPy's linkage matrix.
///
/// Leaves are the points `0..<leafCount`. Merge `i` joins clusters `left` and `right`
/// (`left < right`, each a leaf or an earlier merge) into the new cluster `leafCount + i`,
/// at `distance`, with `size` leaves. Merges are sorted by distance.
///
/// ```swift
/// let tree = try AgglomerativeClustering.averageLinkage(embeddings)
/// tree.merges[0]                              // the closest pair of points
/// let eight = try tree.assignments(clusters: 8)   // cut into 8 flat clusters
/// ```
public struct Dendrogram: Sendable, Hashable {
  /// One row of the linkage matrix.
  public struct Merge: Sendable, Hashable {
    /// The smaller id of the two merged clusters.
    public let left: Int
    /// The larger id of the two merged clusters.
    public let right: Int
    /// The linkage distance between them when merged.
    public let distance: Float
    /// The number of leaves in the merged cluster.
    public let size: Int

    /// Creates a merge row.
    public init(left: Int, right: Int, distance: Float, size: Int) {
      self.left = left
      self.right = right
      self.distance = distance
      self.size = size
    }
  }

  /// The number of leaves (points).
  public let leafCount: Int
  /// The `leafCount − 1` merges, by increasing distance.
  public let merges: [Merge]

  /// Creates a dendrogram from merges in SciPy's layout.
  public init(leafCount: Int, merges: [Merge]) {
    self.leafCount = leafCount
    self.merges = merges
  }

  /// Flat clusters: the tree cut where it has exactly `k` clusters, that is, with all but
  /// the last `k − 1` merges made.
  ///
  /// ```swift
  /// let labels = try tree.assignments(clusters: 3)   // [0, 0, 1, 2, 1, …]
  /// ```
  ///
  /// - Returns: the cluster of every leaf, numbered `0..<k` in the order of each cluster's
  ///   first leaf.
  /// - Throws: `ClusteringError.invalidClusterCount` when k is not in `1...leafCount`.
  public func assignments(clusters k: Int) throws -> [Int] {
    guard k >= 1 && k <= leafCount else {
      throw ClusteringError.invalidClusterCount(k, points: leafCount)
    }
    return flatten(mergeCount: leafCount - k)
  }

  /// Flat clusters: every merge at a distance of at most `threshold` is made.
  ///
  /// - Returns: the cluster of every leaf, numbered in the order of each cluster's first leaf.
  public func assignments(maximumDistance threshold: Float) -> [Int] {
    var count = 0
    while count < merges.count && merges[count].distance <= threshold { count += 1 }
    return flatten(mergeCount: count)
  }

  /// The clusters after the first `count` merges.
  func flatten(mergeCount count: Int) -> [Int] {
    var forest = MergeForest(leafCount: leafCount, merges: count)
    for (i, merge) in merges.prefix(count).enumerated() {
      let left = forest.root(of: merge.left), right = forest.root(of: merge.right)
      forest.join(left, right, under: leafCount + i)
    }
    var numbers: [Int: Int] = [:]
    return (0..<leafCount).map { leaf in
      let root = forest.root(of: leaf)
      if let number = numbers[root] { return number }
      numbers[root] = numbers.count
      return numbers.count - 1
    }
  }
}
