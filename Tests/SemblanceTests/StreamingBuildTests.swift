import Foundation
import Testing

@testable import Semblance

/// Building from batches or from a streamed file gives exactly what one in-memory fit gives.
@Suite("Streaming build")
struct StreamingBuildTests {
  static let papers = try! TestSupport.fixturePapers()

  /// A corpus big enough for several counting lanes per batch (64 papers or more each).
  static let manyPapers: [Paper] = (0..<6).flatMap { copy in
    papers.enumerated().map { position, paper in
      // Each copy rotates the abstract's sentences, so counts and pairs differ across copies.
      let sentences = paper.abstract.split(separator: ".")
      let shift = sentences.isEmpty ? 0 : copy % sentences.count
      let rotated = (sentences[shift...] + sentences[..<shift]).joined(separator: ".")
      return Paper(id: "\(copy)-\(position)", title: paper.title, abstract: rotated)
    }
  }

  static func expectIdentical(_ a: SparseMatrix, _ b: SparseMatrix) {
    #expect(a.rows == b.rows)
    #expect(a.columns == b.columns)
    #expect(mismatches(a.offsets.buffer, b.offsets.buffer) == 0)
    #expect(mismatches(a.indices.buffer, b.indices.buffer) == 0)
    #expect(mismatches(a.storedValues.buffer, b.storedValues.buffer) == 0)
  }

  @Test("batches of any size count like one batch", arguments: [1, 7, 64, 100, 200, 10_000])
  func batchesMatchOneFit(batchSize: Int) throws {
    var configuration = TfidfVectorizer.Configuration()
    configuration.minDocumentFrequency = 2
    let (whole, matrix) = try TfidfVectorizer.fit(Self.manyPapers, configuration: configuration)
    var accumulator = try TfidfVectorizer.Accumulator(configuration: configuration)
    var start = 0
    while start < Self.manyPapers.count {
      let end = min(start + batchSize, Self.manyPapers.count)
      accumulator.add(Array(Self.manyPapers[start..<end]))
      start = end
    }
    #expect(accumulator.paperCount == Self.manyPapers.count)
    let (batched, batchedMatrix) = try accumulator.finish()
    #expect(batched.terms == whole.terms)
    #expect(mismatches(batched.idfStorage.buffer, whole.idfStorage.buffer) == 0)
    Self.expectIdentical(batchedMatrix, matrix)
  }

  /// One lane merges nothing; two merge the second lane's bigrams into the first lane's
  /// table; more merge them by hash partition. All must give the one-lane result, in one
  /// batch or in several, with the vocabulary capped or not.
  @Test("any number of counting lanes counts like one", arguments: [2, 3, 5])
  func laneCountsMatchOneLane(laneCount: Int) throws {
    for maxTerms in [nil, 300] {
      var configuration = TfidfVectorizer.Configuration()
      configuration.minDocumentFrequency = 2
      configuration.maxTerms = maxTerms
      var single = try TfidfVectorizer.Accumulator(configuration: configuration, laneCount: 1)
      single.add(Self.manyPapers)
      let (expected, expectedMatrix) = try single.finish()
      #expect(expected.terms.contains { $0.contains(" ") })
      for batchSize in [Self.manyPapers.count, 150] {
        var accumulator = try TfidfVectorizer.Accumulator(
          configuration: configuration, laneCount: laneCount)
        var start = 0
        while start < Self.manyPapers.count {
          let end = min(start + batchSize, Self.manyPapers.count)
          accumulator.add(Array(Self.manyPapers[start..<end]))
          start = end
        }
        let (fitted, matrix) = try accumulator.finish()
        #expect(fitted.terms == expected.terms)
        #expect(mismatches(fitted.idfStorage.buffer, expected.idfStorage.buffer) == 0)
        Self.expectIdentical(matrix, expectedMatrix)
      }
    }
  }

  @Test("an accumulator given nothing reports an empty corpus")
  func emptyAccumulator() throws {
    let accumulator = try TfidfVectorizer.Accumulator(configuration: .init())
    #expect(throws: ConfigurationError.emptyCorpus) { try accumulator.finish() }
  }

  @Test("an index streamed from a file equals one built from the papers")
  func streamedFileMatchesInMemory() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("corpus.jsonl")
    var lines = ""
    for paper in Self.manyPapers {
      let record = ["id": paper.id, "title": paper.title, "abstract": paper.abstract]
      let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
      lines += String(decoding: data, as: UTF8.self) + "\n"
    }
    try lines.write(to: url, atomically: true, encoding: .utf8)

    let stages = StageLog()
    let streamed = try PaperIndex(corpusAt: url) { fraction, stage in
      stages.record(fraction, stage)
    }
    let papers = try Corpus.read(contentsOf: url)
    let built = try PaperIndex(papers)
    #expect(streamed.allIDs == built.allIDs)
    #expect((0..<streamed.count).allSatisfy { streamed.title(at: $0) == built.title(at: $0) })
    Self.expectIdentical(streamed.tfidf, built.tfidf)
    #expect(mismatches(streamed.embeddings.storage.buffer, built.embeddings.storage.buffer) == 0)
    let related = try streamed.related(to: "0-18", count: 5).map(\.id)
    #expect(related == (try built.related(to: "0-18", count: 5).map(\.id)))

    let log = stages.entries
    #expect(log.first?.stage == .analyzing)
    #expect(log.last?.stage == .finished && log.last?.fraction == 1)
    #expect(zip(log, log.dropFirst()).allSatisfy { $0.fraction <= $1.fraction })
  }

  @Test("streaming reports a duplicate id with its file and line")
  func streamedDuplicateID() throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("dup.jsonl")
    try """
      {"id": "a", "title": "One", "abstract": "Diffusion models for images."}
      {"id": "b", "title": "Two", "abstract": "Time series forecasting."}
      {"id": "a", "title": "Three", "abstract": "Graph neural networks."}

      """.write(to: url, atomically: true, encoding: .utf8)
    #expect(throws: CorpusError.self) { try PaperIndex(corpusAt: url) }
    do {
      _ = try PaperIndex(corpusAt: url)
    } catch let error as CorpusError {
      #expect(String(describing: error).contains("dup.jsonl"))
      #expect(String(describing: error).contains("3"))
    }
    let kept = try PaperIndex(corpusAt: url, duplicateIDs: .keepFirst)
    #expect(kept.allIDs == ["a", "b"])
  }
}

/// Collects progress reports from a `@Sendable` callback.
final class StageLog: @unchecked Sendable {
  private let lock = NSLock()
  private var log: [(fraction: Double, stage: PaperIndex.Stage)] = []

  func record(_ fraction: Double, _ stage: PaperIndex.Stage) {
    lock.lock()
    log.append((fraction, stage))
    lock.unlock()
  }

  var entries: [(fraction: Double, stage: PaperIndex.Stage)] {
    lock.lock()
    defer { lock.unlock() }
    return log
  }
}
