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
///
/// Eight bytes: the position is held in 32 bits, as an index holds fewer than 2³¹ papers, so
/// that the candidate lists of an all-pairs search (a hundred per paper for the hybrid
/// ranking, 2 GB at 2.5 million papers) take half the memory a 64-bit position would.
public struct Neighbor: Sendable, Hashable, Codable {
  private var storedPosition: Int32
  /// The similarity score. Higher is closer.
  public var score: Float

  /// The row (paper position), from 0 and below 2³¹.
  public var position: Int {
    get { Int(storedPosition) }
    set { storedPosition = Int32(newValue) }  // traps at 2³¹ and above
  }

  /// Creates a neighbor; `position` must be below 2³¹.
  public init(position: Int, score: Float) {
    storedPosition = Int32(position)  // traps at 2³¹ and above
    self.score = score
  }

  private enum CodingKeys: String, CodingKey {
    case storedPosition = "position"
    case score
  }
}
