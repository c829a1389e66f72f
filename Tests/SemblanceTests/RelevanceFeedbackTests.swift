import Foundation
import Testing

@testable import Semblance

/// The hybrid ranking computed the plain way, in double precision: every other paper scored by
/// LSA cosine, the top `max(100, 10·count)` re-scored by `α·cos_LSA + (1−α)·cos_TFIDF`, then,
/// with feedback, the LSA query moved towards the centroid of the best `feedback.papers` of
/// them (at most a tenth of the candidates) and every candidate scored again, keeping the
/// better of its two scores.
struct ReferenceRanking {
  /// The ranked (position, score) pairs, best first.
  var results: [(position: Int, score: Double)]
  /// The smallest gap between the last paper in the feedback centroid and the next one, by
  /// first-pass score: a Float ranking may choose another centroid when it is tiny.
  var feedbackMargin: Double
  /// The query moved by feedback (the query itself without feedback).
  var lsaQuery: [Double]

  init(
    index: PaperIndex, query: [Double], excluding: Int?, count: Int, alpha: Double,
    feedback: RelevanceFeedback?, tfidf: (Int) -> Double
  ) {
    let d = index.dimensions
    func embedding(_ position: Int) -> [Double] {
      (0..<d).map { Double(index.embeddings[position, $0]) }
    }
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    func better(_ a: (position: Int, score: Double), _ b: (position: Int, score: Double)) -> Bool {
      a.score > b.score || (a.score == b.score && a.position < b.position)
    }
    var candidates = (0..<index.count).filter { $0 != excluding }
      .map { (position: $0, score: dot(query, embedding($0))) }
    candidates.sort(by: better)
    candidates = Array(candidates.prefix(PaperIndex.candidateCount(for: count)))
    var scored = candidates.map { (position: $0.position, score: alpha * $0.score + (1 - alpha) * tfidf($0.position)) }
    feedbackMargin = .infinity
    lsaQuery = query
    if let feedback, feedback.weight > 0 {
      let ranked = scored.sorted(by: better)
      let papers = min(feedback.papers, max(1, candidates.count / 10))
      let chosen = ranked.prefix(papers)
      if ranked.count > papers {
        feedbackMargin = ranked[papers - 1].score - ranked[papers].score
      }
      var centroid = [Double](repeating: 0, count: d)
      for paper in chosen {
        for (j, value) in embedding(paper.position).enumerated() { centroid[j] += value / Double(chosen.count) }
      }
      let weight = Double(feedback.weight)
      var moved = (0..<d).map { (1 - weight) * query[$0] + weight * centroid[$0] }
      let norm = dot(moved, moved).squareRoot()
      moved = moved.map { $0 / norm }
      lsaQuery = moved
      scored = zip(candidates, scored).map { candidate, first in
        let moved = alpha * dot(moved, embedding(candidate.position)) + (1 - alpha) * tfidf(candidate.position)
        return (position: candidate.position, score: max(first.score, moved))
      }
    }
    results = Array(scored.sorted(by: better).prefix(count))
  }

  /// The reference ranking of the index's paper at `row`, with TF-IDF cosines from its row.
  init(index: PaperIndex, row: Int, count: Int, alpha: Double, feedback: RelevanceFeedback?) {
    self.init(
      index: index, query: (0..<index.dimensions).map { Double(index.embeddings[row, $0]) },
      excluding: row, count: count, alpha: alpha, feedback: feedback,
      tfidf: { Double(index.tfidf.rowDot(row, $0)) })
  }

  /// Expects `matches` to carry the reference's scores, and its papers wherever consecutive
  /// reference scores are further apart than Float rounding.
  func expectMatches(_ matches: [(position: Int, score: Float)], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(matches.count == results.count, sourceLocation: sourceLocation)
    for (rank, (found, expected)) in zip(matches, results).enumerated() {
      #expect(abs(Double(found.score) - expected.score) < 1e-5, sourceLocation: sourceLocation)
      let before = rank > 0 ? results[rank - 1].score - expected.score : .infinity
      let after = rank + 1 < results.count ? expected.score - results[rank + 1].score : .infinity
      if min(before, after) > 1e-4 {
        #expect(found.position == expected.position, sourceLocation: sourceLocation)
      }
    }
  }
}

