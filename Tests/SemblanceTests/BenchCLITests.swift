import Foundation
import Testing

@testable import Semblance

/// `semblance-bench generate` and `relevance` end to end: the built binary (next to
/// `semblance`) is run and its output, stderr and exit status checked.
@Suite("semblance-bench: generate and relevance")
struct BenchCLITests {
  static func bench() throws -> URL {
    try CLI.executable().deletingLastPathComponent().appendingPathComponent("semblance-bench")
  }

  static func run(_ arguments: String...) throws -> CLIResult {
    try CLI.run(arguments, executable: try bench())
  }

  static func records(_ path: String) throws -> [[String: String]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
      try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
    }
  }

  /// The default corpus is the one the Docs/Benchmarks.md tables were measured on: the first
  /// 200 papers of `generate --documents 34000` (its checksum taken before `--subtopics`
  /// existed). A corpus of N papers is a prefix of a larger one.
  @Test func defaultOutputIsUnchanged() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("g.jsonl").path
      let result = try Self.run("generate", "--documents", "200", "-o", path)
      expectExit(result, 0)
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      #expect(bytes.count == 242_124)
      #expect(CRC32.checksum(bytes) == 0x3D85_085B)
      #expect(try Self.records(path).allSatisfy { $0["subtopic"] == nil })
    }
  }

  @Test func subtopicsAddPhrasesAndASubtopicField() throws {
    try withTemporaryDirectory { directory in
      let plain = directory.appendingPathComponent("plain.jsonl").path
      let first = directory.appendingPathComponent("a.jsonl").path
      let second = directory.appendingPathComponent("b.jsonl").path
      expectExit(try Self.run("generate", "--documents", "300", "--topics", "6", "-o", plain), 0)
      for path in [first, second] {
        expectExit(
          try Self.run(
            "generate", "--documents", "300", "--topics", "6", "--subtopics", "3", "-o", path), 0)
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: first))
        == Data(contentsOf: URL(fileURLWithPath: second)))
      let records = try Self.records(first)
      #expect(records.count == 300)
      var subtopics = Set<String>()
      for record in records {
        let label = try #require(record["label"])
        let subtopic = try #require(record["subtopic"])
        #expect(subtopic.hasPrefix(label + "."))
        let number = try #require(Int(subtopic.dropFirst(label.count + 1)))
        #expect((0..<3).contains(number))
        subtopics.insert(subtopic)
      }
      #expect(subtopics.count == 18)
      // Labels and mixtures come first in each paper's stream, so they match the plain corpus.
      #expect(records.map { $0["label"] } == (try Self.records(plain)).map { $0["label"] })
      let invalid = try Self.run("generate", "--documents", "5", "--subtopics", "-1", "-o", plain)
      expectExit(invalid, 64)
      #expect(invalid.stderr.contains("--subtopics"))
    }
  }

  /// On a generated corpus the hybrid ranking draws from deeper LSA candidates than LSA's
  /// top 10, and the IVF must probe more lists for `neighbors` to agree with `--exact`.
  @Test func ivfIsCalibratedOnTheDefaultRanking() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("g.jsonl").path
      expectExit(try Self.run("generate", "--documents", "3000", "--topics", "12", "-o", path), 0)
      let papers = try Corpus.read(contentsOf: URL(fileURLWithPath: path))
      var configuration = IndexConfiguration.default
      configuration.dimensions = 48
      configuration.approximateSearch = .always
      let index = try PaperIndex(papers, configuration: configuration)
      let ivf = try #require(index.approximateIndex)
      let lsaOnly = try IVFNeighborIndex(index.embeddings, configuration: .init(seed: 0))
      #expect(ivf.nprobe > lsaOnly.nprobe, "the ranking needs more lists than LSA's top 10")

      func recalls(_ graph: NeighborGraph, against exact: NeighborGraph) -> [Double] {
        (0..<exact.rows).filter { !exact[$0].isEmpty }.map { row in
          let expected = Set(exact[row].map(\.position))
          return Double(graph[row].filter { expected.contains($0.position) }.count)
            / Double(expected.count)
        }
      }
      let exact = try index.neighbors(count: 10, exact: true)
      let graph = recalls(try index.neighbors(count: 10), against: exact)
      #expect(graph.reduce(0, +) / Double(graph.count) >= 0.95)
      // With LSA's nprobe, the ranking's lists agree less.
      configuration.nprobe = lsaOnly.nprobe
      let lsaProbed = try PaperIndex(papers, configuration: configuration)
      let fewer = recalls(try lsaProbed.neighbors(count: 10), against: exact)
      #expect(IVFNeighborIndex.recallEstimate(fewer).lowerBound < 0.95)
    }
  }

  @Test func relevancePrintsPrecisionPerAlpha() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("g.jsonl").path
      expectExit(
        try Self.run("generate", "--documents", "400", "--topics", "4", "--subtopics", "2", "-o", path), 0)
      let result = try Self.run(
        "relevance", "--corpus", path, "--alphas", "1,0.5,0", "--dimensions", "16", "--json")
      expectQuietSuccess(result)
      let object = try #require(
        try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any])
      #expect(object["papers"] as? Int == 400)
      #expect(object["labels"] as? Int == 4)
      let rows = try #require(object["rows"] as? [[String: Any]])
      // LSA once, then each α without feedback and with the default feedback.
      #expect(rows.compactMap { ($0["alpha"] as? NSNumber)?.doubleValue } == [1, 0.5, 0.5, 0, 0])
      #expect(rows.map { $0["feedback"] as? Int } == [nil, nil, 10, nil, 10])
      #expect(rows.map { ($0["feedbackWeight"] as? NSNumber)?.doubleValue } == [nil, nil, 1, nil, 1])
      #expect(rows[0]["candidates"] == nil)
      #expect(rows[1]["candidates"] as? Int == 100)
      for row in rows {
        let precision = try #require((row["precision"] as? NSNumber)?.doubleValue)
        #expect(precision > 0.25 && precision <= 1)
      }

      let table = try Self.run(
        "relevance", "--corpus", path, "--alphas", "1,0.5", "--feedback", "0,5",
        "--feedback-weights", "0.5,1", "--dimensions", "16")
      expectExit(table, 0)
      #expect(table.stdout.contains("LSA (α = 1)"))
      #expect(table.stdout.contains("hybrid α = 0.50 "))
      #expect(table.stdout.contains("hybrid α = 0.50, feedback 5 × 0.50"))
      #expect(table.stdout.contains("hybrid α = 0.50, feedback 5 × 1.00"))
    }
  }

  @Test func relevanceRejectsUnlabelledCorporaAndBadAlphas() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("u.jsonl").path
      try #"{"id":"a","title":"one","abstract":"alpha beta"}"#.write(
        toFile: path, atomically: true, encoding: .utf8)
      let unlabelled = try Self.run("relevance", "--corpus", path)
      #expect(unlabelled.status != 0 && !unlabelled.signalled)
      #expect(unlabelled.stderr.contains("label"))
      let bad = try Self.run("relevance", "--corpus", path, "--alphas", "1,2")
      expectExit(bad, 64)
      #expect(bad.stderr.contains("--alphas"))
    }
  }

  @Test func analyzeTimesTheFitsAndRejectsBadRepeats() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("g.jsonl").path
      expectExit(try Self.run("generate", "--documents", "300", "-o", path), 0)
      let result = try Self.run("analyze", "--corpus", path, "--repeat", "2", "--json")
      expectExit(result, 0)
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
      #expect((object["papers"] as? NSNumber)?.intValue == 300)
      #expect(((object["terms"] as? NSNumber)?.intValue ?? 0) > 100)
      #expect((object["seconds"] as? [Any])?.count == 2)
      #expect(((object["megabytesPerSecond"] as? NSNumber)?.doubleValue ?? 0) > 0)
      let table = try Self.run("analyze", "--corpus", path, "--repeat", "1")
      expectExit(table, 0)
      #expect(table.stdout.contains("MB/s"))
      let bad = try Self.run("analyze", "--corpus", path, "--repeat", "0")
      expectExit(bad, 64)
      #expect(bad.stderr.contains("--repeat"))
      let missing = try Self.run("analyze", "--corpus", directory.appendingPathComponent("none.jsonl").path)
      #expect(missing.status == 1 && !missing.signalled)
      #expect(missing.stderr.contains("none.jsonl"))
    }
  }
}
