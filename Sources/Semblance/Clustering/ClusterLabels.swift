import Foundation

/// Cluster labels from class-based TF-IDF, in the spirit of BERTopic (Grootendorst 2022).
///
/// A cluster's profile is the mean TF-IDF row of its members, `μ_c`, and the corpus profile
/// is the mean row of all papers, `μ`. The lift `μ_c(t) / μ(t)` says how much more a term
/// weighs in the cluster than in the corpus (0 when the corpus never uses it). Lift alone
/// ranks a word used once in the whole corpus as high as any word the cluster owns, so the
/// score weights the cluster's own mean by the log of the lift, as c-TF-IDF weights a class
/// term frequency by a log inverse frequency:
///
///     score_c(t) = μ_c(t) · ln(1 + μ_c(t) / μ(t))
///
/// Bigrams are preferred: when a bigram "a b" scores at least as high as the weaker of its
/// words "a" and "b", and at least half as high as the stronger, the label shows the bigram
/// in the place of the stronger of the three and drops both words. Words pruned from the
/// vocabulary as too common have no score and are left out of that comparison. A bigram
/// weaker than that is dropped (its words speak for it), as is a bigram sharing a word with
/// a stronger bigram already shown, and a term that differs from a shown one only by a
/// final "s".
enum ClusterLabels {
  /// The top terms of each of `clusterCount` clusters.
  ///
  /// - Parameters:
  ///   - tfidf: one l2-normalised row per paper.
  ///   - assignments: the cluster of each row, in `0..<clusterCount`.
  ///   - terms: the most terms per label.
  static func labels(
    tfidf: SparseMatrix, vectorizer: TfidfVectorizer, assignments: [Int], clusterCount k: Int,
    terms: Int
  ) -> [[String]] {
    let n = tfidf.rows, vocabularySize = tfidf.columns
    guard n > 0, k > 0, terms > 0, vocabularySize > 0 else {
      return [[String]](repeating: [], count: max(k, 0))
    }
    let corpusMean = columnMeans(tfidf)
    var offsets = [Int](repeating: 0, count: k + 1)
    for label in assignments { offsets[label + 1] += 1 }
    for c in 0..<k { offsets[c + 1] += offsets[c] }
    var members = [Int](repeating: 0, count: n)
    var next = offsets
    for (row, label) in assignments.enumerated() {
      members[next[label]] = row
      next[label] += 1
    }
    let tasks = min(k, processorCount)
    let chunks = parallelMap(chunks: tasks) { task -> [[String]] in
      var sums = [Double](repeating: 0, count: vocabularySize)
      var touched: [Int32] = []
      var isTouched = [Bool](repeating: false, count: vocabularySize)
      var labels: [[String]] = []
      for c in chunkRange(task, of: tasks, count: k) {
        let size = offsets[c + 1] - offsets[c]
        for row in members[offsets[c]..<offsets[c + 1]] {
          let (indices, values) = tfidf.rowBuffers(row)
          for (column, value) in zip(indices, values) {
            if !isTouched[Int(column)] {
              isTouched[Int(column)] = true
              touched.append(column)
            }
            sums[Int(column)] += Double(value)
          }
        }
        func score(_ column: Int) -> Double {
          guard isTouched[column], corpusMean[column] > 0 else { return 0 }
          let mean = sums[column] / Double(size)
          return mean * log1p(mean / corpusMean[column])
        }
        labels.append(
          label(
            candidates: touched, score: score, vectorizer: vectorizer, terms: terms))
        for column in touched {
          sums[Int(column)] = 0
          isTouched[Int(column)] = false
        }
        touched.removeAll(keepingCapacity: true)
      }
      return labels
    }
    return chunks.flatMap { $0 }
  }

  /// The label of one cluster from the scores of the terms it uses.
  static func label(
    candidates: [Int32], score: (Int) -> Double, vectorizer: TfidfVectorizer, terms: Int
  ) -> [String] {
    // The strongest few terms; ties go to the lower column (byte order).
    var top = TopK(capacity: max(4 * terms, 20))
    for column in candidates {
      let value = Float(score(Int(column)))
      if value > 0 { top.insert(value, column) }
    }
    var ranked = top.sorted().map { (column: $0.position, score: score($0.position)) }
    var claimed = Set<Int>(), dropped = Set<Int>()
    for (position, entry) in ranked.enumerated() {
      let words = vectorizer.term(at: entry.column).split(separator: " ")
      guard words.count == 2 else { continue }
      // Words pruned from the vocabulary (too common) have no score and do not count.
      let parts = words.compactMap { vectorizer.column(of: String($0)) }
      let partScores = parts.map(score)
      let weakest = partScores.min() ?? 0, strongest = partScores.max() ?? 0
      if entry.score < weakest || entry.score < 0.5 * strongest
        || parts.contains(where: claimed.contains)
      {
        dropped.insert(entry.column)
        continue
      }
      ranked[position].score = max(entry.score, strongest)
      claimed.formUnion(parts)
    }
    ranked.removeAll { claimed.contains($0.column) || dropped.contains($0.column) }
    ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.column < $1.column }
    var label: [String] = []
    for entry in ranked where label.count < terms {
      let term = vectorizer.term(at: entry.column)
      let isPluralOfShown = label.contains { term == $0 + "s" || $0 == term + "s" }
      if !isPluralOfShown { label.append(term) }
    }
    return label
  }

  /// The mean of every column over all rows, in Double.
  static func columnMeans(_ matrix: SparseMatrix) -> [Double] {
    var sums = [Double](repeating: 0, count: matrix.columns)
    for row in 0..<matrix.rows {
      let (indices, values) = matrix.rowBuffers(row)
      for (column, value) in zip(indices, values) { sums[Int(column)] += Double(value) }
    }
    let scale = 1 / Double(max(matrix.rows, 1))
    return sums.map { $0 * scale }
  }
}
