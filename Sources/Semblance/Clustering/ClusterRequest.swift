/// How many clusters `PaperIndex.clusters(_:options:progress:)` should make.
///
/// ```swift
/// let eight = try index.clusters(.count(8))
/// let best = try index.clusters(.automatic(range: 2...30))   // k with the best silhouette
/// ```
public enum ClusterRequest: Sendable, Hashable {
  /// Exactly this many clusters, from 1 to the number of papers.
  case count(Int)
  /// The k in `range` whose clustering has the highest silhouette (the smaller k on a tie).
  /// The upper bound is lowered to papers − 1 when it is above; the lower bound must be at
  /// least 2.
  case automatic(range: ClosedRange<Int>)
}
