import Foundation
import Testing

@testable import Semblance

/// DESIGN §3 and §9: queries on one shared `PaperIndex` from many tasks give exactly the
/// answers of a serial run. Run under the thread sanitizer by Scripts/tsan.sh.
@Suite("Concurrent queries")
struct ConcurrencyTests {
  /// Where the shared index comes from.
  enum Source: String, CaseIterable, Sendable {
    /// Built in memory from the bundled corpus.
    case built
    /// Written to a file and loaded back, so every array is a view into the mapping.
    case mapped
  }

  /// One query of the mix.
  enum Query: Sendable {
    case related(key: String, count: Int)
    case relatedPosition(Int, count: Int)
    case search(String, count: Int)
  }

  static let papers = try! Corpus.read(contentsOf: TestSupport.bundledCorpus)
  static let taskCount = 8
  static let queryCount = 1_000

  /// A fresh index from `source`. Each call builds or loads anew, so the lazily built lookup
  /// tables of the concurrent run are first built under concurrency.
  static func makeIndex(_ source: Source, in directory: URL) throws -> PaperIndex {
    let index = try PaperIndex(papers)
    switch source {
    case .built:
      return index
    case .mapped:
      let url = directory.appendingPathComponent("shared-\(UUID().uuidString).idx")
      try index.write(to: url)
      return try PaperIndex(contentsOf: url)
    }
  }

  /// 1,000 queries: related papers by id, by title fragment and by position, and free-text
  /// searches made from pieces of titles and abstracts, with varied counts.
  static func queries() -> [Query] {
    let fragments = ["sansformers", "norglm", "plip"]
    return (0..<queryCount).map { number in
      let paper = papers[(number * 37) % papers.count]
      let count = 1 + (number * 7) % 25
      switch number % 4 {
      case 0:
        return .related(key: paper.id, count: count)
      case 1:
        let words = paper.abstract.split(separator: " ")
        let start = (number * 13) % max(1, words.count - 8)
        return .search(words[start..<min(words.count, start + 8)].joined(separator: " "), count: count)
      case 2:
        return number % 40 == 2
          ? .related(key: fragments[(number / 40) % fragments.count], count: count)
          : .relatedPosition((number * 11) % papers.count, count: count)
      default:
        return .search(paper.title, count: count)
      }
    }
  }

  static func answer(_ query: Query, on index: PaperIndex) throws -> [Match] {
    switch query {
    case .related(let key, let count): try index.related(to: key, count: count)
    case .relatedPosition(let position, let count): try index.related(toPosition: position, count: count)
    case .search(let text, let count): try index.search(text, count: count)
    }
  }

  @Test("8 tasks answering 1,000 queries on one index agree with a serial run",
    arguments: Source.allCases)
  func concurrentMatchesSerial(source: Source) async throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let queries = Self.queries()

    let serialIndex = try Self.makeIndex(source, in: directory)
    let serial = try queries.map { try Self.answer($0, on: serialIndex) }
    #expect(serial.allSatisfy { !$0.isEmpty })

    let shared = try Self.makeIndex(source, in: directory)
    let concurrent = try await withThrowingTaskGroup(of: [(Int, [Match])].self) { group in
      for task in 0..<Self.taskCount {
        group.addTask {
          try stride(from: task, to: queries.count, by: Self.taskCount).map { number in
            (number, try Self.answer(queries[number], on: shared))
          }
        }
      }
      var answers = [[Match]](repeating: [], count: queries.count)
      var answered = 0
      for try await batch in group {
        for (number, matches) in batch {
          answers[number] = matches
          answered += 1
        }
      }
      #expect(answered == queries.count)
      return answers
    }

    for number in queries.indices where concurrent[number] != serial[number] {
      Issue.record("query \(number) (\(queries[number])) differs when run concurrently")
    }
  }

  @Test("neighbors and queries running at the same time agree with serial runs")
  func neighborsAlongsideQueries() async throws {
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let index = try Self.makeIndex(.mapped, in: directory)
    let expectedGraph = try index.neighbors(count: 5)
    let queries = Array(Self.queries().prefix(200))
    let expected = try queries.map { try Self.answer($0, on: index) }

    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<2 {
        group.addTask {
          let graph = try index.neighbors(count: 5)
          for row in 0..<graph.rows { #expect(graph[row] == expectedGraph[row]) }
        }
      }
      for task in 0..<6 {
        group.addTask {
          for number in stride(from: task, to: queries.count, by: 6) {
            let answer = try Self.answer(queries[number], on: index)
            #expect(answer == expected[number])
          }
        }
      }
      try await group.waitForAll()
    }
  }
}
