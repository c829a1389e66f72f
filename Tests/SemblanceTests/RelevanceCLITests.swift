import Foundation
import Testing

@testable import Semblance

/// `semblance` end to end for explain, add, topics and the analysis options: the built
/// binary is run and its stdout, stderr and exit status checked.
@Suite("CLI: relevance and growth")
struct RelevanceCLITests {
  static func run(_ arguments: String...) throws -> CLIResult { try CLI.run(arguments) }

  static func json(_ result: CLIResult) throws -> [String: Any] {
    expectExit(result, 0)
    return try #require(
      try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any], "\(result)")
  }

  /// The default-settings index of the bundled corpus, shared by the CLI suites.
  static var seedIndex: String { get throws { try CLISharedIndexes.get().standard.path } }

  static func write(_ contents: String, to directory: URL, _ name: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  // MARK: explain

  @Test func relatedExplainAddsTermsToTheJSON() throws {
    let seed = try Self.seedIndex
    let object = try Self.json(try Self.run("related", seed, "18", "-k", "4", "--json", "--explain"))
    #expect(object["query"] as? String == "18")
    let results = try #require(object["results"] as? [[String: Any]])
    #expect(results.count == 4)
    let index = try PaperIndex(contentsOf: URL(fileURLWithPath: seed))
    for result in results {
      #expect(Set(result.keys) == ["rank", "id", "title", "score", "terms"])
      let terms = try #require(result["terms"] as? [[String: Any]])
      #expect(!terms.isEmpty && terms.count <= 10)
      #expect(terms.allSatisfy { Set($0.keys) == ["term", "weight"] && $0["term"] is String })
      let weights = terms.compactMap { ($0["weight"] as? NSNumber)?.doubleValue }
      #expect(weights.count == terms.count)
      #expect(weights == weights.sorted(by: >))
      let id = try #require(result["id"] as? String)
      let position = try #require(index.position(ofID: id))
      let expected = try index.explain(
        Match(id: id, title: "", score: 0, position: position), for: "18", count: 10)
      #expect(terms.map { $0["term"] as? String } == expected.map(\.term))
    }
    // Without --explain, the contract's four keys only.
    let plain = try Self.json(try Self.run("related", seed, "18", "-k", "2", "--json"))
    let first = try #require((plain["results"] as? [[String: Any]])?.first)
    #expect(Set(first.keys) == ["rank", "id", "title", "score"])
  }

  @Test func searchExplainAddsAnIndentedTermsLine() throws {
    let seed = try Self.seedIndex
    let result = try Self.run("search", seed, "time series forecasting", "-k", "3", "--explain")
    expectQuietSuccess(result)
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 6)
    for (offset, line) in lines.enumerated() {
      if offset % 2 == 1 {
        #expect(line.hasPrefix("     terms: "))
        #expect(line.contains("series"))
      } else {
        #expect(line.hasPrefix("  \(offset / 2 + 1)  "))
      }
    }
    let json = try Self.json(
      try Self.run("search", seed, "time series forecasting", "-k", "2", "--json", "--explain"))
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.allSatisfy { ($0["terms"] as? [[String: Any]])?.isEmpty == false })
  }

  // MARK: add

  @Test func addFoldsPapersInAndRejectsKnownIDs() throws {
    let seed = try Self.seedIndex
    try withTemporaryDirectory { directory in
      let papers = try TestSupport.fixturePapers()
      let lines = try papers.prefix(3).map { paper in
        String(decoding: try JSONSerialization.data(withJSONObject: [
          "id": "new-\(paper.id)", "title": paper.title, "abstract": paper.abstract,
        ]), as: UTF8.self)
      }
      let corpus = try Self.write(lines.joined(separator: "\n") + "\n", to: directory, "new.jsonl")
      let grown = directory.appendingPathComponent("grown.idx").path
      let added = try Self.run("add", seed, corpus, "-o", grown)
      expectExit(added, 0)
      #expect(added.stdout.isEmpty)
      #expect(added.stderr.contains("added 3 papers"))

      let related = try Self.json(try Self.run("related", grown, "new-1", "-k", "3", "--json"))
      let ids = (related["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
      #expect(ids?.first == "1")  // the same text as paper 1
      let info = try Self.json(try Self.run("info", grown, "--json"))
      #expect(info["documents"] as? Int == 84)
      #expect(info["foldedIn"] as? Int == 3)
      let seedInfo = try Self.json(try Self.run("info", seed, "--json"))
      #expect(info["terms"] as? Int == seedInfo["terms"] as? Int)

      // An id already in the index: exit 1, the id named, nothing written.
      let clash = try Self.write(
        #"{"id": "new-2", "title": "Again", "abstract": "A repeat."}"# + "\n", to: directory,
        "clash.jsonl")
      let rejected = directory.appendingPathComponent("rejected.idx").path
      expectFailure(try Self.run("add", grown, clash, "-o", rejected), mentioning: ["\"new-2\""])
      #expect(!FileManager.default.fileExists(atPath: rejected))
      // Repeated ids within the new corpus are the corpus reader's error, with their lines.
      let twice = try Self.write(
        """
        {"id": "a", "title": "One", "abstract": "First."}
        {"id": "a", "title": "Two", "abstract": "Second."}

        """, to: directory, "twice.jsonl")
      expectFailure(try Self.run("add", seed, twice, "-o", rejected), mentioning: ["'a'", "line 2"])
      // A missing -o is a usage error.
      expectUsageError(try Self.run("add", seed, corpus))
    }
  }

  // MARK: info --topics

  @Test func infoShowsTopics() throws {
    let seed = try Self.seedIndex
    let json = try Self.json(
      try Self.run("info", seed, "--json", "--topics", "3", "--topic-terms", "4"))
    let topics = try #require(json["topics"] as? [[String: Any]])
    #expect(topics.map { $0["component"] as? Int } == [0, 1, 2])
    for topic in topics {
      let positive = try #require(topic["positive"] as? [[String: Any]])
      #expect(positive.count == 4)
      #expect(positive.allSatisfy { $0["term"] is String && (($0["weight"] as? Double) ?? 0) > 0 })
      #expect(topic["negative"] is [[String: Any]])
      #expect(topic["singularValue"] is Double)
    }
    #expect(try Self.json(try Self.run("info", seed, "--json"))["topics"] == nil)
    let text = try Self.run("info", seed, "--topics", "2")
    expectQuietSuccess(text)
    #expect(text.stdout.contains("topic 0 (σ"))
    #expect(text.stdout.contains("topic 1 (σ"))
    #expect(!text.stdout.contains("topic 2 (σ"))
    expectUsageError(try Self.run("info", seed, "--topics", "0"))
  }

  // MARK: index --stem / --stop-words

  @Test func indexStemsAndReadsStopWordFiles() throws {
    try withTemporaryDirectory { directory in
      let corpus = TestSupport.bundledCorpus.path
      let stopWords = try Self.write("# custom list\nthe\nof\nmodels\n", to: directory, "stop.txt")
      let output = directory.appendingPathComponent("stemmed.idx").path
      expectExit(
        try Self.run(
          "index", corpus, "-o", output, "--stem", "--stop-words", stopWords, "--max-terms", "5000"),
        0)
      let info = try Self.json(try Self.run("info", output, "--json"))
      let configuration = try #require(info["configuration"] as? [String: Any])
      #expect(configuration["stemmer"] as? String == "porter")
      #expect(configuration["stopWords"] as? [String] == ["models", "of", "the"])
      #expect(info["terms"] as? Int == 5000)
      #expect(try Self.run("info", output).stdout.contains("3 stop words, Porter stemming"))
      // Queries are analysed like the corpus: "forecasted" meets "forecasting".
      let hits = try Self.json(
        try Self.run("search", output, "forecasted", "-k", "3", "--json", "--explain"))
      let terms = (hits["results"] as? [[String: Any]])?.first?["terms"] as? [[String: Any]]
      #expect(terms?.first?["term"] as? String == "forecast")

      expectFailure(
        try Self.run("index", corpus, "-o", output, "--stop-words", "/nonexistent/stop.txt"),
        mentioning: ["/nonexistent/stop.txt"])
      expectUsageError(
        try Self.run("index", corpus, "-o", output, "--stop-words", stopWords, "--no-stop-words"))
    }
  }
}
