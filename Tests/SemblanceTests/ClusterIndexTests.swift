import Foundation
import Testing

@testable import Semblance

/// `PaperIndex.clusters`: labelled clusters of the seed corpus, automatic k, methods, errors.
@Suite("Clustering: labelled clusters of a PaperIndex")
struct ClusterIndexTests {
  static let index = PaperIndexTests.index
  static let eight = try! index.clusters(.count(8))

  @Test func theTimeSeriesClusterReadsLikeATopic() throws {
    let clustering = Self.eight
    let cluster = try #require(clustering.clusters.first { $0.members.contains("27") })
    #expect(cluster.members.contains("57") && cluster.members.contains("69"))
    #expect(
      cluster.label.contains("time series") || cluster.label.contains("forecasting"),
      "\(cluster.label)")
    // The bigram stands for its words.
    #expect(!cluster.label.contains("time") && !cluster.label.contains("series"))
  }

  @Test func clustersPartitionThePapersByDecreasingSize() throws {
    let clustering = Self.eight
    #expect(clustering.k == 8 && clustering.clusters.count == 8)
    #expect(clustering.clusters.map(\.id) == Array(0..<8))
    #expect(clustering.clusters.map(\.size) == clustering.clusters.map(\.size).sorted(by: >))
    #expect(clustering.clusters.allSatisfy { $0.size > 0 && !$0.label.isEmpty })
    #expect(clustering.clusters.allSatisfy { $0.label.count <= 5 })
    let positions = clustering.clusters.flatMap(\.positions)
    #expect(positions.sorted() == Array(0..<81))
    for cluster in clustering.clusters {
      #expect(cluster.positions == cluster.positions.sorted())
      #expect(cluster.members == cluster.positions.map { Self.index.id(at: $0) })
      #expect(cluster.positions.allSatisfy { clustering.assignments[$0] == cluster.id })
    }
    let expected = silhouetteScore(Self.index.embeddings, assignments: clustering.assignments)
    #expect(clustering.silhouette == expected)
  }

  @Test func theSameSeedGivesTheSameClusters() throws {
    #expect(try Self.index.clusters(.count(8)) == Self.eight)
    let other = try Self.index.clusters(.count(8), options: .init(seed: 99))
    #expect(try Self.index.clusters(.count(8), options: .init(seed: 99)) == other)
  }

  @Test func automaticKHasTheBestSilhouetteInTheRange() throws {
    let automatic = try Self.index.clusters(.automatic(range: 2...9))
    #expect((2...9).contains(automatic.k))
    #expect(automatic.clusters.count == automatic.k)
    for k in 2...9 {
      let fixed = try Self.index.clusters(.count(k))
      #expect(automatic.silhouette >= fixed.silhouette, "k = \(k)")
      if k == automatic.k { #expect(fixed == automatic) }
    }
    // The upper bound is lowered to papers − 1.
    let clamped = try Self.index.clusters(.automatic(range: 78...500))
    #expect((78...80).contains(clamped.k))
  }

  @Test func averageLinkageIsAvailableAsAMethod() throws {
    let options = ClusteringOptions(method: .averageLinkage)
    let clustering = try Self.index.clusters(.count(8), options: options)
    #expect(clustering.k == 8 && clustering.clusters.map(\.size).reduce(0, +) == 81)
    let tree = try Self.index.dendrogram()
    #expect(
      Set(clustering.clusters.map { Set($0.positions) })
        == Set(try tree.assignments(clusters: 8).enumerated()
          .reduce(into: [Int: Set<Int>]()) { $0[$1.element, default: []].insert($1.offset) }.values))
    let automatic = try Self.index.clusters(.automatic(range: 2...6), options: options)
    #expect((2...6).contains(automatic.k))
  }

  @Test func invalidRequestsAreTypedErrors() throws {
    #expect(throws: ClusteringError.invalidClusterCount(0, points: 81)) {
      try Self.index.clusters(.count(0))
    }
    #expect(throws: ClusteringError.invalidClusterCount(82, points: 81)) {
      try Self.index.clusters(.count(82))
    }
    #expect(throws: ClusteringError.invalidRange(1...5, points: 81)) {
      try Self.index.clusters(.automatic(range: 1...5))
    }
    #expect(throws: ClusteringError.invalidRange(81...90, points: 81)) {
      try Self.index.clusters(.automatic(range: 81...90))
    }
    #expect(throws: ClusteringError.invalidClusterCount(82, points: 81)) {
      try Self.index.clusters(.count(82), options: .init(method: .averageLinkage))
    }
    #expect(throws: ConfigurationError.self) {
      try Self.index.clusters(.count(3), options: .init(labelTerms: 0))
    }
    #expect(throws: ConfigurationError.self) {
      try Self.index.clusters(.count(3), options: .init(restarts: 0))
    }
    let one = try Self.index.clusters(.count(1))
    #expect(one.silhouette == 0 && one.clusters[0].size == 81)
    let all = try Self.index.clusters(.count(81))
    #expect(all.clusters.allSatisfy { $0.size == 1 })
  }

  @Test func papersWithoutTermsDoNotBreakClustering() throws {
    let papers =
      PaperIndexTests.papers + [
        Paper(id: "empty-1", title: "The", abstract: "and of the it is"),
        Paper(id: "empty-2", title: "", abstract: "x y z"),
      ]
    let index = try PaperIndex(papers)
    #expect(index.emptyDocumentCount == 2)
    let clustering = try index.clusters(.count(6))
    #expect(clustering.silhouette.isFinite)
    #expect(clustering.clusters.map(\.size).reduce(0, +) == 83)
    #expect(clustering.assignments[81] == clustering.assignments[82])
    #expect(clustering.clusters.allSatisfy { !$0.label.isEmpty })
  }
}

