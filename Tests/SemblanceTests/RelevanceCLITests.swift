import Foundation
import Testing

@testable import Semblance

/// `semblance` end to end for explain, add, topics and the analysis options: the built
/// binary is run and its stdout, stderr and exit status checked.
@Suite("CLI: relevance and growth", .serialized)
struct RelevanceCLITests {
  struct Run {
    var status: Int32
    var stdout: String
    var stderr: String

    func json() throws -> [String: Any] {
      try #require(
        try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "\(stdout)")
    }
  }

  /// The `semblance` executable beside the test bundle.
  static let executable: URL? = {
    var candidates: [URL] = []
    if let runner = Bundle.main.executableURL {
      candidates.append(runner.deletingLastPathComponent().appendingPathComponent("semblance"))
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("semblance"))
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("semblance"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }()

  static func run(_ arguments: String...) throws -> Run {
    let executable = try #require(Self.executable, "the semblance binary was not built")
    let directory = try TestSupport.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationReason == .exit, "semblance ended with a signal")
    return Run(
      status: process.terminationStatus,
      stdout: try String(contentsOf: out, encoding: .utf8),
      stderr: try String(contentsOf: err, encoding: .utf8))
  }

  /// A scratch directory with the seed corpus indexed as `seed.idx`.
  static let workspace: URL = {
    let directory = try! TestSupport.temporaryDirectory()
    let result = try! run(
      "index", TestSupport.bundledCorpus.path, "-o", directory.appendingPathComponent("seed.idx").path)
    precondition(result.status == 0, result.stderr)
    return directory
  }()

  static var seedIndex: String { workspace.appendingPathComponent("seed.idx").path }

  static func file(_ name: String, _ contents: String) throws -> String {
    let url = workspace.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  // MARK: explain

  @Test func relatedExplainAddsTermsToTheJSON() throws {
    let result = try Self.run("related", Self.seedIndex, "18", "-k", "4", "--json", "--explain")
    #expect(result.status == 0, "\(result.stderr)")
    let object = try result.json()
    #expect(object["query"] as? String == "18")
    let results = try #require(object["results"] as? [[String: Any]])
    #expect(results.count == 4)
    let index = try PaperIndex(contentsOf: URL(fileURLWithPath: Self.seedIndex))
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
    // Without --explain the contract's four keys only.
    let plain = try Self.run("related", Self.seedIndex, "18", "-k", "2", "--json").json()
    let first = try #require((plain["results"] as? [[String: Any]])?.first)
    #expect(Set(first.keys) == ["rank", "id", "title", "score"])
  }

  @Test func searchExplainAddsAnIndentedTermsLine() throws {
    let result = try Self.run("search", Self.seedIndex, "time series forecasting", "-k", "3", "--explain")
    #expect(result.status == 0)
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
    let json = try Self.run("search", Self.seedIndex, "time series forecasting", "-k", "2", "--json", "--explain").json()
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.allSatisfy { ($0["terms"] as? [[String: Any]])?.isEmpty == false })
  }

  @Test func anAmbiguousTitleFragmentListsTheCandidates() throws {
    let result = try Self.run("related", Self.seedIndex, "generative")
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("error: \"generative\" matches"))
    let candidates = result.stderr.split(separator: "\n").dropFirst()
    #expect(candidates.count >= 2)
    #expect(candidates.allSatisfy { $0.lowercased().contains("generative") })
  }

  // MARK: add

  @Test func addFoldsPapersInAndRejectsKnownIDs() throws {
    let papers = try TestSupport.fixturePapers()
    let lines = papers.prefix(3).map { paper in
      String(decoding: try! JSONSerialization.data(withJSONObject: [
        "id": "new-\(paper.id)", "title": paper.title, "abstract": paper.abstract,
      ]), as: UTF8.self)
    }
    let corpus = try Self.file("new.jsonl", lines.joined(separator: "\n") + "\n")
    let grown = Self.workspace.appendingPathComponent("grown.idx").path
    let added = try Self.run("add", Self.seedIndex, corpus, "-o", grown)
    #expect(added.status == 0, "\(added.stderr)")
    #expect(added.stdout.isEmpty)
    #expect(added.stderr.contains("added 3 papers"))

    let related = try Self.run("related", grown, "new-1", "-k", "3", "--json").json()
    let ids = (related["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
    #expect(ids?.first == "1")  // the same text as paper 1
    let info = try Self.run("info", grown, "--json").json()
    #expect(info["documents"] as? Int == 84)
    #expect(info["foldedIn"] as? Int == 3)
    let seedInfo = try Self.run("info", Self.seedIndex, "--json").json()
    #expect(info["terms"] as? Int == seedInfo["terms"] as? Int)

    // An id already in the index: exit 1, the id named, nothing written.
    let clash = try Self.file("clash.jsonl", #"{"id": "new-2", "title": "Again", "abstract": "A repeat."}"# + "\n")
    let rejected = Self.workspace.appendingPathComponent("rejected.idx").path
    let failed = try Self.run("add", grown, clash, "-o", rejected)
    #expect(failed.status == 1)
    #expect(failed.stderr.hasPrefix("error: "))
    #expect(failed.stderr.contains("\"new-2\""))
    #expect(!FileManager.default.fileExists(atPath: rejected))
    // Repeated ids within the new corpus are the corpus reader's error, with lines.
    let twice = try Self.file("twice.jsonl", """
      {"id": "a", "title": "One", "abstract": "First."}
      {"id": "a", "title": "Two", "abstract": "Second."}

      """)
    let repeated = try Self.run("add", Self.seedIndex, twice, "-o", rejected)
    #expect(repeated.status == 1)
    #expect(repeated.stderr.hasPrefix("error: ") && repeated.stderr.contains("'a'"))
    // A missing operand is a usage error.
    #expect(try Self.run("add", Self.seedIndex, corpus).status == 64)
  }

  // MARK: info --topics

  @Test func infoShowsTopics() throws {
    let json = try Self.run("info", Self.seedIndex, "--json", "--topics", "3", "--topic-terms", "4").json()
    let topics = try #require(json["topics"] as? [[String: Any]])
    #expect(topics.count == 3)
    #expect(topics.map { $0["component"] as? Int } == [0, 1, 2])
    for topic in topics {
      let positive = try #require(topic["positive"] as? [[String: Any]])
      #expect(positive.count == 4)
      #expect(positive.allSatisfy { $0["term"] is String && (($0["weight"] as? Double) ?? 0) > 0 })
      #expect(topic["negative"] is [[String: Any]])
      #expect(topic["singularValue"] is Double)
    }
    #expect(try Self.run("info", Self.seedIndex, "--json").json()["topics"] == nil)
    let text = try Self.run("info", Self.seedIndex, "--topics", "2")
    #expect(text.status == 0)
    #expect(text.stdout.contains("topic 0 (σ"))
    #expect(text.stdout.contains("topic 1 (σ"))
    #expect(!text.stdout.contains("topic 2 (σ"))
    #expect(try Self.run("info", Self.seedIndex, "--topics", "0").status == 64)
  }

  // MARK: index --stem / --stop-words

  @Test func indexStemsAndReadsStopWordFiles() throws {
    let stopWords = try Self.file("stop.txt", "# custom list\nthe\nof\nmodels\n")
    let output = Self.workspace.appendingPathComponent("stemmed.idx").path
    let built = try Self.run(
      "index", TestSupport.bundledCorpus.path, "-o", output, "--stem", "--stop-words", stopWords,
      "--max-terms", "5000")
    #expect(built.status == 0, "\(built.stderr)")
    let info = try Self.run("info", output, "--json").json()
    let configuration = try #require(info["configuration"] as? [String: Any])
    #expect(configuration["stemmer"] as? String == "porter")
    #expect(Set(configuration["stopWords"] as? [String] ?? []) == ["the", "of", "models"])
    #expect(info["terms"] as? Int == 5000)
    let text = try Self.run("info", output)
    #expect(text.stdout.contains("3 stop words, Porter stemming"))
    // Queries are analysed like the corpus: "forecasted" meets "forecasting".
    let hits = try Self.run("search", output, "forecasted", "-k", "3", "--json", "--explain").json()
    let terms = (hits["results"] as? [[String: Any]])?.first?["terms"] as? [[String: Any]]
    #expect(terms?.first?["term"] as? String == "forecast")

    let missing = try Self.run(
      "index", TestSupport.bundledCorpus.path, "-o", output, "--stop-words", "/nonexistent/stop.txt")
    #expect(missing.status == 1)
    #expect(missing.stderr.hasPrefix("error: ") && missing.stderr.contains("/nonexistent/stop.txt"))
    let both = try Self.run(
      "index", TestSupport.bundledCorpus.path, "-o", output, "--stop-words", stopWords, "--no-stop-words")
    #expect(both.status == 64)
  }
}
