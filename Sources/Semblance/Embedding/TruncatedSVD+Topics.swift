extension TruncatedSVD {
  /// A component's strongest term loadings, both ways.
  ///
  /// Terms are vocabulary columns; ``PaperIndex/topics(count:terms:)`` gives their strings.
  public struct ComponentTerms: Sendable, Hashable, Codable {
    /// The component (dimension), from 0, in order of decreasing singular value.
    public var component: Int
    /// The columns with the largest positive loadings, largest first.
    public var positive: [Loading]
    /// The columns with the most negative loadings, most negative first.
    public var negative: [Loading]

    /// Creates a component's loadings.
    public init(component: Int, positive: [Loading], negative: [Loading]) {
      self.component = component
      self.positive = positive
      self.negative = negative
    }
  }

  /// One entry of V: how strongly a term (column) loads on a component.
  public struct Loading: Sendable, Hashable, Codable {
    /// The term's column.
    public var column: Int
    /// The entry of V (each component has unit length, so weights are comparable).
    public var weight: Float

    /// Creates a loading.
    public init(column: Int, weight: Float) {
      self.column = column
      self.weight = weight
    }
  }

  /// The terms that load most strongly on each component, positively and negatively: what
  /// each LSA dimension is "about".
  ///
  /// ```swift
  /// for topic in svd.topics(count: 5, terms: 8) {
  ///   print(topic.component, topic.positive.map(\.column), topic.negative.map(\.column))
  /// }
  /// ```
  ///
  /// Component signs are fixed so that each component's largest-magnitude loading is
  /// positive (as scikit-learn's `svd_flip` does), so the positive side is the dominant one.
  ///
  /// - Parameters:
  ///   - count: how many components, from the first (default: all). Clamped to
  ///     ``dimensions``.
  ///   - terms: how many terms per side (default 10). Only strictly positive (negative)
  ///     loadings are listed, so a side may have fewer.
  /// - Returns: one entry per component; ties are broken by lower column.
  /// - Precondition: `count` and `terms` are not negative (a programmer error otherwise).
  /// - Complexity: O(count × terms in the vocabulary × log terms).
  public func topics(count: Int? = nil, terms: Int = 10) -> [ComponentTerms] {
    precondition((count ?? 0) >= 0 && terms >= 0, "topics(count:terms:) needs non-negative counts")
    let k = min(count ?? dimensions, dimensions)
    let rows = components.rows, d = dimensions
    return (0..<k).map { component in
      var positive = TopK(capacity: terms)
      var negative = TopK(capacity: terms)
      components.withUnsafeBufferPointer { v in
        for row in 0..<rows {
          let weight = v[row * d + component]
          if weight > 0 {
            positive.insert(weight, Int32(row))
          } else if weight < 0 {
            negative.insert(-weight, Int32(row))
          }
        }
      }
      return ComponentTerms(
        component: component,
        positive: positive.sorted().map { Loading(column: $0.position, weight: $0.score) },
        negative: negative.sorted().map { Loading(column: $0.position, weight: -$0.score) })
    }
  }
}
