import Foundation
import Testing

/// The `semblance` executable end to end: what each command prints, and that the files it
/// exports agree with scikit-learn.
@Suite("CLI commands")
struct CLITests {
  /// The two shared indexes of the bundled corpus.
  enum Kind: String, CaseIterable, CustomTestStringConvertible {
    case sklearnCompatible, standard
    var testDescription: String { rawValue }
    func url() throws -> URL {
      let indexes = try CLISharedIndexes.get()
      return self == .standard ? indexes.standard : indexes.sklearnCompatible
    }
  }

  // MARK: demo

  @Test("demo shows related papers and searches, and nothing on stderr")
  func demo() throws {
    let result = try CLI.run(["demo"])
    expectQuietSuccess(result)
    let blocks = paragraphs(result.stdout)

    let miniGPT = try #require(blocks.first { $0.hasPrefix("Related to [18] MiniGPT-4") })
    #expect(tableRows(miniGPT).contains { $0.id == "49" && $0.title.hasPrefix("ArtGPT-4") })

    let timeSeries = try #require(
      blocks.first { $0.hasPrefix("Search \"time series forecasting\"") })
    let ids = Set(tableRows(timeSeries).map(\.id))
    #expect(ids.intersection(["27", "57", "69"]).count >= 2, "\(timeSeries)")
    #expect(blocks.contains { $0.hasPrefix("Search \"robot manipulation from video\"") })
  }

  // MARK: scikit-learn parity

  @Test("export of a --sklearn-compatible index matches scikit-learn entry by entry")
  func sklearnParityThroughExport() throws {
    let index = try Kind.sklearnCompatible.url()
    try withTemporaryDirectory { directory in
      let result = try CLI.run(
        [
          "export", index.path, "--tfidf", "X.mtx", "--vocabulary", "V.txt", "--ids", "I.txt",
          "--embeddings", "E.npy",
        ], in: directory)
      expectQuietSuccess(result)
      #expect(result.stdout.isEmpty)
      let fixture = try TestSupport.csr("tfidf_sklearn.json")

      // V.txt: the vocabulary, one term per line, in scikit-learn's order.
      let vocabulary = ExportReaders.lines(
        try String(contentsOf: directory.appendingPathComponent("V.txt"), encoding: .utf8))
      #expect(vocabulary == fixture.vocabulary)

      // I.txt: the ids of the papers-page corpus are "1" ... "81".
      let ids = ExportReaders.lines(
        try String(contentsOf: directory.appendingPathComponent("I.txt"), encoding: .utf8))
      #expect(ids == (1...81).map(String.init))

      // X.mtx: every stored entry equals scikit-learn's, and nothing else is stored.
      let matrix = try ExportReaders.matrixMarket(
        try String(contentsOf: directory.appendingPathComponent("X.mtx"), encoding: .utf8))
      #expect(matrix.header == "%%MatrixMarket matrix coordinate real general")
      #expect(matrix.rows == 81 && matrix.columns == fixture.vocabulary.count)
      var expected: [Int: Double] = [:]  // row * columns + column → value
      for row in 0..<(fixture.indptr.count - 1) {
        for entry in fixture.indptr[row]..<fixture.indptr[row + 1] {
          expected[row * matrix.columns + fixture.indices[entry]] = fixture.data[entry]
        }
      }
      #expect(matrix.entries.count == expected.count)
      var seen = Set<Int>()
      var mismatches: [String] = []
      for (row, column, value) in matrix.entries {
        let key = row * matrix.columns + column
        // The matrix is Float32; 1e-5 leaves room for its rounding and the printed digits.
        if !seen.insert(key).inserted {
          mismatches.append("(\(row + 1), \(column + 1)) stored twice")
        } else if let reference = expected[key] {
          if abs(value - reference) > 1e-5 {
            mismatches.append("(\(row + 1), \(column + 1)): \(value) vs scikit-learn \(reference)")
          }
        } else {
          mismatches.append("(\(row + 1), \(column + 1)) = \(value) is zero in scikit-learn")
        }
      }
      #expect(mismatches.isEmpty, "\(mismatches.count) bad entries: \(mismatches.prefix(10))")
      #expect(seen.count == expected.count)

      // E.npy: NPY 1.0, float32, C order, (81, 20), unit rows.
      let npy = try ExportReaders.numPy(
        try Data(contentsOf: directory.appendingPathComponent("E.npy")))
      #expect(npy.major == 1 && npy.minor == 0)
      #expect(npy.compactHeader.contains("'descr':'<f4'"), "\(npy.compactHeader)")
      #expect(npy.compactHeader.contains("'fortran_order':False"), "\(npy.compactHeader)")
      #expect(npy.compactHeader.contains("'shape':(81,20)"), "\(npy.compactHeader)")
      #expect(npy.headerLength % 64 == 0, "header is \(npy.headerLength) bytes")
      #expect(npy.payload.count == 81 * 20 * 4)
      let values = ExportReaders.float32s(npy.payload)
      #expect(values.allSatisfy { $0.isFinite })
      for row in 0..<(values.count / 20) {
        let norm = values[(row * 20)..<(row * 20 + 20)].reduce(0) { $0 + Double($1) * Double($1) }
          .squareRoot()
        #expect(abs(norm - 1) <= 1e-4, "row \(row) has norm \(norm)")
      }
    }
  }

  @Test("info --json of a --sklearn-compatible index matches scipy's singular values")
  func sklearnParityThroughInfo() throws {
    let result = try CLI.run(["info", try Kind.sklearnCompatible.url().path, "--json"])
    expectQuietSuccess(result)
    let info = try #require(
      try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any])
    #expect(info["documents"] as? Int == 81)
    #expect(info["terms"] as? Int == 3139)
    #expect(info["dimensions"] as? Int == 20)
    #expect(info["emptyDocuments"] as? Int == 0)
    #expect(info["explainedVariance"] is NSNumber)
    let singular = try #require(info["singularValues"] as? [Double])
    let fixture = try #require(
      try TestSupport.json("svd_sklearn_compatible.json") as? [String: Any])
    let reference = try #require(fixture["singular_values"] as? [Double])
    let largest = try #require(reference.max())
    #expect(singular.count == 20)
    for (value, expected) in zip(singular, reference) {
      // DESIGN §4: singular values agree with scipy's exact SVD to 1e-3 relative.
      #expect(abs(value - expected) <= 1e-3 * largest, "\(value) vs scipy \(expected)")
    }
  }

  // MARK: related and search

  @Test("related ID prints a table that lists ArtGPT-4 for MiniGPT-4", arguments: Kind.allCases)
  func relatedTable(kind: Kind) throws {
    let result = try CLI.run(["related", try kind.url().path, "18", "-k", "5"])
    expectQuietSuccess(result)
    #expect(result.stdout.hasPrefix("related to 18: MiniGPT-4"), "\(result)")
    let rows = tableRows(result.stdout)
    #expect(rows.map(\.rank) == [1, 2, 3, 4, 5])
    #expect(rows.contains { $0.id == "49" && $0.title.hasPrefix("ArtGPT-4") }, "\(result)")
    #expect(!rows.contains { $0.id == "18" })
  }

  @Test("related --json follows the contract", arguments: Kind.allCases)
  func relatedJSON(kind: Kind) throws {
    let result = try CLI.run(["related", try kind.url().path, "18", "-k", "5", "--json"])
    expectQuietSuccess(result)
    let response = try QueryResponse.decode(result)
    #expect(response.query == "18")
    try response.expectRankedResults(count: 5)
    #expect(response.results.contains { $0.id == "49" && $0.title.hasPrefix("ArtGPT-4") })
    #expect(!response.results.contains { $0.id == "18" })
  }

  @Test("search --json finds the time-series papers", arguments: Kind.allCases)
  func searchJSON(kind: Kind) throws {
    let text = "time series forecasting"
    let result = try CLI.run(["search", try kind.url().path, text, "-k", "5", "--json"])
    expectQuietSuccess(result)
    let response = try QueryResponse.decode(result)
    #expect(response.query == text)
    try response.expectRankedResults(count: 5)
    let ids = Set(response.results.map(\.id))
    #expect(ids.intersection(["27", "57", "69"]).count >= 2, "\(response.results)")
  }

  @Test("search prints a table", arguments: Kind.allCases)
  func searchTable(kind: Kind) throws {
    let result = try CLI.run(["search", try kind.url().path, "time series forecasting", "-k", "3"])
    expectQuietSuccess(result)
    let rows = tableRows(result.stdout)
    #expect(rows.map(\.rank) == [1, 2, 3])
    #expect(Set(rows.map(\.id)).intersection(["27", "57", "69"]).count >= 2, "\(result)")
  }

  // MARK: title fragments

  @Test(
    "related accepts a unique title fragment, in any case",
    arguments: ["sansformers", "SANSformers", "sansFORMERS"])
  func uniqueTitleFragment(fragment: String) throws {
    let index = try Kind.sklearnCompatible.url().path
    let json = try CLI.run(["related", index, fragment, "-k", "5", "--json"])
    expectQuietSuccess(json)
    let response = try QueryResponse.decode(json)
    #expect(response.query == fragment)
    try response.expectRankedResults(count: 5)
    #expect(!response.results.contains { $0.id == "1" })

    let table = try CLI.run(["related", index, fragment, "-k", "5"])
    expectQuietSuccess(table)
    #expect(table.stdout.hasPrefix("related to 1: SANSformers"), "\(table)")
  }

  @Test(
    "an ambiguous title fragment fails and lists only true candidates",
    arguments: ["generative", "GPT", "pre-trained"])
  func ambiguousTitleFragment(fragment: String) throws {
    let records = try #require(try TestSupport.json("corpus.json") as? [[String: String]])
    let matching = records.filter { $0["title"]!.lowercased().contains(fragment.lowercased()) }
      .map { $0["id"]! }
    #expect(matching.count > 1)

    let result = try CLI.run(["related", try Kind.sklearnCompatible.url().path, fragment])
    expectFailure(result, mentioning: [fragment])
    // Candidate lines are "  <id>\t<title>".
    let listed = result.stderr.split(separator: "\n").dropFirst().compactMap { line in
      line.split(separator: "\t", maxSplits: 1).first.map {
        $0.trimmingCharacters(in: .whitespaces)
      }
    }
    #expect(listed.count >= 2, "\(result)")
    #expect(Set(listed).isSubset(of: matching), "\(listed) vs \(matching)")
    if listed.count == matching.count {
      #expect(listed == matching)
    }
    // Whatever count the message states must be the true one.
    let firstLine = String(result.stderr.prefix { $0 != "\n" })
    if let stated = firstLine.firstMatch(of: #/matches (\d+) titles/#) {
      #expect(Int(stated.1) == matching.count, "\(firstLine): \(matching.count) titles match")
    }
  }

  @Test("an unknown id fails and names it", arguments: ["nosuchpaper", "xyzzy-9999"])
  func unknownID(id: String) throws {
    let result = try CLI.run(["related", try Kind.sklearnCompatible.url().path, id])
    expectFailure(result, mentioning: ["\"\(id)\""])
  }

  // MARK: help

  /// The root command and every subcommand, as Docs/CommandLine.md documents them.
  static let helpCommands: [[String]] = [
    [], ["demo"], ["index"], ["info"], ["related"], ["search"], ["neighbors"], ["cluster"],
    ["add"], ["export"],
  ]

  @Test("--help prints usage to stdout and exits 0", arguments: helpCommands)
  func help(subcommand: [String]) throws {
    for arguments in [subcommand + ["--help"], subcommand + ["-h"], ["help"] + subcommand] {
      let result = try CLI.run(arguments)
      expectQuietSuccess(result)
      #expect(result.stdout.contains("USAGE: semblance"), "\(result)")
      if let name = subcommand.first {
        #expect(result.stdout.contains("USAGE: semblance \(name)"), "\(result)")
      }
    }
  }

  @Test("--help shows at least one example of its own command", arguments: helpCommands)
  func helpExamples(subcommand: [String]) throws {
    let result = try CLI.run(subcommand + ["--help"])
    expectQuietSuccess(result)
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let heading = try #require(
      lines.firstIndex { $0 == "Example:" || $0 == "Examples:" }, "no Example heading: \(result)")
    // The lines under the heading, up to the next blank line, are invocations of this command.
    let examples = lines[(heading + 1)...].prefix { !$0.isEmpty }
    let invocation = (["semblance"] + subcommand).joined(separator: " ")
    #expect(!examples.isEmpty, "\(result)")
    for example in examples {
      #expect(example.hasPrefix("  semblance "), "\(example)")
      if !subcommand.isEmpty {
        #expect(example.hasPrefix("  \(invocation)"), "\(example)")
      }
    }
  }

  @Test("the root help lists every subcommand")
  func helpListsSubcommands() throws {
    let result = try CLI.run(["--help"])
    expectQuietSuccess(result)
    for name in Self.helpCommands.compactMap(\.first) {
      #expect(result.stdout.contains("\n  \(name) "), "\(name) missing: \(result)")
    }
  }

  @Test("semblance with no arguments prints its usage")
  func noArguments() throws {
    let result = try CLI.run([])
    expectQuietSuccess(result)
    #expect(result.stdout.contains("USAGE: semblance"), "\(result)")
    #expect(result.stdout.contains("SUBCOMMANDS"), "\(result)")
  }

  @Test("--version prints the version")
  func version() throws {
    let result = try CLI.run(["--version"])
    expectQuietSuccess(result)
    #expect(result.stdout.split(separator: ".").count == 3, "\(result)")
  }

  // MARK: determinism

  @Test("the same corpus and seed give the same index bytes and the same info")
  func deterministic() throws {
    try withTemporaryDirectory { directory in
      let corpus = TestSupport.bundledCorpus.path
      for name in ["a.idx", "b.idx"] {
        expectExit(try CLI.run(["index", corpus, "-o", name], in: directory), 0)
      }
      let first = try Data(contentsOf: directory.appendingPathComponent("a.idx"))
      let second = try Data(contentsOf: directory.appendingPathComponent("b.idx"))
      let sameBytes = first == second
      #expect(sameBytes, "two runs wrote different index files")

      let infos = try (0..<2).map { _ in try CLI.run(["info", "a.idx", "--json"], in: directory) }
      infos.forEach { expectQuietSuccess($0) }
      let sameInfo = infos[0].stdout == infos[1].stdout
      #expect(sameInfo, "info --json differs between runs")
    }
  }
}

