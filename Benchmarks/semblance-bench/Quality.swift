import Foundation

/// Label agreement and clustering agreement against the corpus's `label` metadata.
enum Quality {
  /// The mean fraction of each query's neighbours that share its label (P@k label agreement).
  ///
  /// A query with fewer than k neighbours is scored over the neighbours it has; a query with
  /// none is left out of the mean.
  /// - Parameters:
  ///   - labels: one label number per paper.
  ///   - queries: the papers asked about.
  ///   - neighbours: for each query, the positions returned, best first.
  ///   - k: how many neighbours count.
  static func precisionAtK(
    labels: [Int32], queries: [Int], neighbours: [[Int]], k: Int
  ) -> Double {
    var total = 0.0
    var counted = 0
    for (query, list) in zip(queries, neighbours) {
      let top = list.prefix(k)
      guard !top.isEmpty else { continue }
      let agreeing = top.reduce(0) { $0 + (labels[$1] == labels[query] ? 1 : 0) }
      total += Double(agreeing) / Double(top.count)
      counted += 1
    }
    return counted == 0 ? 0 : total / Double(counted)
  }

  /// Normalized mutual information between two labelings, with the arithmetic-mean
  /// normalisation (scikit-learn's `normalized_mutual_info_score` default).
  static func normalizedMutualInformation(_ a: [Int32], _ b: [Int32]) -> Double {
    precondition(a.count == b.count && !a.isEmpty)
    let n = Double(a.count)
    var joint: [Int64: Int] = [:]
    var countA: [Int32: Int] = [:]
    var countB: [Int32: Int] = [:]
    for (x, y) in zip(a, b) {
      joint[Int64(x) << 32 | Int64(UInt32(bitPattern: y)), default: 0] += 1
      countA[x, default: 0] += 1
      countB[y, default: 0] += 1
    }
    func entropy(_ counts: [Int32: Int]) -> Double {
      counts.values.reduce(0) { sum, c in
        let p = Double(c) / n
        return sum - p * log(p)
      }
    }
    var mutual = 0.0
    for (key, c) in joint {
      let x = Int32(truncatingIfNeeded: key >> 32), y = Int32(truncatingIfNeeded: key)
      let pxy = Double(c) / n
      mutual += pxy * log(pxy * n * n / (Double(countA[x]!) * Double(countB[y]!)))
    }
    let ha = entropy(countA), hb = entropy(countB)
    if ha == 0 && hb == 0 { return 1 }
    let denominator = (ha + hb) / 2
    return denominator > 0 ? max(0, mutual) / denominator : 0
  }

  /// `count` distinct positions out of `0..<total`, spread evenly (deterministic, no seed).
  static func evenSample(_ count: Int, of total: Int) -> [Int] {
    guard count < total else { return Array(0..<total) }
    return (0..<count).map { $0 * total / count }
  }
}
