extension PaperIndex {
  /// A copy of the index with more papers folded in, without refitting the model.
  ///
  /// ```swift
  /// let index = try PaperIndex(contentsOf: url)
  /// let grown = try index.adding(todaysPapers)
  /// let related = try grown.related(to: todaysPapers[0].id, count: 10)
  /// try grown.write(to: url)
  /// ```
  ///
  /// Each new paper is analysed with the index's options and weighted with the stored
  /// vocabulary and idf (terms outside the vocabulary are ignored), then projected onto the
  /// LSA components and l2-normalised: `normalize(x_tfidf · V)`, the fold-in of
  /// Deerwester et al. (1990). The vocabulary, idf, components and singular values stay as
  /// they were, so the new papers' embeddings are directly comparable with the old ones; the
  /// new papers' own words do not shape the model until it is rebuilt.
  ///
  /// Folding in works well while the new papers resemble the fitted ones. Rebuild the index
  /// when a large share of the corpus has been folded in (``foldedInCount``), or when the
  /// field's vocabulary has moved on.
  ///
  /// An IVF index, when there is one, files the new papers under their nearest lists
  /// (see ``IVFNeighborIndex/adding(_:)``).
  ///
  /// - Parameter papers: the papers to add, in order; they follow the existing papers.
  /// - Returns: the grown index (the same index when `papers` is empty).
  /// - Throws: `IndexUpdateError.idAlreadyIndexed` when a paper's id is already in the index,
  ///   `.duplicateIDInBatch` when two new papers share an id. Nothing is added then.
  /// - Complexity: O(text of the new papers × dimensions), plus copying the existing arrays.
  public func adding(_ papers: [Paper]) throws -> PaperIndex {
    guard !papers.isEmpty else { return self }
    let existing = lookup.map(building: ids)
    var batch: [String: Int] = [:]
    batch.reserveCapacity(papers.count)
    for (offset, paper) in papers.enumerated() {
      if let position = existing[paper.id] {
        throw IndexUpdateError.idAlreadyIndexed(id: paper.id, position: position)
      }
      if let first = batch.updateValue(offset, forKey: paper.id) {
        throw IndexUpdateError.duplicateIDInBatch(id: paper.id, first: first, second: offset)
      }
    }
    let rows = vectorizer.transform(papers)
    let embedded = svd.transform(rows).normalizedRows()
    return PaperIndex(
      configuration: configuration, vectorizer: vectorizer, svd: svd,
      embeddings: embeddings.appendingRows(of: embedded), tfidf: tfidf.appendingRows(of: rows),
      ids: ids.appending(contentsOf: papers.lazy.map(\.id)),
      titles: titles.appending(contentsOf: papers.lazy.map(\.title)),
      foldedInCount: foldedInCount + papers.count,
      approximateIndex: approximateIndex?.adding(embedded))
  }
}
