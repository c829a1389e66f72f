import Foundation
import Testing

/// The `semblance` executable on bad input (DESIGN §6 and §9): every failure exits 1 with
/// `error: …` naming the file (and line), or 64 for usage errors; stdout stays empty; no
/// input ends the process with a signal; and a failed run leaves no file behind.
@Suite("CLI errors")
struct CLIErrorTests {
  // MARK: corpus files

  /// A corpus that `index` must reject.
  struct BadCorpus: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    /// What the message must contain besides the file name.
    var mentions: [String]
    var testDescription: String { name }

    init(_ name: String, _ text: String, mentions: [String]) {
      self.init(name, Array(text.utf8), mentions: mentions)
    }

    init(_ name: String, _ bytes: [UInt8], mentions: [String]) {
      self.name = name
      self.bytes = bytes
      self.mentions = mentions
    }

    static let record1 =
      #"{"id": "a", "title": "Sparse attention", "abstract": "Attention in linear time."}"#
    static let record2 =
      #"{"id": "b", "title": "Dense retrieval", "abstract": "Retrieval with dual encoders."}"#

    static let all: [BadCorpus] = [
      BadCorpus(
        "malformed-line-3.jsonl", "\(record1)\n\(record2)\n{\"id\": \"c\", \"title\": \n",
        mentions: ["line 3"]),
      BadCorpus(
        "missing-abstract.jsonl",
        "\(record1)\n{\"id\": \"b\", \"title\": \"No abstract here\"}\n\(record2)\n",
        mentions: ["abstract", "line 2"]),
      BadCorpus(
        "invalid-utf8.jsonl",
        Array("\(record1)\n{\"id\": \"b\", \"title\": \"Bad ".utf8) + [0xC3, 0x28, 0xFF]
          + Array("bytes\", \"abstract\": \"x y\"}\n".utf8),
        mentions: ["UTF-8", "line 2"]),
      BadCorpus(
        "invalid-utf8.txt",
        Array("A title\n\nAn abstract with ".utf8) + [0xED, 0xA0, 0x80]
          + Array(" inside.\n".utf8),
        mentions: ["UTF-8", "line 3"]),
      BadCorpus(
        "unclosed-quote.csv", "id,title,abstract\n1,A title,An abstract\n2,\"Open quote,abstract\n",
        mentions: ["line 3"]),
      BadCorpus(
        "duplicate-ids.jsonl",
        "\(record1)\n\(record2)\n"
          + #"{"id": "a", "title": "Again", "abstract": "Same id."}"# + "\n",
        mentions: ["'a'", "line 3", "line 1"]),
      BadCorpus("empty.txt", "", mentions: ["no papers"]),
      BadCorpus("empty.jsonl", "", mentions: ["no papers"]),
      BadCorpus("empty.json", "[]", mentions: ["no papers"]),
      BadCorpus("empty.csv", "id,title,abstract\n", mentions: ["no papers"]),
      BadCorpus("blank-lines.txt", "\n\n   \n", mentions: ["no papers"]),
    ]
  }

  @Test("index rejects a bad corpus, names the file and line, and writes nothing",
    arguments: BadCorpus.all)
  func badCorpus(corpus: BadCorpus) throws {
    try withTemporaryDirectory { directory in
      try Data(corpus.bytes).write(to: directory.appendingPathComponent(corpus.name))
      let result = try CLI.run(["index", corpus.name, "-o", "out.idx"], in: directory)
      expectFailure(result, mentioning: [corpus.name] + corpus.mentions)
      // Nothing half-written: no index and no temporary file.
      #expect(directoryListing(directory) == [corpus.name])
    }
  }

  @Test("a corpus file that does not exist")
  func missingCorpus() throws {
    try withTemporaryDirectory { directory in
      let result = try CLI.run(["index", "missing.jsonl", "-o", "out.idx"], in: directory)
      expectFailure(result, mentioning: ["missing.jsonl"])
      #expect(directoryListing(directory).isEmpty)
    }
  }

  @Test("an unknown extension needs --format")
  func unknownExtension() throws {
    try withTemporaryDirectory { directory in
      let corpus = directory.appendingPathComponent("papers.page")
      try FileManager.default.copyItem(at: TestSupport.bundledCorpus, to: corpus)
      let result = try CLI.run(["index", "papers.page", "-o", "out.idx"], in: directory)
      expectFailure(result, mentioning: ["papers.page", "format"])
      #expect(directoryListing(directory) == ["papers.page"])

      let withFormat = try CLI.run(
        ["index", "papers.page", "-o", "out.idx", "--format", "txt", "--sklearn-compatible"],
        in: directory)
      expectExit(withFormat, 0)
      #expect(directoryListing(directory) == ["out.idx", "papers.page"])
    }
  }

  @Test("duplicate ids fail, and --dedupe keeps the first paper of each")
  func dedupe() throws {
    let corpus = try #require(BadCorpus.all.first { $0.name == "duplicate-ids.jsonl" })
    try withTemporaryDirectory { directory in
      try Data(corpus.bytes).write(to: directory.appendingPathComponent(corpus.name))
      expectFailure(try CLI.run(["index", corpus.name, "-o", "out.idx"], in: directory))
      let result = try CLI.run(["index", corpus.name, "-o", "out.idx", "--dedupe"], in: directory)
      expectExit(result, 0)
      #expect(result.stdout.isEmpty)

      let info = try CLI.run(["info", "out.idx", "--json"], in: directory)
      expectQuietSuccess(info)
      let object = try JSONSerialization.jsonObject(with: info.standardOutput) as? [String: Any]
      #expect(object?["documents"] as? Int == 2)
      let ids = try CLI.run(["export", "out.idx", "--ids", "ids.txt"], in: directory)
      expectQuietSuccess(ids)
      let written = try String(
        contentsOf: directory.appendingPathComponent("ids.txt"), encoding: .utf8)
      #expect(written == "a\nb\n")
    }
  }

  // MARK: index files

  /// How a copy of a good index is damaged.
  enum Damage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case cutInHalf, flippedMiddleByte, empty, notAnIndex
    var testDescription: String { rawValue }

    /// What the message must say besides the file name.
    var mention: String {
      switch self {
      case .cutInHalf, .empty: "truncated"
      case .flippedMiddleByte: "checksum"
      case .notAnIndex: "not a Semblance index"
      }
    }

    func apply(to bytes: Data) -> Data {
      switch self {
      case .cutInHalf: return bytes.prefix(bytes.count / 2)
      case .flippedMiddleByte:
        var bytes = bytes
        bytes[bytes.startIndex + bytes.count / 2] ^= 0x5A
        return bytes
      case .empty: return Data()
      case .notAnIndex: return (try? Data(contentsOf: TestSupport.bundledCorpus)) ?? Data("x".utf8)
      }
    }
  }

  static let queryCommands: [[String]] = [["info"], ["info", "--json"], ["related", "18"],
    ["search", "time series"], ["export", "--ids", "ids.txt"]]

  @Test("a damaged index fails cleanly in every command",
    arguments: Damage.allCases, queryCommands)
  func damagedIndex(damage: Damage, command: [String]) throws {
    let good = try Data(contentsOf: try CLISharedIndexes.get().sklearnCompatible)
    try withTemporaryDirectory { directory in
      try damage.apply(to: good).write(to: directory.appendingPathComponent("damaged.idx"))
      let arguments = [command[0], "damaged.idx"] + command.dropFirst()
      let result = try CLI.run(arguments, in: directory)
      expectFailure(result, mentioning: ["damaged.idx", damage.mention])
      #expect(directoryListing(directory) == ["damaged.idx"])
    }
  }

  @Test("an index cut short at any of several lengths",
    arguments: [1, 8, 63, 64, 65, 100, 4_096, -1])
  func truncatedIndex(length: Int) throws {
    let good = try Data(contentsOf: try CLISharedIndexes.get().sklearnCompatible)
    let kept = length < 0 ? good.count + length : length
    try withTemporaryDirectory { directory in
      try good.prefix(kept).write(to: directory.appendingPathComponent("short.idx"))
      let result = try CLI.run(["related", "short.idx", "1"], in: directory)
      expectFailure(result, mentioning: ["short.idx"])
    }
  }

  @Test("a corpus given where an index belongs", arguments: [["info"], ["related", "1"]])
  func corpusInsteadOfIndex(command: [String]) throws {
    let corpus = TestSupport.bundledCorpus
    let result = try CLI.run([command[0], corpus.path] + command.dropFirst())
    expectFailure(result, mentioning: [corpus.lastPathComponent, "not a Semblance index"])
  }

  @Test("an index path that does not exist, or is a directory",
    arguments: ["absent.idx", "folder.idx"])
  func unreadableIndex(name: String) throws {
    try withTemporaryDirectory { directory in
      try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("folder.idx"), withIntermediateDirectories: false)
      let result = try CLI.run(["info", name], in: directory)
      expectFailure(result, mentioning: [name])
    }
  }

  // MARK: result counts

  @Test("-k out of range: 0 is a usage error, more than the papers a library error",
    arguments: [
      (["related", "18"], "0", Int32(64)), (["related", "18"], "-3", 64),
      (["related", "18"], "82", 1), (["related", "18"], "1000", 1),
      (["search", "time series"], "0", 64), (["search", "time series"], "82", 1),
      (["search", "time series"], "1000", 1),
    ])
  func countOutOfRange(command: [String], count: String, status: Int32) throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    let result = try CLI.run([command[0], index] + command.dropFirst() + ["-k", count])
    if status == 64 {
      expectUsageError(result, mentioning: ["-k"])
    } else {
      expectFailure(result, mentioning: [count, "81"])
    }
  }

  @Test("-k equal to the number of papers is allowed")
  func countEqualToPapers() throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    let related = try CLI.run(["related", index, "18", "-k", "81", "--json"])
    expectQuietSuccess(related)
    let relatedResults = try JSONSerialization.jsonObject(with: related.standardOutput)
      as? [String: Any]
    // The paper itself is never among its related papers.
    #expect((relatedResults?["results"] as? [Any])?.count == 80)

    let search = try CLI.run(["search", index, "language models", "-k", "81", "--json"])
    expectQuietSuccess(search)
    let searchResults = try JSONSerialization.jsonObject(with: search.standardOutput)
      as? [String: Any]
    #expect((searchResults?["results"] as? [Any])?.count == 81)
  }

  // MARK: usage errors

  @Test("usage errors exit 64 with usage on stderr",
    arguments: [
      (["frobnicate"], "frobnicate"),
      (["index"], "<corpus>"),
      (["index", "papers.txt"], "--output"),
      (["info"], "<index>"),
      (["related", "x.idx"], "<id>"),
      (["search", "x.idx"], "<text>"),
      (["index", "papers.txt", "-o", "x.idx", "--ngrams", "3"], "--ngrams"),
      (["index", "papers.txt", "-o", "x.idx", "--format", "xml"], "xml"),
      (["index", "papers.txt", "-o", "x.idx", "--max-df", "1.5"], "--max-df"),
      (["index", "papers.txt", "-o", "x.idx", "--dimensions", "0"], "--dimensions"),
      (["export", "x.idx"], "nothing to export"),
      (["info", "x.idx", "--frobnicate"], "--frobnicate"),
      (["related", "x.idx", "18", "-k", "many"], "many"),
      (["demo", "-k", "0"], "-k"),
    ])
  func usageError(arguments: [String], mention: String) throws {
    try withTemporaryDirectory { directory in
      let result = try CLI.run(arguments, in: directory)
      expectUsageError(result, mentioning: [mention])
      #expect(directoryListing(directory).isEmpty)
    }
  }

  // MARK: nothing half-written

  @Test("an index written into a directory that does not exist leaves nothing behind")
  func outputDirectoryMissing() throws {
    try withTemporaryDirectory { directory in
      let result = try CLI.run(
        [
          "index", TestSupport.bundledCorpus.path, "-o", "missing/sub/out.idx",
          "--sklearn-compatible",
        ], in: directory)
      expectFailure(result, mentioning: ["missing/sub/out.idx"])
      #expect(directoryListing(directory).isEmpty)
    }
  }

  @Test("exports into a directory that does not exist fail and leave nothing behind")
  func exportDirectoryMissing() throws {
    let index = try CLISharedIndexes.get().sklearnCompatible.path
    try withTemporaryDirectory { directory in
      let result = try CLI.run(
        ["export", index, "--embeddings", "missing/E.npy", "--tfidf", "missing/X.mtx"],
        in: directory)
      expectFailure(result, mentioning: ["missing/E.npy"])
      #expect(directoryListing(directory).isEmpty)
    }
  }

  @Test("a failing index run leaves an existing index byte for byte as it was",
    arguments: ["malformed-line-3.jsonl", "invalid-utf8.jsonl", "empty.txt"])
  func existingIndexSurvivesFailure(corpusName: String) throws {
    let corpus = try #require(BadCorpus.all.first { $0.name == corpusName })
    let good = try Data(contentsOf: try CLISharedIndexes.get().sklearnCompatible)
    try withTemporaryDirectory { directory in
      let output = directory.appendingPathComponent("papers.idx")
      try good.write(to: output)
      try Data(corpus.bytes).write(to: directory.appendingPathComponent(corpus.name))
      let result = try CLI.run(["index", corpus.name, "-o", "papers.idx"], in: directory)
      expectFailure(result, mentioning: [corpus.name])
      #expect(try Data(contentsOf: output) == good)
      #expect(directoryListing(directory) == [corpus.name, "papers.idx"].sorted())
    }
  }

  @Test("an output path that is a directory is refused and left alone")
  func outputIsADirectory() throws {
    try withTemporaryDirectory { directory in
      let folder = directory.appendingPathComponent("out.idx")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
      try Data("keep".utf8).write(to: folder.appendingPathComponent("keep.txt"))
      let result = try CLI.run(
        ["index", TestSupport.bundledCorpus.path, "-o", "out.idx", "--sklearn-compatible"],
        in: directory)
      expectFailure(result, mentioning: ["out.idx"])
      #expect(directoryListing(directory) == ["out.idx", "out.idx/keep.txt"])
    }
  }
}
