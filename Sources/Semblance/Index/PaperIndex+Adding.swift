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
    // Projecting the papers reads much of V, and each copy below reads an array whole: when
    // they live in an index file, their pages are released after each step, so that the
    // source file never becomes resident beside the grown arrays.
    func released<T>(_ value: T) -> T {
      releaseMappedPages()
      return value
    }
    let rows = vectorizer.transform(papers)
    let embedded = released(svd.transform(rows).normalizedRows())
    return PaperIndex(
      configuration: configuration, vectorizer: vectorizer, svd: svd,
      embeddings: released(embeddings.appendingRows(of: embedded)),
      tfidf: released(tfidf.appendingRows(of: rows)),
      ids: released(ids.appending(contentsOf: papers.lazy.map(\.id))),
      titles: released(titles.appending(contentsOf: papers.lazy.map(\.title))),
      foldedInCount: foldedInCount + papers.count,
      approximateIndex: released(approximateIndex?.adding(embedded)))
  }
}

extension PaperIndex {
  /// Releases this process's pages of the index file the arrays are mapped from, if any
  /// (``MappedFile/release(_:)``): the arrays stay valid, and their pages are mapped again
  /// when read. Every mapped array of an index comes from the file it was loaded from, V
  /// among them (growing an index keeps its model), so V's storage names that file.
  func releaseMappedPages() {
    guard let file = svd.components.storage.mappedFile else { return }
    file.release(0..<file.bytes.count)
  }
}
