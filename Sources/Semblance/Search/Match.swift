/// One result of a related-papers or search query.
///
/// ```swift
/// for match in try index.related(to: "2401.01234", count: 5) {
///   print(match.id, match.title, match.score)
/// }
/// ```
public struct Match: Sendable, Hashable, Codable {
  /// The paper's id.
  public var id: String
  /// The paper's title.
  public var title: String
  /// The ranking score (hybrid with relevance feedback by default; see
  /// `IndexConfiguration.alpha` and `.feedback`). Higher is closer; a copy of the query scores 1.
  public var score: Float
  /// The paper's position (row) in the index, from 0.
  public var position: Int

  /// Creates a match.
  public init(id: String, title: String, score: Float, position: Int) {
    self.id = id
    self.title = title
    self.score = score
    self.position = position
  }
}

/// A row of an index and its similarity score.
public struct Neighbor: Sendable, Hashable, Codable {
  /// The row (paper position), from 0.
  public var position: Int
  /// The similarity score. Higher is closer.
  public var score: Float

  /// Creates a neighbor.
  public init(position: Int, score: Float) {
    self.position = position
    self.score = score
  }
}
