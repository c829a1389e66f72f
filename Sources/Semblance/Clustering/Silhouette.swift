/// The mean silhouette coefficient of a clustering, with cosine distance (Rousseeuw 1987).
///
/// For a point i with mean distance `a` to the other members of its cluster and mean
/// distance `b` to the members of the nearest other cluster, `s(i) = (b − a) / max(a, b)`;
/// a point alone in its cluster has `s(i) = 0`. The score is the mean of `s(i)`, from −1 to
/// 1, higher for tighter, better separated clusters. Distances are `1 − cos` of the rows
/// (a zero row has cosine 0 with everything), as scikit-learn's
/// `silhouette_score(X, labels, metric="cosine")` computes them.
///
/// ```swift
/// let model = try SphericalKMeans.fit(embeddings, configuration: .init(clusters: 8))
/// let score = silhouetteScore(embeddings, assignments: model.assignments)
/// ```
///
/// - Parameters:
///   - points: one point per row.
///   - assignments: the cluster of each row; any non-negative integers.
///   - sampleSize: score a uniform sample of this many points, measured against the same
///     sample (as scikit-learn's `sample_size`). By default, every point up to 10,000
///     points and a sample of 10,000 above that.
///   - seed: the seed of the sample.
/// - Returns: the mean silhouette, or 0 when the points (of the sample) fall into fewer than
///   2 clusters or every point is alone in its cluster, where the score is undefined.
/// - Precondition: `assignments.count == points.rows`, every assignment is non-negative,
///   and `sampleSize`, when given, is positive: anything else is a programmer error.
/// - Complexity: O(m² · d) multiply-adds in SGEMM blocks for m scored points, with memory
///   for one block of distances and never m × m.
public func silhouetteScore(
  _ points: DenseMatrix, assignments: [Int], sampleSize: Int? = nil, seed: UInt64 = 0
) -> Float {
  precondition(assignments.count == points.rows, "one assignment per row is required")
  precondition(assignments.allSatisfy { $0 >= 0 }, "assignments must be non-negative")
  precondition(sampleSize.map { $0 > 0 } ?? true, "sampleSize must be positive")
  let n = points.rows
  let m = min(n, sampleSize ?? Silhouette.defaultSampleSize)
  var generator = SeededGenerator(seed: seed)
  let sample = m < n ? KMeansPlusPlus.uniformSample(m, of: n, using: &generator) : Array(0..<n)
  return Silhouette.score(points, assignments: assignments, sample: sample)
}

/// The blocked computation behind `silhouetteScore`.
enum Silhouette {
  /// Points scored by default; above this, a sample of this size.
  static let defaultSampleSize = 10_000
  /// The most distances held at once (4 MB of Float).
  static let scoreBudget = 1 << 20

  /// The mean silhouette of the rows `sample` of `points`, measured within the sample.
  static func score(_ points: DenseMatrix, assignments: [Int], sample: [Int]) -> Float {
    let m = sample.count, d = points.columns
    // Dense cluster numbers in order of first appearance, and the sample sorted by cluster,
    // so that each cluster's distances form one contiguous segment of a score row.
    var dense: [Int: Int] = [:]
    let labels = sample.map { row in
      let label = assignments[row]
      if let known = dense[label] { return known }
      dense[label] = dense.count
      return dense.count - 1
    }
    let clusters = dense.count
    guard clusters >= 2 && clusters < m, d > 0 else { return 0 }
    let order = (0..<m).sorted { labels[$0] != labels[$1] ? labels[$0] < labels[$1] : $0 < $1 }
    var offsets = [Int](repeating: 0, count: clusters + 1)
    for label in labels { offsets[label + 1] += 1 }
    for c in 0..<clusters { offsets[c + 1] += offsets[c] }
    let sortedLabels = order.map { labels[$0] }
    let rows = DenseMatrix(
      rows: m, columns: d,
      storage: Storage(KMeansPlusPlus.gatherRows(points, order.map { sample[$0] })))
      .normalizedRows()

    let block = max(1, min(m, scoreBudget / m))
    var similarities = [Float](repeating: 0, count: block * m)
    var coefficients = [Double](repeating: 0, count: m)
    similarities.withUnsafeMutableBufferPointer { similarities in
      coefficients.withUnsafeMutableBufferPointer { coefficients in
        let shared = UnsafeSendable((UnsafeBufferPointer(similarities), coefficients))
        var start = 0
        while start < m {
          let count = min(block, m - start)
          BLAS.sgemm(
            .none, .transposed, m: count, n: m, k: d,
            a: rows.baseAddress + start * d, lda: d, b: rows.baseAddress, ldb: d,
            c: similarities.baseAddress!, ldc: m)
          let tasks = count < 16 ? 1 : processorCount
          let first = start
          parallelForEach(chunks: tasks) { task in
            let (similarities, coefficients) = shared.value
            for local in chunkRange(task, of: tasks, count: count) {
              let i = first + local
              let row = similarities.baseAddress! + local * m
              let own = sortedLabels[i]
              let ownCount = offsets[own + 1] - offsets[own]
              guard ownCount > 1 else {
                coefficients[i] = 0
                continue
              }
              var a = 0.0
              var b = Double.infinity
              for c in 0..<clusters {
                var sum = 0.0
                for j in offsets[c]..<offsets[c + 1] { sum += Double(1 - row[j]) }
                if c == own {
                  a = (sum - Double(1 - row[i])) / Double(ownCount - 1)
                } else {
                  b = min(b, sum / Double(offsets[c + 1] - offsets[c]))
                }
              }
              a = max(0, a)
              b = max(0, b)
              let scale = max(a, b)
              coefficients[i] = scale > 0 ? (b - a) / scale : 0
            }
          }
          start += count
        }
      }
    }
    return Float(coefficients.reduce(0, +) / Double(m))
  }
}
