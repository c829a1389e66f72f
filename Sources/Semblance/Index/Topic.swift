/// What one LSA component is about: the terms that load on it most strongly, both ways.
///
/// ```swift
/// for topic in index.topics(count: 3, terms: 5) {
///   print(topic.component, topic.positive.map(\.term), topic.negative.map(\.term))
/// }
/// ```
public struct Topic: Sendable, Hashable, Codable {
  /// A term and its loading (entry of V) on the component.
  public struct Term: Sendable, Hashable, Codable {
    /// The vocabulary term.
    public var term: String
    /// The loading: positive on the ``Topic/positive`` side, negative on the other.
    public var weight: Float

    /// Creates a term loading.
    public init(term: String, weight: Float) {
      self.term = term
      self.weight = weight
    }
  }

  /// The component (dimension), from 0, in order of decreasing singular value.
  public var component: Int
  /// The component's singular value.
  public var singularValue: Float
  /// The fraction of the TF-IDF matrix's variance the component explains.
  public var explainedVarianceRatio: Float
  /// The terms with the largest positive loadings, largest first.
  public var positive: [Term]
  /// The terms with the most negative loadings, most negative first.
  public var negative: [Term]

  /// Creates a topic.
  public init(
    component: Int, singularValue: Float, explainedVarianceRatio: Float, positive: [Term],
    negative: [Term]
  ) {
    self.component = component
    self.singularValue = singularValue
    self.explainedVarianceRatio = explainedVarianceRatio
    self.positive = positive
    self.negative = negative
  }
}
