extension IVFNeighborIndex {
  /// A copy with `vectors` appended as rows `count ..< count + vectors.rows`, each filed
  /// under its most similar centroid. The centroids and `nprobe` stay as they are.
  ///
  /// ```swift
  /// let grown = ivf.adding(newEmbeddings)
  /// grown.search(newEmbeddings.row(0), count: 10, excluding: ivf.count)
  /// ```
  ///
  /// The quantizer is not retrained: while new vectors resemble the old ones the lists stay
  /// balanced and the calibrated `nprobe` keeps its recall; rebuild the index when a large
  /// share of it was added this way.
  ///
  /// - Precondition: `vectors.columns == dimensions`, and at most `Int32.max` rows in all.
  /// - Complexity: O(added · lists · d) in SGEMM to file the new vectors, plus copying the
  ///   stored ones (O(count · d)).
  public func adding(_ vectors: DenseMatrix) -> IVFNeighborIndex {
    precondition(vectors.columns == dimensions, "vectors have \(vectors.columns) dimensions")
    guard vectors.rows > 0 else { return self }
    let old = count, added = vectors.rows, n = old + added, d = dimensions, lists = listCount
    precondition(n <= Int(Int32.max), "an IVF index holds at most \(Int32.max) vectors")
    var labels = [Int](repeating: 0, count: added)
    var scores = [Float](repeating: 0, count: added)
    NearestCentroid.assign(
      vectors, centroids: centroids.elements, count: lists, labels: &labels, scores: &scores)

    var offsets = [Int64](repeating: 0, count: lists + 1)
    for label in labels { offsets[label + 1] += 1 }
    for list in 0..<lists { offsets[list + 1] += offsets[list] + Int64(listSize(list)) }
    // Old members first, at their new place; then the new rows, in increasing order.
    var next = (0..<lists).map { Int(offsets[$0]) + listSize($0) }
    let newIDs = Storage<Int32>(count: n) { ids in
      for list in 0..<lists {
        let from = listRange(list), to = Int(offsets[list])
        for position in from { ids[to + position - from.lowerBound] = rowIDs[position] }
      }
      var cursor = next
      for (row, label) in labels.enumerated() {
        ids[cursor[label]] = Int32(old + row)
        cursor[label] += 1
      }
    }
    let newVectors = DenseMatrix(rows: n, columns: d) { output in
      for list in 0..<lists {
        let from = listRange(list)
        (output.baseAddress! + Int(offsets[list]) * d).update(
          from: listVectors.baseAddress + from.lowerBound * d, count: from.count * d)
      }
      for (row, label) in labels.enumerated() {
        (output.baseAddress! + next[label] * d).update(
          from: vectors.baseAddress + row * d, count: d)
        next[label] += 1
      }
    }
    return IVFNeighborIndex(
      uncheckedCentroids: centroids, listOffsets: Storage(offsets), rowIDs: newIDs,
      listVectors: newVectors, nprobe: nprobe, calibratedRecall: calibratedRecall)
  }
}
