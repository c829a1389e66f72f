/// Pseudo-relevance feedback for the hybrid ranking: Rocchio's method applied to the LSA query.
///
/// The hybrid ranking scores each LSA candidate `x` of a query `q` by
/// `h(q, x) = α·cos(q, x) + (1−α)·cos_TFIDF(q, x)`. With feedback it then takes the `papers`
/// best candidates by that score (at most a tenth of the candidates, so that on a corpus of a
/// few dozen papers the centroid is not the whole corpus's), moves the LSA query towards their
/// centroid,
///
///     q′ = normalize((1 − weight) · q + weight · mean of their embeddings),
///
/// and scores each candidate by the better of the two LSA halves:
/// `max(h(q, x), α·cos(q′, x) + (1−α)·cos_TFIDF(q, x))`.
///
/// - The LSA half can now measure closeness to what the query's best results have in common,
///   rather than to one short text, whose embedding carries the noise of the few hundred words
///   it is made of.
/// - The TF-IDF half still compares the query's own terms with each candidate's, so papers that
///   share its specific terms keep their place.
/// - Feedback only raises scores, so a paper identical to the query still scores 1, and every
///   score stays a number in −1...1 that the plain hybrid score bounds from below.
/// - The candidates do not change: feedback costs one centroid and one dot product per
///   candidate.
/// - With α = 1 nothing is re-ranked and feedback does not apply: the ranking is LSA cosine
///   alone.
///
/// ```swift
/// var configuration = IndexConfiguration.default   // feedback: 10 papers, weight 1
/// configuration.feedback = nil                     // the hybrid score alone
/// configuration.feedback = RelevanceFeedback(papers: 5, weight: 0.5)
/// ```
public struct RelevanceFeedback: Sendable, Hashable, Codable {
  /// How many of the best first-pass results form the centroid (default 10), at most a tenth
  /// of the candidates (`max(100, 10·count)`, or every other paper of a smaller corpus).
  public var papers: Int
  /// The centroid's share of the new LSA query, in 0...1 (default 1: the centroid alone; 0
  /// changes nothing).
  public var weight: Float

  /// Creates feedback from the `papers` best results with the given weight.
  public init(papers: Int = 10, weight: Float = 1) {
    self.papers = papers
    self.weight = weight
  }

  /// Ten papers, weight 1: measured on five labelled corpora (Docs/Benchmarks.md,
  /// "Relevance"), where every weight from 0.8 up to 1 ranked better than the one below it.
  public static let `default` = RelevanceFeedback()

  /// Checks both values, naming the first one that is out of range.
  public func validate() throws {
    guard papers >= 1 else {
      throw ConfigurationError.invalidValue(
        option: "feedback.papers", value: "\(papers)", expected: "at least 1")
    }
    guard weight >= 0, weight <= 1 else {
      throw ConfigurationError.invalidValue(
        option: "feedback.weight", value: "\(weight)", expected: "a number between 0 and 1")
    }
  }
}

/// Re-scores one query's candidates with relevance feedback; one per task, reused across
/// queries.
///
/// Every sum runs in a fixed order: the centroid adds the chosen papers' embeddings in
/// ascending position, and each cosine is `VectorKernels.dot`. So a paper's results do not
/// depend on the order its candidates arrive in, nor on which path (`related`, `neighbors`,
/// exact or IVF candidates) produced them.
struct FeedbackScorer {
  let papers: Int
  let weight: Float
  let dimensions: Int
  private var best: TopK
  private var chosen: [Int32] = []
  private var query: [Float]

  /// A scorer for `feedback`, or nil when it would change nothing (no feedback, or weight 0).
  init?(_ feedback: RelevanceFeedback?, dimensions: Int) {
    guard let feedback, feedback.papers >= 1, feedback.weight > 0 else { return nil }
    papers = feedback.papers
    weight = feedback.weight
    self.dimensions = dimensions
    best = TopK(capacity: feedback.papers)
    chosen.reserveCapacity(feedback.papers)
    query = Array(repeating: 0, count: dimensions)
  }

  /// Raises the hybrid scores of `candidates` in place to their scores for the query moved
  /// towards the best of them, where those are higher.
  ///
  /// - Parameters:
  ///   - scores: each candidate's hybrid score, `α·cos_LSA + (1−α)·cos_TFIDF`; raised in place.
  ///   - lsaQuery: the query's unit LSA embedding (`dimensions` floats).
  ///   - candidates: the query's LSA candidates, with their LSA cosines as scores.
  ///   - tfidf: each candidate's TF-IDF cosine with the query.
  ///   - alpha: the LSA weight of the hybrid score, below 1.
  ///   - embeddings: the papers' unit LSA embeddings.
  mutating func raise(
    _ scores: UnsafeMutableBufferPointer<Float>, lsaQuery: UnsafePointer<Float>,
    candidates: UnsafeBufferPointer<Neighbor>, tfidf: UnsafeBufferPointer<Float>, alpha: Float,
    embeddings: DenseMatrix
  ) {
    let d = dimensions
    // At most a tenth of the candidates: on a small corpus, whose every paper is a candidate,
    // the centroid of 10 would be nearly the whole corpus's.
    let limit = min(papers, max(1, candidates.count / 10))
    if best.capacity != limit { best = TopK(capacity: limit) }
    best.removeAll()
    for (i, candidate) in candidates.enumerated() {
      best.insert(scores[i], Int32(candidate.position))
    }
    best.keptPositions(into: &chosen)
    guard !chosen.isEmpty else { return }
    let base = embeddings.baseAddress
    let share = weight / Float(chosen.count)
    var squares: Double = 0
    query.withUnsafeMutableBufferPointer { query in
      for j in 0..<d { query[j] = 0 }
      for position in chosen {
        VectorKernels.add(base + Int(position) * d, into: query.baseAddress!, count: d)
      }
      for j in 0..<d {
        query[j] = (1 - weight) * lsaQuery[j] + share * query[j]
        squares += Double(query[j]) * Double(query[j])
      }
      // The first-pass scores stand when the query and the centroid cancel out.
      guard squares > 0, squares.isFinite else { return }
      let scale = Float(1 / squares.squareRoot())
      for j in 0..<d { query[j] *= scale }
      let q = UnsafePointer(query.baseAddress!)
      for (i, candidate) in candidates.enumerated() {
        let lsa = VectorKernels.dot(q, base + candidate.position * d, count: d)
        scores[i] = max(scores[i], alpha * lsa + (1 - alpha) * tfidf[i])
      }
    }
  }
}
