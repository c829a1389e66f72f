extension PaperIndex {
  /// Papers related to one paper of the index, best first; the paper itself is never included.
  ///
  /// ```swift
  /// let related = try index.related(to: "2401.01234", count: 10)
  /// let byTitle = try index.related(to: "sansformers", count: 5)   // a unique title fragment
  /// ```
  ///
  /// - Parameters:
  ///   - key: a paper id, or a case-insensitive fragment of exactly one paper's title.
  ///   - count: how many results, from 1 to the number of papers.
  ///   - exact: score every paper even when the index has an IVF (default false).
  /// - Returns: at most `count` matches. A paper with no terms matches nothing.
  /// - Throws: `QueryError.unknownPaper`, `.ambiguousTitle` (listing the candidates) or
  ///   `.invalidCount`.
  public func related(to key: String, count: Int = 10, exact: Bool = false) throws -> [Match] {
    try related(toPosition: position(matching: key), count: count, exact: exact)
  }

  /// Papers related to the paper at `position`.
  public func related(toPosition position: Int, count: Int = 10, exact: Bool = false) throws
    -> [Match]
  {
    try validate(count: count)
    guard position >= 0 && position < self.count else {
      throw QueryError.unknownPaper("#\(position)")
    }
    if isEmptyRow(position) { return [] }
    let query = embeddings.row(position)
    return rank(
      lsaQuery: query, count: count, excluding: position, exact: exact,
      tfidfScore: { tfidf.rowDot(position, $0) })
  }

  /// Papers about free text, best first: the text is folded into the model
  /// (`normalize(x_tfidf · V)`) and ranked like a paper.
  ///
  /// - Parameters:
  ///   - text: free text, analysed like an abstract; words outside the vocabulary are ignored.
  ///   - count: how many results, from 1 to the number of papers.
  ///   - exact: score every paper even when the index has an IVF (default false).
  /// - Returns: at most `count` matches; none when no word of the text is in the vocabulary.
  /// - Throws: `QueryError.invalidCount`.
  public func search(_ text: String, count: Int = 10, exact: Bool = false) throws -> [Match] {
    try validate(count: count)
    let (indices, values) = vectorizer.vector(forText: text)
    guard !indices.isEmpty else { return [] }
    let query = foldIn(indices: indices, values: values)
    return indices.withUnsafeBufferPointer { indices in
      values.withUnsafeBufferPointer { values in
        rank(
          lsaQuery: query, count: count, excluding: nil, exact: exact,
          tfidfScore: { SparseMatrix.dot(indices, values, with: tfidf, row: $0) })
      }
    }
  }

  /// The position of the paper whose id is `key`, or whose title alone contains `key`
  /// (case-insensitively).
  public func position(matching key: String) throws -> Int {
    if let position = position(ofID: key) { return position }
    let fragment = key.lowercased()
    guard !fragment.isEmpty else { throw QueryError.unknownPaper(key) }
    var candidates: [Int] = []
    for position in 0..<count where titles[position].lowercased().contains(fragment) {
      candidates.append(position)
    }
    switch candidates.count {
    case 0: throw QueryError.unknownPaper(key)
    case 1: return candidates[0]
    default:
      throw QueryError.ambiguousTitle(
        fragment: key,
        candidates: candidates.prefix(QueryError.candidateLimit).map {
          .init(id: ids[$0], title: titles[$0])
        })
    }
  }

  /// The normalised LSA embedding of a TF-IDF vector.
  func foldIn(indices: [Int32], values: [Float]) -> [Float] {
    let d = dimensions
    var query = [Float](repeating: 0, count: d)
    svd.components.withUnsafeBufferPointer { v in
      for (column, value) in zip(indices, values) {
        let row = Int(column) * d
        for j in 0..<d { query[j] += value * v[row + j] }
      }
    }
    var squares: Double = 0
    for value in query { squares += Double(value) * Double(value) }
    if squares > 0 {
      let scale = Float(1 / squares.squareRoot())
      for j in 0..<d { query[j] *= scale }
    }
    return query
  }

  private func validate(count: Int) throws {
    guard count >= 1 && count <= self.count else {
      throw QueryError.invalidCount(count, papers: self.count)
    }
  }

  /// Ranks papers for an LSA query vector: the top `max(100, 10·count)` by LSA cosine,
  /// re-ranked by `α·cos_LSA + (1−α)·cos_TFIDF`, with the configured relevance feedback
  /// (``RelevanceFeedback``). With α = 1, the LSA ranking itself.
  /// LSA candidates come from the IVF index when there is one, unless `exact`.
  func rank(
    lsaQuery: [Float], count: Int, excluding: Int?, exact: Bool, tfidfScore: (Int) -> Float
  ) -> [Match] {
    let alpha = configuration.alpha
    if alpha >= 1 {
      return lsaCandidates(lsaQuery, count: count, excluding: excluding, exact: exact)
        .map(match)
    }
    let candidates = lsaCandidates(
      lsaQuery, count: Self.candidateCount(for: count), excluding: excluding, exact: exact)
    return lsaQuery.withUnsafeBufferPointer { query in
      PaperIndex.rerank(
        candidates, lsaQuery: query.baseAddress!, count: count, alpha: alpha,
        feedback: configuration.feedback, embeddings: embeddings, tfidfScore: tfidfScore)
    }.map(match)
  }

  /// The best `count` of `candidates` (LSA candidates, with their LSA cosines as scores) by
  /// `α·cos_LSA + (1−α)·cos_TFIDF`, raised by `feedback` (``RelevanceFeedback``), best first:
  /// the re-ranking step of ``rank(lsaQuery:count:excluding:exact:tfidfScore:)``, which
  /// calibration also runs.
  static func rerank(
    _ candidates: [Neighbor], lsaQuery: UnsafePointer<Float>, count: Int, alpha: Float,
    feedback: RelevanceFeedback?, embeddings: DenseMatrix, tfidfScore: (Int) -> Float
  ) -> [Neighbor] {
    let tfidf = candidates.map { tfidfScore($0.position) }
    var scores = zip(candidates, tfidf).map { alpha * $0.score + (1 - alpha) * $1 }
    if var scorer = FeedbackScorer(feedback, dimensions: embeddings.columns) {
      candidates.withUnsafeBufferPointer { candidates in
        tfidf.withUnsafeBufferPointer { tfidf in
          scores.withUnsafeMutableBufferPointer { scores in
            scorer.raise(
              scores, lsaQuery: lsaQuery, candidates: candidates, tfidf: tfidf,
              alpha: alpha, embeddings: embeddings)
          }
        }
      }
    }
    var top = TopK(capacity: count)
    for (candidate, score) in zip(candidates, scores) {
      top.insert(score, Int32(candidate.position))
    }
    return top.sorted()
  }

  /// How many LSA candidates the hybrid ranking re-scores for `count` results (DESIGN §4).
  static func candidateCount(for count: Int) -> Int { max(100, 10 * count) }

  func match(_ neighbor: Neighbor) -> Match {
    Match(
      id: ids[neighbor.position], title: titles[neighbor.position], score: neighbor.score,
      position: neighbor.position)
  }
}
