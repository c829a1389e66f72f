import Foundation
import Testing

@testable import Semblance

/// The top positive and negative terms of each LSA component.
@Suite("Topics")
struct TopicsTests {
  static let index = PaperIndexTests.index

  @Test func topicsListTheStrongestLoadingsBothWays() throws {
    let index = Self.index
    let v = index.svd.components
    let topics = index.topics(count: 6, terms: 7)
    #expect(topics.map(\.component) == Array(0..<6))
    for topic in topics {
      let column = (0..<v.rows).map { v[$0, topic.component] }
      #expect(topic.singularValue == index.svd.singularValues[topic.component])
      #expect(topic.explainedVarianceRatio == index.svd.explainedVarianceRatio[topic.component])
      #expect(topic.positive.count == 7)
      #expect(topic.positive.allSatisfy { $0.weight > 0 })
      #expect(topic.negative.allSatisfy { $0.weight < 0 })
      #expect(topic.positive.map(\.weight) == topic.positive.map(\.weight).sorted(by: >))
      #expect(topic.negative.map(\.weight) == topic.negative.map(\.weight).sorted())
      // The weights are V's entries, and they are the extremes of the component.
      for term in topic.positive + topic.negative {
        let row = try #require(index.vectorizer.column(of: term.term))
        #expect(column[row] == term.weight)
      }
      #expect(topic.positive.first?.weight == column.max())
      if let mostNegative = topic.negative.first { #expect(mostNegative.weight == column.min()) }
      let seventh = try #require(topic.positive.last).weight
      #expect(column.filter { $0 > seventh }.count <= 6)
      // svd_flip: the largest-magnitude loading is positive.
      #expect(topic.positive[0].weight >= -(topic.negative.first?.weight ?? 0))
    }
  }

  @Test func countsAreClampedAndTheLowLevelAPIAgrees() {
    let index = Self.index
    #expect(index.topics().count == index.dimensions)
    #expect(index.topics(count: 10_000, terms: 1).count == index.dimensions)
    #expect(index.topics(count: 0).isEmpty)
    let none = index.topics(count: 2, terms: 0)
    #expect(none.allSatisfy { $0.positive.isEmpty && $0.negative.isEmpty })
    let columns = index.svd.topics(count: 3, terms: 4)
    let named = index.topics(count: 3, terms: 4)
    for (raw, topic) in zip(columns, named) {
      #expect(raw.positive.map { index.vectorizer.term(at: $0.column) } == topic.positive.map(\.term))
      #expect(raw.negative.map { index.vectorizer.term(at: $0.column) } == topic.negative.map(\.term))
    }
  }

  @Test func aComponentOfAKnownMatrixHasTheExpectedTerms() throws {
    // Two groups of papers with disjoint words: each component is one group's words, all
    // loading positively, and nothing loads negatively.
    let papers = (0..<6).map { i in
      i < 3
        ? Paper(id: "\(i)", title: "", abstract: "apple banana cherry apple")
        : Paper(id: "\(i)", title: "", abstract: "engine piston turbine")
    }
    var configuration = IndexConfiguration.default
    configuration.ngramRange = 1...1
    configuration.maxDocumentFrequency = 1
    configuration.dimensions = 2
    let index = try PaperIndex(papers, configuration: configuration)
    let topics = index.topics(terms: 3)
    #expect(topics.count == 2)
    let groups = Set(topics.map { Set($0.positive.map(\.term)) })
    #expect(groups == [["apple", "banana", "cherry"], ["engine", "piston", "turbine"]])
    #expect(topics.allSatisfy { $0.negative.isEmpty })
  }
}
