extension PaperIndex {
  /// The top positive and negative terms of each LSA component, with the component's
  /// singular value and explained variance: a quick look at what the dimensions capture.
  ///
  /// ```swift
  /// for topic in index.topics(count: 5, terms: 8) {
  ///   print("\(topic.component): + \(topic.positive.map(\.term)) − \(topic.negative.map(\.term))")
  /// }
  /// ```
  ///
  /// - Parameters:
  ///   - count: how many components, from the first (default: all); clamped to
  ///     ``dimensions``.
  ///   - terms: how many terms per side (default 10).
  /// - Precondition: `count` and `terms` are not negative (a programmer error otherwise).
  /// - SeeAlso: ``TruncatedSVD/topics(count:terms:)`` for the same by vocabulary column.
  public func topics(count: Int? = nil, terms: Int = 10) -> [Topic] {
    svd.topics(count: count, terms: terms).map { component in
      func named(_ loadings: [TruncatedSVD.Loading]) -> [Topic.Term] {
        loadings.map { Topic.Term(term: vectorizer.term(at: $0.column), weight: $0.weight) }
      }
      return Topic(
        component: component.component,
        singularValue: svd.singularValues[component.component],
        explainedVarianceRatio: svd.explainedVarianceRatio[component.component],
        positive: named(component.positive), negative: named(component.negative))
    }
  }
}
