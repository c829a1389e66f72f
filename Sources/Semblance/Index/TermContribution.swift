/// One term's share of the TF-IDF cosine between two papers (or a query and a paper).
///
/// ```swift
/// let why = try index.explain(related[0], for: "2401.01234")
/// why.first?.term           // "time series"
/// why.first?.contribution   // 0.12
/// ```
///
/// With l2-normalised rows `x` and `y`, the cosine is `Σ x_t·y_t` over the terms both
/// contain, and a term's contribution is its summand `x_t·y_t`.
public struct TermContribution: Sendable, Hashable, Codable {
  /// The vocabulary term (a word, or two words joined by one space).
  public var term: String
  /// The term's column in the vocabulary.
  public var column: Int
  /// `x_t·y_t`, the term's summand in the TF-IDF cosine.
  public var contribution: Float

  /// Creates a contribution.
  public init(term: String, column: Int, contribution: Float) {
    self.term = term
    self.column = column
    self.contribution = contribution
  }
}