/// Relevance feedback in the hybrid ranking (`RelevanceFeedback`): against the reference
/// above, for `related`, `search` and `neighbors`, and its configuration.
@Suite("Relevance feedback")
struct RelevanceFeedbackTests {
  static let papers = try! TestSupport.fixturePapers()
  static let index: PaperIndex = {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 30
    return try! PaperIndex(papers, configuration: configuration)
  }()

  /// Feedback settings the tests rank with: the default, a small centroid with a light
  /// weight, and the centroid alone.
  static let settings: [RelevanceFeedback] = [
    .default, RelevanceFeedback(papers: 3, weight: 0.3), RelevanceFeedback(papers: 5, weight: 1),
  ]

  static func index(alpha: Float, feedback: RelevanceFeedback?) throws -> PaperIndex {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 30
    configuration.alpha = alpha
    configuration.feedback = feedback
    return try PaperIndex(papers, configuration: configuration)
  }

  @Test("the default configuration has feedback from 10 papers with weight 1")
  func defaults() {
    #expect(IndexConfiguration.default.feedback == RelevanceFeedback(papers: 10, weight: 1))
    #expect(RelevanceFeedback.default == RelevanceFeedback())
  }

  @Test("related(to:) ranks like the reference", arguments: settings)
  func relatedMatchesTheReference(feedback: RelevanceFeedback) throws {
    let alpha: Float = 0.5
    let index = try Self.index(alpha: alpha, feedback: feedback)
    var compared = 0
    for row in 0..<index.count where !index.isEmptyRow(row) {
      let reference = ReferenceRanking(
        index: index, row: row, count: 8, alpha: Double(alpha), feedback: feedback)
      // A near-tie at the edge of the centroid may choose another paper in Float.
      guard reference.feedbackMargin > 1e-4 else { continue }
      compared += 1
      let related = try index.related(toPosition: row, count: 8)
      reference.expectMatches(related.map { ($0.position, $0.score) })
    }
    #expect(compared > index.count * 3 / 4, "too many near-ties to test: \(compared)")
  }

  @Test("search ranks like the reference on the folded-in text", arguments: settings)
  func searchMatchesTheReference(feedback: RelevanceFeedback) throws {
    let alpha: Float = 0.35
    let index = try Self.index(alpha: alpha, feedback: feedback)
    for text in ["diffusion models for time series forecasting", "large language model agents",
                 "video generation with transformers"] {
      let (indices, values) = index.vectorizer.vector(forText: text)
      let query = index.foldIn(indices: indices, values: values).map(Double.init)
      let reference = ReferenceRanking(
        index: index, query: query, excluding: nil, count: 6, alpha: Double(alpha),
        feedback: feedback,
        tfidf: { position in
          indices.withUnsafeBufferPointer { i in
            values.withUnsafeBufferPointer { v in
              Double(SparseMatrix.dot(i, v, with: index.tfidf, row: position))
            }
          }
        })
      guard reference.feedbackMargin > 1e-4 else { continue }
      reference.expectMatches(try index.search(text, count: 6).map { ($0.position, $0.score) })
    }
  }

