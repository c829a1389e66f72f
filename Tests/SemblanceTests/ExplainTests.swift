import Foundation
import Testing

@testable import Semblance

/// `PaperIndex.explain`: shared terms and their shares of the TF-IDF cosine.
@Suite("Explain")
struct ExplainTests {
  static let index = PaperIndexTests.index

  func expectSortedAndShared(_ terms: [TermContribution], _ a: Int, _ b: Int?) {
    #expect(terms.allSatisfy { $0.contribution > 0 })
    for (left, right) in zip(terms, terms.dropFirst()) {
      #expect(left.contribution > right.contribution
        || (left.contribution == right.contribution && left.column < right.column))
    }
    for term in terms {
      #expect(Self.index.vectorizer.term(at: term.column) == term.term)
      #expect(Self.index.tfidf[a, term.column] > 0)
      if let b { #expect(Self.index.tfidf[b, term.column] > 0) }
    }
  }

  @Test(arguments: ["1", "18", "27", "57", "81"])
  func contributionsSumToTheTFIDFCosine(id: String) throws {
    let index = Self.index
    let query = try #require(index.position(ofID: id))
    let reference = ReferenceRanking(
      index: index, row: query, count: 10, alpha: Double(index.configuration.alpha),
      feedback: index.configuration.feedback)
    for match in try index.related(to: id, count: 10) {
      let terms = try index.explain(match, for: id)
      let sum = terms.reduce(Double(0)) { $0 + Double($1.contribution) }
      let cosine = Double(index.tfidf.rowDot(query, match.position))
      #expect(abs(sum - cosine) < 1e-5)
      expectSortedAndShared(terms, match.position, query)
      // The hybrid score is α·cos_LSA + (1−α)·Σ contributions, where cos_LSA is the better
      // of the cosines with the query and with the query moved by relevance feedback.
      let alpha = Double(index.configuration.alpha)
      var lsa: Double = 0, moved: Double = 0
      for j in 0..<index.dimensions {
        lsa += Double(index.embeddings[query, j]) * Double(index.embeddings[match.position, j])
        moved += reference.lsaQuery[j] * Double(index.embeddings[match.position, j])
      }
      #expect(abs(alpha * max(lsa, moved) + (1 - alpha) * sum - Double(match.score)) < 1e-4)
      // The variants agree, and `count` keeps the top terms.
      #expect(try index.explain(match, forPosition: query) == terms)
      #expect(try index.explain(position: match.position, forPosition: query) == terms)
      #expect(try index.explain(match, for: id, count: 3) == Array(terms.prefix(3)))
      // Symmetric: the same shared terms from the other side.
      #expect(try index.explain(position: query, forPosition: match.position).map(\.column)
        == terms.map(\.column))
    }
  }

  @Test func searchResultsAreExplainedByTheTextsTerms() throws {
    let index = Self.index
    let text = "diffusion models for time series forecasting"
    let (indices, values) = index.vectorizer.vector(forText: text)
    for match in try index.search(text, count: 10) {
      let terms = try index.explain(match, forText: text)
      let cosine = indices.withUnsafeBufferPointer { i in
        values.withUnsafeBufferPointer { v in
          SparseMatrix.dot(i, v, with: index.tfidf, row: match.position)
        }
      }
      let sum = terms.reduce(Double(0)) { $0 + Double($1.contribution) }
      #expect(abs(sum - Double(cosine)) < 1e-5)
      expectSortedAndShared(terms, match.position, nil)
      #expect(terms.allSatisfy { indices.contains(Int32($0.column)) })
    }
    let top = try #require(try index.search(text, count: 1).first)
    #expect(try index.explain(top, forText: text).contains { $0.term == "time series" })
    #expect(try index.explain(top, forText: "zzzz qqqq").isEmpty)
  }

  @Test func matchesAreResolvedByIDAndCheckedAgainstTheIndex() throws {
    let index = Self.index
    let match = try #require(try index.related(to: "18", count: 1).first)
    var moved = match
    moved.position = 0  // a stale position: the id decides
    #expect(try index.explain(moved, for: "18") == index.explain(match, for: "18"))
    let stranger = Match(id: "not here", title: "", score: 0, position: 999)
    #expect(throws: QueryError.unknownPaper("not here")) { try index.explain(stranger, for: "18") }
    #expect(throws: QueryError.unknownPaper("no such paper")) {
      try index.explain(match, for: "no such paper")
    }
    #expect(throws: QueryError.unknownPaper("#81")) { try index.explain(position: 81, forPosition: 0) }
    #expect(throws: QueryError.unknownPaper("#-1")) { try index.explain(position: 0, forPosition: -1) }
    #expect(try index.explain(position: 3, forPosition: 3).count == index.tfidf.row(3).indices.count)
  }
}
