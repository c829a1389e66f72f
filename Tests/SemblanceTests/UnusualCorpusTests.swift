import Foundation
import Testing

@testable import Semblance

/// Checks that nothing an index holds or answers is NaN or infinite: embeddings, components,
/// singular values, explained variance, and the scores of `related`, `search` and `neighbors`.
func expectAllFinite(
  _ index: PaperIndex, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  #expect(index.embeddings.elements.allSatisfy { $0.isFinite }, "embeddings", sourceLocation: sourceLocation)
  #expect(index.svd.components.elements.allSatisfy { $0.isFinite }, "components", sourceLocation: sourceLocation)
  #expect(index.svd.singularValues.allSatisfy { $0.isFinite }, "singular values", sourceLocation: sourceLocation)
  #expect(
    index.svd.explainedVarianceRatio.allSatisfy { $0.isFinite && $0 >= 0 },
    "explained variance \(index.svd.explainedVarianceRatio)", sourceLocation: sourceLocation)
  #expect(index.tfidf.values.allSatisfy { $0.isFinite }, "TF-IDF values", sourceLocation: sourceLocation)
  let count = min(5, index.count)
  var scores: [Float] = []
  for position in 0..<index.count {
    scores += try index.related(toPosition: position, count: count).map(\.score)
    scores += try index.search(index.title(at: position), count: count).map(\.score)
  }
  let graph = try index.neighbors(count: count)
  for row in 0..<graph.rows { scores += graph[row].map(\.score) }
  #expect(scores.allSatisfy { $0.isFinite }, "scores", sourceLocation: sourceLocation)
}

/// DESIGN §9, the corpora a model must survive: papers with empty text, a single paper,
/// identical papers, a 1 MB abstract, and more dimensions than the corpus has rank.
@Suite("Bad input: unusual corpora")
struct UnusualCorpusTests {
  static let papers = try! TestSupport.fixturePapers()

  /// Options that keep every term of a tiny corpus (no document-frequency pruning).
  static var keepEveryTerm: IndexConfiguration {
    var configuration = IndexConfiguration.default
    configuration.maxDocumentFrequency = 1
    return configuration
  }