  @Test("neighbors(count:) ranks exactly like related(to:) with feedback",
    arguments: [(0.5, .default), (0, RelevanceFeedback(papers: 4, weight: 0.6))] as [(Float, RelevanceFeedback)])
  func neighborsMatchRelated(alpha: Float, feedback: RelevanceFeedback) throws {
    let index = try Self.index(alpha: alpha, feedback: feedback)
    let graph = try index.neighbors(count: 7)
    for row in 0..<index.count {
      let related = try index.related(toPosition: row, count: 7)
      #expect(graph[row].map(\.position) == related.map(\.position))
      // The all-pairs LSA and TF-IDF cosines are summed in another order than a single
      // query's, so scores agree to Float rounding.
      for (a, b) in zip(graph[row], related) { #expect(abs(a.score - b.score) < 1e-5) }
    }
    // The package entry point with the index's own settings gives the same graph.
    let again = try index.neighbors(count: 7, alpha: alpha, feedback: feedback)
    for row in 0..<index.count { #expect(again[row] == graph[row]) }
  }

  @Test("neighbors over every candidate ranks like the reference")
  func neighborsOverEveryCandidate() throws {
    let alpha: Float = 0.3
    let feedback = RelevanceFeedback(papers: 6, weight: 0.7)
    let index = Self.index
    let graph = try index.neighbors(count: 5, alpha: alpha, feedback: feedback, candidates: index.count)
    for row in 0..<index.count where !index.isEmptyRow(row) {
      let reference = ReferenceRanking(
        index: index, row: row, count: 5, alpha: Double(alpha), feedback: feedback)
      guard reference.feedbackMargin > 1e-4 else { continue }
      reference.expectMatches(graph[row].map { ($0.position, $0.score) })
    }
  }

  @Test("weight 0 and no feedback rank alike; α = 1 ignores feedback")
  func neutralSettings() throws {
    let none = try Self.index(alpha: 0.5, feedback: nil)
    let zero = try Self.index(alpha: 0.5, feedback: RelevanceFeedback(papers: 10, weight: 0))
    let withFeedback = try Self.index(alpha: 0.5, feedback: .default)
    let lsa = try Self.index(alpha: 1, feedback: nil)
    let lsaWithFeedback = try Self.index(alpha: 1, feedback: .default)
    var changed = 0
    for row in 0..<none.count {
      let plain = try none.related(toPosition: row, count: 10)
      #expect(try zero.related(toPosition: row, count: 10) == plain)
      #expect(try lsaWithFeedback.related(toPosition: row, count: 10) == lsa.related(toPosition: row, count: 10))
      if try withFeedback.related(toPosition: row, count: 10).map(\.position) != plain.map(\.position) {
        changed += 1
      }
    }
    // Feedback is not a no-op: it reorders some lists.
    #expect(changed > 0)
  }

  @Test("feedback only raises scores: an identical paper still scores 1")
  func feedbackOnlyRaisesScores() throws {
    let original = Self.papers[17]
    var papers = Self.papers
    papers.append(Paper(id: "twin", title: original.title, abstract: original.abstract))
    var configuration = IndexConfiguration.default
    configuration.dimensions = 30
    let index = try PaperIndex(papers, configuration: configuration)
    configuration.feedback = nil
    let plain = try PaperIndex(papers, configuration: configuration)
    let twin = try #require(try index.related(to: "twin", count: 1).first)
    #expect(twin.id == original.id && abs(twin.score - 1) < 1e-5)
    for row in 0..<index.count {
      let withFeedback = try index.related(toPosition: row, count: 20)
      let without = Dictionary(
        uniqueKeysWithValues: try plain.related(toPosition: row, count: index.count - 1)
          .map { ($0.position, $0.score) })
      for match in withFeedback {
        let floor = try #require(without[match.position])
        #expect(match.score >= floor && match.score <= 1 + 1e-6)
      }
    }
  }

  @Test("feedback settings out of range are configuration errors")
  func validation() throws {
    for (feedback, option) in [
      (RelevanceFeedback(papers: 0, weight: 0.5), "feedback.papers"),
      (RelevanceFeedback(papers: 5, weight: 1.5), "feedback.weight"),
      (RelevanceFeedback(papers: 5, weight: -0.1), "feedback.weight"),
      (RelevanceFeedback(papers: 5, weight: .nan), "feedback.weight"),
    ] {
      var configuration = IndexConfiguration.default
      configuration.feedback = feedback
      #expect {
        try PaperIndex(Self.papers, configuration: configuration)
      } throws: { error in
        guard case ConfigurationError.invalidValue(let name, _, _) = error else { return false }
        return name == option
      }
    }
  }

  @Test("the setting survives the index file; a configuration without it decodes as none")
  func persistence() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let custom = try Self.index(alpha: 0.4, feedback: RelevanceFeedback(papers: 4, weight: 0.6))
    let url = directory.appendingPathComponent("feedback.idx")
    try custom.write(to: url)
    let loaded = try PaperIndex(contentsOf: url)
    #expect(loaded.configuration.feedback == RelevanceFeedback(papers: 4, weight: 0.6))
    #expect(try loaded.related(toPosition: 3, count: 10) == custom.related(toPosition: 3, count: 10))

    // Files written before the option existed hold no "feedback" key: they rank as they did.
    var configuration = IndexConfiguration.default
    configuration.feedback = nil
    let encoded = try JSONEncoder().encode(configuration)
    #expect(!String(decoding: encoded, as: UTF8.self).contains("feedback"))
    #expect(try JSONDecoder().decode(IndexConfiguration.self, from: encoded).feedback == nil)
    let withDefault = try JSONEncoder().encode(IndexConfiguration.default)
    #expect(try JSONDecoder().decode(IndexConfiguration.self, from: withDefault).feedback == .default)
  }
}