// MARK: - Reading the output

/// Blocks of text separated by blank lines.
private func paragraphs(_ text: String) -> [String] {
  text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .newlines) }
}

/// The rows of the human-readable result table: `rank  score  id  title`.
private func tableRows(_ text: String) -> [(rank: Int, score: Double, id: String, title: String)] {
  text.split(separator: "\n").compactMap { line in
    let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
    guard fields.count == 4, let rank = Int(fields[0]), let score = Double(fields[1]) else {
      return nil
    }
    return (rank, score, String(fields[2]), fields[3].trimmingCharacters(in: .whitespaces))
  }
}

/// The JSON of `related` and `search` (DESIGN §6).
private struct QueryResponse: Decodable {
  struct Result: Decodable {
    var rank: Int
    var id: String
    var title: String
    var score: Double
  }
  var query: String
  var results: [Result]

  static func decode(_ result: CLIResult) throws -> QueryResponse {
    try JSONDecoder().decode(QueryResponse.self, from: result.standardOutput)
  }

  /// `count` results ranked 1...count, best score first, distinct ids.
  func expectRankedResults(count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(results.count == count, sourceLocation: sourceLocation)
    #expect(results.map(\.rank) == Array(1...count), sourceLocation: sourceLocation)
    let scores = results.map(\.score)
    #expect(scores == scores.sorted(by: >), "\(scores)", sourceLocation: sourceLocation)
    #expect(scores.allSatisfy { $0.isFinite }, sourceLocation: sourceLocation)
    #expect(Set(results.map(\.id)).count == count, sourceLocation: sourceLocation)
    #expect(results.allSatisfy { !$0.title.isEmpty }, sourceLocation: sourceLocation)
  }
}
