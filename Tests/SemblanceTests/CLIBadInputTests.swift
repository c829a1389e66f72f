import Foundation
import Testing

/// DESIGN §9 end to end, for the cases CLIErrorTests does not cover: corpora without words,
/// a single paper, identical papers, a 1 MB abstract, more dimensions than the rank, extreme
/// option values, and `neighbors -k` out of range.
@Suite("CLI bad input")
struct CLIBadInputTests {
  static func jsonl(_ papers: [(id: String, title: String, abstract: String)]) -> String {
    papers.map { paper in
      let object = ["id": paper.id, "title": paper.title, "abstract": paper.abstract]
      let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      return String(decoding: data, as: UTF8.self)
    }.joined(separator: "\n") + "\n"
  }

  static let seedPapers = try! TestSupport.fixturePapers()

  static func seed(_ count: Int) -> [(id: String, title: String, abstract: String)] {
    seedPapers.prefix(count).map { ($0.id, $0.title, $0.abstract) }
  }

  @Test("a corpus whose papers have no words fails with a clear error and writes nothing")
  func noWords() throws {
    try withTemporaryDirectory { directory in
      let corpus = Self.jsonl([("1", "", ""), ("2", "a b", "of the"), ("3", " ", "x")])
      try corpus.write(to: directory.appendingPathComponent("blank.jsonl"), atomically: true, encoding: .utf8)
      let result = try CLI.run(["index", "blank.jsonl", "-o", "out.idx"], in: directory)
      expectFailure(result, mentioning: ["none of the 3 paper(s) has a word to index"])
      #expect(directoryListing(directory) == ["blank.jsonl"])
    }
  }