  @Test("papers that are all empty, or all stop words and one-letter words, are a clear error",
    arguments: [IndexConfiguration.default, .scikitLearnCompatible])
  func allPapersEmpty(configuration: IndexConfiguration) throws {
    let texts: [(String, String)] = [("", ""), ("  \n\t", "\u{00A0}"), ("a b c", "x y z")]
    var papers = texts.enumerated().map { Paper(id: "\($0)", title: $1.0, abstract: $1.1) }
    if configuration.stopWords.isEmpty == false {
      papers.append(Paper(id: "stop", title: "The", abstract: "of and to in is it"))
    }
    #expect(throws: ConfigurationError.noTerms(papers: papers.count)) {
      try PaperIndex(papers, configuration: configuration)
    }
    let message = ConfigurationError.noTerms(papers: papers.count).description
    #expect(message.contains("\(papers.count) paper"))
    #expect(!message.contains("min-df"), "no pruning is to blame: \(message)")
  }

  @Test("a single paper: an error by default (every term is in 100% of papers), else one dimension")
  func singlePaper() throws {
    let paper = Self.papers[0]
    #expect(throws: ConfigurationError.self) { try PaperIndex([paper]) }
    for var configuration in [Self.keepEveryTerm, .scikitLearnCompatible] {
      configuration.dimensions = 50
      let index = try PaperIndex([paper], configuration: configuration)
      #expect(index.count == 1)
      #expect(index.dimensions == 1)
      #expect(index.svd.requestedDimensions == 50)
      try expectAllFinite(index)
      #expect(try index.related(to: paper.id, count: 1).isEmpty, "the paper never matches itself")
      let hits = try index.search(paper.title, count: 1)
      #expect(hits.map(\.id) == [paper.id])
      #expect(abs(index.svd.singularValues[0] - 1) < 1e-5, "one unit row has σ = 1")
    }
  }

  @Test("two identical papers are each other's best match with a score of 1")
  func identicalPapers() throws {
    let original = Self.papers[17]
    let twin = Paper(id: "twin", title: original.title, abstract: original.abstract)
    // Among the seed corpus.
    let index = try PaperIndex(Self.papers + [twin])
    try expectAllFinite(index)
    let fromOriginal = try index.related(to: original.id, count: 3)
    let fromTwin = try index.related(to: "twin", count: 3)
    #expect(fromOriginal.first?.id == "twin")
    #expect(fromTwin.first?.id == original.id)
    #expect(abs((fromOriginal.first?.score ?? 0) - 1) < 1e-4)
    #expect(abs((fromTwin.first?.score ?? 0) - 1) < 1e-4)

    // On their own: a rank-one corpus. Every term is in both papers, so the default
    // max_df of 0.5 prunes them all; without pruning the pair still indexes.
    #expect(throws: ConfigurationError.self) { try PaperIndex([original, twin]) }
    for configuration in [Self.keepEveryTerm, .scikitLearnCompatible] {
      let pair = try PaperIndex([original, twin], configuration: configuration)
      try expectAllFinite(pair)
      #expect(pair.dimensions == 1)
      let match = try #require(try pair.related(to: "twin", count: 1).first)
      #expect(match.id == original.id)
      #expect(abs(match.score - 1) < 1e-4)
    }
  }

  @Test("many identical papers and many empty ones together")
  func identicalAndEmpty() throws {
    var papers = (0..<30).map {
      Paper(id: "same-\($0)", title: "Diffusion for time series", abstract: "Score models forecast.")
    }
    papers += (0..<10).map { Paper(id: "empty-\($0)", title: "", abstract: "") }
    papers += Self.papers.prefix(5)
    let index = try PaperIndex(papers, configuration: Self.keepEveryTerm)
    try expectAllFinite(index)
    #expect(index.emptyDocumentCount == 10)
    let related = try index.related(to: "same-3", count: 29)
    #expect(Set(related.map(\.id)) == Set((0..<30).filter { $0 != 3 }.map { "same-\($0)" }))
  }

  @Test("rank-deficient input: directions beyond the rank are exactly zero, with either solver",
    arguments: [TruncatedSVD.Algorithm.exact, .randomized])
  func rankDeficient(algorithm: TruncatedSVD.Algorithm) throws {
    // 6 distinct texts (rank 6), each repeated, with 40 dimensions asked for.
    var papers: [Paper] = []
    for copy in 0..<8 {
      for (number, paper) in Self.papers.prefix(6).enumerated() {
        papers.append(Paper(id: "\(number)-\(copy)", title: paper.title, abstract: paper.abstract))
      }
    }
    var configuration = Self.keepEveryTerm
    configuration.dimensions = 40
    configuration.svdAlgorithm = algorithm
    let index = try PaperIndex(papers, configuration: configuration)
    try expectAllFinite(index)
    let singularValues = index.svd.singularValues
    #expect(singularValues.prefix(6).allSatisfy { $0 > 0.1 }, "\(singularValues)")
    #expect(singularValues.dropFirst(6).allSatisfy { $0 == 0 }, "\(singularValues)")
    let components = index.svd.components
    for row in 0..<components.rows {
      #expect(components.row(row).dropFirst(6).allSatisfy { $0 == 0 })
    }
    let related = try index.related(to: "2-0", count: 7)
    #expect(Set(related.prefix(7).map(\.id)) == Set((1..<8).map { "2-\($0)" }))
    #expect(related.allSatisfy { abs($0.score - 1) < 1e-4 })
  }

  @Test("a 1 MB abstract is indexed and queried like any other")
  func megabyteAbstract() throws {
    var generator = SeededGenerator(seed: 7)
    let vocabulary = Self.papers.prefix(10).flatMap { $0.abstract.split(separator: " ") }
      .filter { $0.allSatisfy { $0.isLetter || $0.isNumber } }
    var abstract = ""
    abstract.reserveCapacity(1 << 20 + 64)
    while abstract.utf8.count < 1 << 20 {
      abstract += vocabulary[Int(generator.next() % UInt64(vocabulary.count))]
      abstract += " "
    }
    let long = Paper(id: "long", title: "A very long abstract", abstract: abstract)
    let index = try PaperIndex(Self.papers + [long])
    #expect(index.count == 82)
    try expectAllFinite(index)
    #expect(try index.related(to: "long", count: 5).count == 5)
    let corpus = try Corpus.parse(
      #"{"id": "long", "title": "T", "abstract": "\#(abstract)"}"#, format: .jsonLines)
    #expect(corpus.first?.abstract.utf8.count == abstract.utf8.count - 1)  // trailing space trimmed
  }

  @Test("a huge title weight and a word repeated past Int32 counts saturate instead of trapping",
    arguments: [2, 1 << 20, Int(Int32.max), Int.max])
  func hugeCounts(titleWeight: Int) throws {
    var configuration = Self.keepEveryTerm
    configuration.titleWeight = titleWeight
    let repeated = String(repeating: "forecast ", count: 3_000)
    var papers = Array(Self.papers.prefix(6))
    papers.append(Paper(id: "loud", title: repeated, abstract: "forecast models"))
    let index = try PaperIndex(papers, configuration: configuration)
    try expectAllFinite(index)
    let hits = try index.search(repeated, count: 1)
    #expect(hits.first?.id == "loud")
  }

  @Test("more dimensions than the rank allows are clamped, and the request is kept",
    arguments: [(10, 10_000), (3, 3), (2, 500)])
  func dimensionsAboveRank(papers count: Int, dimensions: Int) throws {
    var configuration = Self.keepEveryTerm
    configuration.dimensions = dimensions
    let papers = Array(Self.papers.prefix(count))
    let index = try PaperIndex(papers, configuration: configuration)
    let bound = min(index.count, index.termCount) - 1
    #expect(index.dimensions == max(1, min(dimensions, bound)))
    #expect(index.svd.requestedDimensions == dimensions)
    #expect(index.svd.singularValues.count == index.dimensions)
    try expectAllFinite(index)
  }

  @Test("counts out of range are typed errors in every query",
    arguments: [0, -1, 82, Int.max, Int.min])
  func countOutOfRange(count: Int) throws {
    let index = try PaperIndex(Self.papers)
    let expected = QueryError.invalidCount(count, papers: 81)
    #expect(throws: expected) { try index.related(to: "1", count: count) }
    #expect(throws: expected) { try index.related(toPosition: 0, count: count) }
    #expect(throws: expected) { try index.search("time series", count: count) }
    #expect(throws: expected) { try index.neighbors(count: count) }
    #expect(expected.description.contains("between 1 and 81"))
  }

  @Test("unknown papers: ids, positions, and the empty string")
  func unknownPapers() throws {
    let index = try PaperIndex(Self.papers)
    #expect(throws: QueryError.unknownPaper("")) { try index.related(to: "") }
    #expect(throws: QueryError.unknownPaper("#81")) { try index.related(toPosition: 81) }
    #expect(throws: QueryError.unknownPaper("#-1")) { try index.related(toPosition: -1) }
    #expect(QueryError.unknownPaper("2401.99999").description.contains("\"2401.99999\""))
  }

  @Test("an ambiguous title fragment lists its candidates, at most 20")
  func ambiguousFragment() throws {
    let papers = (0..<25).map {
      Paper(id: "p\($0)", title: "Shared Words \($0)", abstract: "text about topic \($0 % 3)")
    }
    let index = try PaperIndex(papers, configuration: Self.keepEveryTerm)
    do {
      _ = try index.related(to: "shared words")
      Issue.record("an ambiguous fragment must fail")
    } catch QueryError.ambiguousTitle(let fragment, let candidates) {
      #expect(fragment == "shared words")
      #expect(candidates.count == QueryError.candidateLimit)
      #expect(candidates.first == .init(id: "p0", title: "Shared Words 0"))
      let message = QueryError.ambiguousTitle(fragment: fragment, candidates: candidates).description
      #expect(message.contains("20 or more titles"))
      #expect(message.contains("p19\tShared Words 19"))
    }
    // A fragment that narrows it down resolves.
    #expect(try index.position(matching: "words 24") == 24)
  }
}
