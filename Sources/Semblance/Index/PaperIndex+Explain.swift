extension PaperIndex {
  /// Why a result is related to a paper: the terms they share, each with its contribution
  /// `x_t·y_t` to their TF-IDF cosine, largest first.
  ///
  /// ```swift
  /// let related = try index.related(to: "2401.01234", count: 10)
  /// for term in try index.explain(related[0], for: "2401.01234", count: 5) {
  ///   print(term.term, term.contribution)
  /// }
  /// ```
  ///
  /// All contributions together sum to the TF-IDF cosine of the pair, the TF-IDF part of the
  /// hybrid ranking score. The LSA part has no per-term breakdown.
  ///
  /// - Parameters:
  ///   - match: a result of ``related(to:count:exact:)`` or any other query on this index.
  ///   - key: the paper the match is related to: an id or a unique title fragment.
  ///   - count: keep only this many terms (default: all shared terms).
  /// - Returns: the shared terms, by contribution descending (ties by vocabulary order).
  /// - Throws: `QueryError.unknownPaper` or `.ambiguousTitle` for `key`, and
  ///   `QueryError.unknownPaper` when `match` is not a paper of this index.
  public func explain(_ match: Match, for key: String, count: Int? = nil) throws
    -> [TermContribution]
  {
    try explain(position: position(of: match), forPosition: position(matching: key), count: count)
  }

  /// Why a result is related to the paper at `position`; see ``explain(_:for:count:)``.
  public func explain(_ match: Match, forPosition position: Int, count: Int? = nil) throws
    -> [TermContribution]
  {
    try explain(position: self.position(of: match), forPosition: position, count: count)
  }

  /// Why a search result matches free text: the terms of the text's TF-IDF vector (analysed
  /// like an abstract, as ``search(_:count:exact:)`` does) that the paper shares, with their
  /// contributions to the cosine, largest first.
  ///
  /// ```swift
  /// let query = "diffusion models for time series"
  /// let hits = try index.search(query, count: 10)
  /// let why = try index.explain(hits[0], forText: query)
  /// ```
  /// - Throws: `QueryError.unknownPaper` when `match` is not a paper of this index.
  public func explain(_ match: Match, forText text: String, count: Int? = nil) throws
    -> [TermContribution]
  {
    let position = try self.position(of: match)
    let (indices, values) = vectorizer.vector(forText: text)
    return indices.withUnsafeBufferPointer { indices in
      values.withUnsafeBufferPointer { values in
        contributions(indices, values, position, count: count)
      }
    }
  }

  /// The terms that papers `position` and `query` share, with their contributions to the
  /// pair's TF-IDF cosine, largest first; see ``explain(_:for:count:)``.
  ///
  /// - Throws: `QueryError.unknownPaper` when a position is out of range.
  public func explain(position: Int, forPosition query: Int, count: Int? = nil) throws
    -> [TermContribution]
  {
    for candidate in [position, query] where candidate < 0 || candidate >= self.count {
      throw QueryError.unknownPaper("#\(candidate)")
    }
    let (indices, values) = tfidf.rowBuffers(query)
    return contributions(indices, values, position, count: count)
  }

  /// The row of a match: its own position when that still holds its id, else its id's.
  func position(of match: Match) throws -> Int {
    if match.position >= 0 && match.position < count && ids[match.position] == match.id {
      return match.position
    }
    guard let position = position(ofID: match.id) else {
      throw QueryError.unknownPaper(match.id)
    }
    return position
  }

  /// The products `x_t·y_t` of a sparse vector and row `row`, over their shared columns.
  func contributions(
    _ indices: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>, _ row: Int,
    count: Int?
  ) -> [TermContribution] {
    let (rowIndices, rowValues) = tfidf.rowBuffers(row)
    var shared: [(column: Int32, product: Float)] = []
    var i = 0, j = 0
    while i < indices.count && j < rowIndices.count {
      let a = indices[i], b = rowIndices[j]
      if a == b {
        let product = values[i] * rowValues[j]
        if product != 0 { shared.append((a, product)) }
        i += 1
        j += 1
      } else if a < b {
        i += 1
      } else {
        j += 1
      }
    }
    shared.sort { $0.product != $1.product ? $0.product > $1.product : $0.column < $1.column }
    return shared.prefix(max(0, count ?? shared.count)).map {
      TermContribution(
        term: vectorizer.term(at: Int($0.column)), column: Int($0.column),
        contribution: $0.product)
    }
  }
}