  @Test("a single paper: an error by default, one dimension with --max-df 1")
  func singlePaper() throws {
    try withTemporaryDirectory { directory in
      try Self.jsonl(Self.seed(1)).write(
        to: directory.appendingPathComponent("one.jsonl"), atomically: true, encoding: .utf8)
      let failed = try CLI.run(["index", "one.jsonl", "-o", "one.idx"], in: directory)
      expectFailure(failed, mentioning: ["no terms are left", "--max-df"])

      let built = try CLI.run(["index", "one.jsonl", "-o", "one.idx", "--max-df", "1"], in: directory)
      expectExit(built, 0)
      let info = try CLI.run(["info", "one.idx", "--json"], in: directory)
      expectQuietSuccess(info)
      let report = try #require(
        try JSONSerialization.jsonObject(with: info.standardOutput) as? [String: Any])
      #expect(report["documents"] as? Int == 1)
      #expect(report["dimensions"] as? Int == 1)
      #expect((report["notes"] as? [String])?.contains { $0.contains("clamped from 128 to 1") } == true)

      let related = try CLI.run(["related", "one.idx", "1", "-k", "1", "--json"], in: directory)
      expectQuietSuccess(related)
      #expect(related.stdout.contains(#""results":[]"#))
      let search = try CLI.run(["search", "one.idx", Self.seedPapers[0].title, "--json", "-k", "1"], in: directory)
      expectQuietSuccess(search)
      #expect(search.stdout.contains(#""id":"1""#))
    }
  }

  @Test("two identical papers are each other's best match, scored 1")
  func identicalPapers() throws {
    let paper = Self.seedPapers[17]
    var papers = Self.seed(20)
    papers.append(("twin", paper.title, paper.abstract))
    try withTemporaryDirectory { directory in
      try Self.jsonl(papers).write(
        to: directory.appendingPathComponent("twins.jsonl"), atomically: true, encoding: .utf8)
      expectExit(try CLI.run(["index", "twins.jsonl", "-o", "twins.idx"], in: directory), 0)
      let related = try CLI.run(["related", "twins.idx", "twin", "-k", "1", "--json"], in: directory)
      expectQuietSuccess(related)
      let object = try #require(
        try JSONSerialization.jsonObject(with: related.standardOutput) as? [String: Any])
      let first = try #require((object["results"] as? [[String: Any]])?.first)
      #expect(first["id"] as? String == paper.id)
      #expect(abs((first["score"] as? Double ?? 0) - 1) < 1e-4)
    }
  }

  @Test("a 1 MB abstract is indexed, queried and reported")
  func megabyteAbstract() throws {
    let words = Self.seedPapers.prefix(5).flatMap { $0.abstract.split(separator: " ") }
    var abstract = ""
    var position = 0
    while abstract.utf8.count < 1 << 20 {
      abstract += words[(position * 7919) % words.count] + " "
      position += 1
    }
    var papers = Self.seed(10)
    papers.append(("long", "A very long abstract", abstract))
    try withTemporaryDirectory { directory in
      try Self.jsonl(papers).write(
        to: directory.appendingPathComponent("long.jsonl"), atomically: true, encoding: .utf8)
      expectExit(try CLI.run(["index", "long.jsonl", "-o", "long.idx"], in: directory), 0)
      expectQuietSuccess(try CLI.run(["related", "long.idx", "long", "-k", "3"], in: directory))
      let info = try CLI.run(["info", "long.idx", "--json"], in: directory)
      expectQuietSuccess(info)
      #expect(info.stdout.contains(#""documents":11"#))
    }
  }

  @Test("more dimensions than the corpus allows are clamped, and info says so")
  func dimensionsClamped() throws {
    try withTemporaryDirectory { directory in
      try Self.jsonl(Self.seed(6)).write(
        to: directory.appendingPathComponent("six.jsonl"), atomically: true, encoding: .utf8)
      expectExit(
        try CLI.run(["index", "six.jsonl", "-o", "six.idx", "--dimensions", "500"], in: directory), 0)
      let info = try CLI.run(["info", "six.idx"], in: directory)
      expectQuietSuccess(info)
      #expect(info.stdout.contains("dimensions clamped from 500 to 5"), "\(info)")
    }
  }

  /// Options for `index`, and the status they must end with (0, or 1 / 64 for an error).
  static let extremeOptionCases: [([String], Int32)] = [
    (["--title-weight", "3000000000"], 0), (["--title-weight", "0"], 1),
    (["--dimensions", "0"], 1), (["--max-df", "0"], 1), (["--max-df", "1.5"], 1),
    (["--min-df", "1000000"], 1), (["--max-terms", "1"], 0), (["--alpha", "2"], 1),
    (["--feedback", "-1"], 1), (["--feedback-weight", "1.5"], 1),
    (["--feedback", "0", "--feedback-weight", "0.5"], 1), (["--feedback", "100"], 0),
    (["--feedback", "3", "--feedback-weight", "1"], 0),
  ]

  @Test("extreme option values fail cleanly or work, never with a signal",
    arguments: extremeOptionCases)
  func extremeOptions(options: [String], status: Int32) throws {
    try withTemporaryDirectory { directory in
      try Self.jsonl(Self.seed(8)).write(
        to: directory.appendingPathComponent("eight.jsonl"), atomically: true, encoding: .utf8)
      let result = try CLI.run(["index", "eight.jsonl", "-o", "eight.idx"] + options, in: directory)
      if status == 0 {
        expectExit(result, 0)
        expectQuietSuccess(try CLI.run(["search", "eight.idx", "language models", "-k", "3"], in: directory))
      } else {
        #expect(!result.signalled, "\(result)")
        #expect(result.status == 1 || result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("error: ") || result.stderr.contains("Usage:"), "\(result)")
        #expect(!directoryListing(directory).contains("eight.idx"))
      }
    }
  }

  @Test("neighbors -k out of range: 0 is a usage error, more than the papers a library error",
    arguments: [("0", Int32(64)), ("-2", 64), ("82", 1), ("100000", 1)])
  func neighborsCount(count: String, status: Int32) throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    let result = try CLI.run(["neighbors", index, "-k", count])
    if status == 64 {
      expectUsageError(result, mentioning: ["-k"])
    } else {
      expectFailure(result, mentioning: [count, "81"])
    }
  }

  // MARK: export: all or nothing

  @Test("an export that fails part-way writes none of its files and changes none")
  func exportAllOrNothing() throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    try withTemporaryDirectory { directory in
      try Data("old ids\n".utf8).write(to: directory.appendingPathComponent("ids.txt"))
      let result = try CLI.run(
        [
          "export", index, "--embeddings", "E.npy", "--vocabulary", "V.txt", "--ids", "ids.txt",
          "--tfidf", "missing/X.mtx",
        ], in: directory)
      expectFailure(result, mentioning: ["missing/X.mtx"])
      #expect(!result.stderr.contains(".export-"), "the message names the destination: \(result)")
      #expect(directoryListing(directory) == ["ids.txt"])
      #expect(try String(contentsOf: directory.appendingPathComponent("ids.txt"), encoding: .utf8) == "old ids\n")
    }
  }

  @Test("an export destination that is a directory is refused before anything is written")
  func exportIntoDirectory() throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    try withTemporaryDirectory { directory in
      try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("folder"), withIntermediateDirectories: false)
      let result = try CLI.run(
        ["export", index, "--embeddings", "E.npy", "--ids", "folder"], in: directory)
      expectFailure(result, mentioning: ["folder", "directory"])
      #expect(directoryListing(directory) == ["folder"])
    }
  }

  @Test("two exports to one file, or an export over the index, are usage errors",
    arguments: [
      ["--ids", "same.txt", "--vocabulary", "same.txt"],
      ["--ids", "same.txt", "--vocabulary", "./same.txt"],
      ["--ids", "copy.idx"],
    ])
  func exportCollisions(options: [String]) throws {
    let good = try Data(contentsOf: try CLISharedIndexes.get().sklearnCompatible)
    try withTemporaryDirectory { directory in
      try good.write(to: directory.appendingPathComponent("copy.idx"))
      let result = try CLI.run(["export", "copy.idx"] + options, in: directory)
      expectUsageError(result)
      #expect(directoryListing(directory) == ["copy.idx"])
      #expect(try Data(contentsOf: directory.appendingPathComponent("copy.idx")) == good)
    }
  }

  @Test("a successful export leaves exactly its files, replacing old ones")
  func exportSuccess() throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    try withTemporaryDirectory { directory in
      try Data("old".utf8).write(to: directory.appendingPathComponent("V.txt"))
      let result = try CLI.run(
        [
          "export", index, "--embeddings", "E.npy", "--tfidf", "X.mtx", "--vocabulary", "V.txt",
          "--ids", "ids.txt",
        ], in: directory)
      expectQuietSuccess(result)
      #expect(directoryListing(directory) == ["E.npy", "V.txt", "X.mtx", "ids.txt"])
      let ids = try String(contentsOf: directory.appendingPathComponent("ids.txt"), encoding: .utf8)
      #expect(ids.split(separator: "\n").count == 81)
      let vocabulary = try String(contentsOf: directory.appendingPathComponent("V.txt"), encoding: .utf8)
      #expect(vocabulary != "old" && !vocabulary.isEmpty)
    }
  }
}