/// The label rule on hand-made scores: bigrams replace their words, weak bigrams go.
@Suite("Clustering: label terms")
struct ClusterLabelTests {
  static let vectorizer: TfidfVectorizer = {
    // "pre" is in every paper, so it is pruned as too common; "graph pre" is kept.
    let papers = [
      Paper(id: "1", title: "time series forecasting", abstract: "pre time series graph pre"),
      Paper(id: "2", title: "graph graphs", abstract: "pre real world"),
      Paper(id: "3", title: "nothing", abstract: "pre other words"),
      Paper(id: "4", title: "more", abstract: "pre filler text"),
    ]
    return try! TfidfVectorizer.fit(
      papers, configuration: IndexConfiguration.default.vectorizerConfiguration
    ).0
  }()

  static func label(_ scores: [String: Double], terms: Int = 5) -> [String] {
    let vectorizer = Self.vectorizer
    let columns = scores.keys.map { vectorizer.column(of: $0)! }
    return ClusterLabels.label(
      candidates: columns.map(Int32.init),
      score: { scores[vectorizer.term(at: $0)] ?? 0 }, vectorizer: vectorizer, terms: terms)
  }

  @Test func aBigramAsStrongAsItsWeakerWordReplacesBoth() {
    #expect(Self.vectorizer.column(of: "pre") == nil)
    #expect(Self.vectorizer.column(of: "graph pre") != nil)
    let label = Self.label([
      "series": 0.072, "graph": 0.065, "time series": 0.069, "time": 0.054,
      "forecasting": 0.048, "series forecasting": 0.046, "graph pre": 0.030, "graphs": 0.040,
      "real world": 0.055, "real": 0.049, "world": 0.059,
    ])
    #expect(label == ["time series", "graph", "real world", "forecasting"])
  }

  @Test func aWeakBigramLeavesItsWordsInPlace() {
    let label = Self.label(["time": 0.05, "series": 0.04, "time series": 0.01])
    #expect(label == ["time", "series"])
    #expect(Self.label(["time": 0.05, "series": 0.04, "time series": 0.04]) == ["time series"])
    #expect(Self.label(["graph": 0.09, "graph pre": 0.095]) == ["graph pre"])
    #expect(Self.label(["graph": 0.09, "graph pre": 0.04]) == ["graph"])
    #expect(Self.label(["time": 0.5, "series": 0.4, "graph": 0.3], terms: 2) == ["time", "series"])
  }
}
