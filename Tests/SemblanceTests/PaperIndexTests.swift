import Foundation
import Testing

@testable import Semblance

/// PaperIndex end to end on the seed corpus: queries, persistence, errors.
@Suite("PaperIndex")
struct PaperIndexTests {
  static let papers = try! TestSupport.fixturePapers()
  static let index = try! PaperIndex(papers)
  static let compatible: PaperIndex = {
    var configuration = IndexConfiguration.scikitLearnCompatible
    configuration.dimensions = 20
    return try! PaperIndex(papers, configuration: configuration)
  }()

  @Test func relatedListsArtGPTForMiniGPT() throws {
    for index in [Self.index, Self.compatible] {
      let related = try index.related(to: "18", count: 5)
      #expect(related.contains { $0.id == "49" })
      #expect(!related.contains { $0.id == "18" })
      #expect(related.map(\.score) == related.map(\.score).sorted(by: >))
    }
  }

  @Test func searchFindsTheTimeSeriesPapers() throws {
    for index in [Self.index, Self.compatible] {
      let hits = Set(try index.search("time series forecasting", count: 5).map(\.id))
      #expect(hits.intersection(["27", "57", "69"]).count >= 2)
    }
  }

  @Test func pureLSARankingIsCosineOfEmbeddings() throws {
    var configuration = IndexConfiguration.default
    configuration.alpha = 1
    configuration.dimensions = 30
    let index = try PaperIndex(Self.papers, configuration: configuration)
    let related = try index.related(to: "1", count: 80)
    #expect(related.count == 80)
    for match in related {
      var dot: Float = 0
      for j in 0..<index.dimensions { dot += index.embeddings[0, j] * index.embeddings[match.position, j] }
      #expect(abs(dot - match.score) < 1e-5)
    }
  }

  @Test("the neighbor graph ranks exactly like related(to:)", arguments: [0.5, 1] as [Float])
  func neighborGraphMatchesRelated(alpha: Float) throws {
    var configuration = IndexConfiguration.default
    configuration.alpha = alpha
    configuration.dimensions = 40
    var papers = Self.papers
    papers.append(Paper(id: "empty", title: "", abstract: "of the"))
    let index = try PaperIndex(papers, configuration: configuration)
    let graph = try index.neighbors(count: 7)
    #expect(graph.rows == 82)
    for row in 0..<index.count {
      let related = try index.related(toPosition: row, count: 7)
      #expect(graph[row].map(\.position) == related.map(\.position))
      for (a, b) in zip(graph[row], related) { #expect(abs(a.score - b.score) < 1e-5) }
    }
    #expect(graph[81].isEmpty)
    #expect(throws: QueryError.self) { try index.neighbors(count: 0) }
  }

  @Test("an α passed to neighbors(count:alpha:) ranks like an index built with it",
    arguments: [0, 0.2, 0.65, 1] as [Float])
  func neighborGraphWithAnotherAlpha(alpha: Float) throws {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 40
    let index = try PaperIndex(Self.papers, configuration: configuration)
    configuration.alpha = alpha
    let rebuilt = try PaperIndex(Self.papers, configuration: configuration)
    let graph = try index.neighbors(count: 6, alpha: alpha, feedback: configuration.feedback)
    let expected = try rebuilt.neighbors(count: 6)
    for row in 0..<index.count {
      #expect(graph[row].map(\.position) == expected[row].map(\.position))
      for (a, b) in zip(graph[row], expected[row]) { #expect(abs(a.score - b.score) < 1e-5) }
    }
  }

  @Test func hybridWithoutFeedbackOverEveryCandidateIsTheBruteForceHybrid() throws {
    var configuration = IndexConfiguration.default
    configuration.dimensions = 30
    let index = try PaperIndex(Self.papers, configuration: configuration)
    let alpha: Float = 0.3
    let graph = try index.neighbors(count: 5, alpha: alpha, feedback: nil, candidates: index.count)
    for row in 0..<index.count where !index.isEmptyRow(row) {
      var scores: [(position: Int, score: Float)] = []
      for other in 0..<index.count where other != row {
        var lsa: Float = 0
        for j in 0..<index.dimensions { lsa += index.embeddings[row, j] * index.embeddings[other, j] }
        scores.append((other, alpha * lsa + (1 - alpha) * index.tfidf.rowDot(row, other)))
      }
      scores.sort { $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position) }
      // Compare scores, not positions: near-ties may order differently in Float.
      for (found, expected) in zip(graph[row], scores.prefix(5)) {
        #expect(abs(found.score - expected.score) < 1e-5)
      }
    }
  }

  @Test func exactSearchBlocksAgreeWithBruteForce() throws {
    // More rows than one database block and more queries than one query block.
    let rows = ExactNeighborIndex.databaseBlock + 300
    let d = 8
    var values = randomMatrix(rows: rows, columns: d, seed: 9)
    for row in 0..<rows {
      let norm = (0..<d).reduce(Float(0)) { $0 + values[row * d + $1] * values[row * d + $1] }.squareRoot()
      for j in 0..<d { values[row * d + j] /= norm }
    }
    let matrix = try DenseMatrix(rows: rows, columns: d, elements: values)
    let index = ExactNeighborIndex(matrix)
    let queries = (rows - ExactNeighborIndex.queryBlock - 5)..<rows
    let lists = index.neighbors(ofRows: queries, count: 5)
    for (offset, query) in queries.enumerated() where offset % 37 == 0 {
      var brute: [(Int, Float)] = []
      for other in 0..<rows where other != query {
        var dot: Float = 0
        for j in 0..<d { dot += values[query * d + j] * values[other * d + j] }
        brute.append((other, dot))
      }
      brute.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
      #expect(lists[offset].map(\.position) == brute.prefix(5).map(\.0))
      #expect(index.search(matrix.row(query), count: 5, excluding: query).map(\.position) == brute.prefix(5).map(\.0))
    }
  }

  @Test func embeddingsAreUnitLength() {
    for row in 0..<Self.index.count {
      let norm = Self.index.embeddings.row(row).reduce(0) { $0 + $1 * $1 }
      #expect(abs(norm - 1) < 1e-5)
    }
  }

  @Test func writeAndLoadGiveTheSameAnswers() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("seed.idx")
    try Self.index.write(to: url)
    let loaded = try PaperIndex(contentsOf: url)
    #expect(loaded.count == 81)
    #expect(loaded.configuration == Self.index.configuration)
    #expect(loaded.embeddings.elements == Self.index.embeddings.elements)
    #expect(loaded.svd.singularValues == Self.index.svd.singularValues)
    for id in ["1", "18", "81"] {
      #expect(try loaded.related(to: id, count: 7) == Self.index.related(to: id, count: 7))
    }
    #expect(try loaded.search("graph neural networks", count: 5) == Self.index.search("graph neural networks", count: 5))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["seed.idx"])
    // Written again from the mapping (its arrays copied a piece at a time, their pages
    // released as they go): the same bytes.
    let again = directory.appendingPathComponent("again.idx")
    try loaded.write(to: again)
    #expect(try Data(contentsOf: again) == Data(contentsOf: url))
  }

  @Test func queryErrorsAreTyped() throws {
    #expect(throws: QueryError.unknownPaper("no such paper")) {
      try Self.index.related(to: "no such paper")
    }
    #expect(throws: QueryError.invalidCount(0, papers: 81)) { try Self.index.related(to: "1", count: 0) }
    #expect(throws: QueryError.invalidCount(82, papers: 81)) { try Self.index.search("graphs", count: 82) }
    #expect(throws: QueryError.self) { try Self.index.related(to: "pre-train") }  // ambiguous
    do {
      _ = try Self.index.related(to: "generative")
      Issue.record("an ambiguous fragment must fail")
    } catch QueryError.ambiguousTitle(let fragment, let candidates) {
      #expect(fragment == "generative")
      #expect(candidates.count > 1)
      #expect(candidates.allSatisfy { $0.title.lowercased().contains("generative") })
    }
    // A unique fragment resolves, case-insensitively.
    #expect(try Self.index.position(matching: "sansFORMERS") == 0)
    #expect(try Self.index.search("zzzz qqqq", count: 3).isEmpty)
  }

  @Test func duplicateIDsAndEmptyCorporaAreRejected() {
    let twice = [Self.papers[0], Self.papers[0]]
    #expect(throws: CorpusError.self) { try PaperIndex(twice) }
    #expect(throws: ConfigurationError.emptyCorpus) { try PaperIndex([]) }
  }

  @Test func emptyPapersAreIndexedButNeverMatch() throws {
    var papers = Array(Self.papers.prefix(20))
    papers.append(Paper(id: "empty", title: "", abstract: "of the and"))
    let index = try PaperIndex(papers)
    #expect(index.emptyDocumentCount == 1)
    #expect(try index.related(to: "empty", count: 5).isEmpty)
    #expect(try !index.related(to: "1", count: 20).contains { $0.id == "empty" })
    #expect(index.embeddings.elements.allSatisfy { $0.isFinite })
  }

  @Test func progressIsReported() throws {
    final class Recorder: @unchecked Sendable {
      var stages: [PaperIndex.Stage] = []
    }
    let recorder = Recorder()
    _ = try PaperIndex(Array(Self.papers.prefix(10)), progress: { _, stage in recorder.stages.append(stage) })
    #expect(recorder.stages.first == .analyzing)
    #expect(recorder.stages.last == .finished)
  }
}

/// The index file stores the configuration as JSON through a hand-written `encode(to:)` (it
/// sorts the stop words so files are byte-identical run to run). Every option set to a
/// non-default value must survive the round trip, or a forgotten key would be dropped silently.
@Suite("IndexConfiguration coding")
struct IndexConfigurationCodingTests {
  @Test func everyOptionSurvivesEncoding() throws {
    var configuration = IndexConfiguration()
    configuration.titleWeight = 3
    configuration.stopWords = ["alpha", "beta"]
    configuration.ngramRange = 2...2
    configuration.joinsTitleAndAbstract = true
    configuration.stemmer = .porter
    configuration.minDocumentFrequency = 4
    configuration.maxDocumentFrequency = 0.25
    configuration.maxTerms = 1_000
    configuration.sublinearTF = false
    configuration.dimensions = 64
    configuration.oversampling = 5
    configuration.powerIterations = 2
    configuration.svdAlgorithm = .exact
    configuration.seed = 99
    configuration.alpha = 0.75
    configuration.approximateSearch = .always
    configuration.nprobe = 7
    let data = try JSONEncoder().encode(configuration)
    #expect(try JSONDecoder().decode(IndexConfiguration.self, from: data) == configuration)
    // Stop words are written sorted, so the bytes never depend on hashing order.
    #expect(String(decoding: data, as: UTF8.self).contains(#""stopWords":["alpha","beta"]"#))
  }
}
