import Foundation
import Testing

@testable import Semblance

/// `semblance index --ivf`, `info`, and `--exact` on related / search / neighbors, end to end
/// on the bundled corpus with a forced IVF of one probed list (pure LSA ranking, so that
/// approximate answers visibly differ from exact ones).
@Suite("CLI with IVF")
struct CLIIVFTests {
  struct Indexes: Sendable {
    var ivf: URL
    var exact: URL
  }

  private static let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("semblance-cli-ivf-\(UUID().uuidString)")

  /// Built once per test process by the CLI itself, and removed at exit.
  static let indexes: Result<Indexes, CLISharedIndexes.SetupFailure> = {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      atexit { try? FileManager.default.removeItem(at: CLIIVFTests.directory) }
      let indexes = Indexes(
        ivf: directory.appendingPathComponent("ivf.idx"),
        exact: directory.appendingPathComponent("exact.idx"))
      let corpus = TestSupport.bundledCorpus.path
      for (url, options) in [
        (indexes.ivf, ["--ivf", "always", "--nprobe", "1"]), (indexes.exact, ["--ivf", "never"]),
      ] {
        let result = try CLI.run(["index", corpus, "-o", url.path, "--alpha", "1"] + options)
        guard !result.signalled, result.status == 0 else {
          return .failure(.init(message: "building \(url.lastPathComponent) failed: \(result)"))
        }
      }
      return .success(indexes)
    } catch {
      return .failure(.init(message: "building the IVF test indexes failed: \(error)"))
    }
  }()

  @Test("--exact on an IVF index prints what an index without IVF prints")
  func exactFlag() throws {
    let indexes = try Self.indexes.get()
    for arguments in [
      ["related", "18", "-k", "3", "--json"], ["related", "sansformers", "-k", "4"],
      ["search", "time series forecasting", "-k", "3", "--json"],
    ] {
      let command = [arguments[0]]
      let rest = Array(arguments.dropFirst())
      let exact = try CLI.run(command + [indexes.exact.path] + rest)
      let forced = try CLI.run(command + [indexes.ivf.path] + rest + ["--exact"])
      expectQuietSuccess(forced)
      #expect(forced.stdout == exact.stdout, "\(arguments)")
    }
    let exactGraph = try CLI.run(["neighbors", indexes.exact.path, "-k", "3"])
    let forcedGraph = try CLI.run(["neighbors", indexes.ivf.path, "-k", "3", "--exact"])
    expectQuietSuccess(forcedGraph)
    #expect(forcedGraph.stdout == exactGraph.stdout)
  }

  @Test("without --exact the IVF answers, as the library does")
  func defaultUsesIVF() throws {
    let indexes = try Self.indexes.get()
    let index = try PaperIndex(contentsOf: indexes.ivf)
    let position = try #require(
      (0..<index.count).first {
        try index.related(toPosition: $0, count: 3) != index.related(toPosition: $0, count: 3, exact: true)
      })
    let id = index.id(at: position)
    let approximate = try CLI.run(["related", indexes.ivf.path, id, "-k", "3"])
    let exact = try CLI.run(["related", indexes.ivf.path, id, "-k", "3", "--exact"])
    expectQuietSuccess(approximate)
    #expect(approximate.stdout != exact.stdout)
    let ids = try index.related(toPosition: position, count: 3).map(\.id)
    let printed = approximate.stdout.split(separator: "\n").dropFirst().map {
      String($0.split(separator: " ", omittingEmptySubsequences: true)[2])
    }
    #expect(printed == ids, "\(approximate)")

    let graph = try CLI.run(["neighbors", indexes.ivf.path, "-k", "3"])
    let exactGraph = try CLI.run(["neighbors", indexes.ivf.path, "-k", "3", "--exact"])
    expectQuietSuccess(graph)
    #expect(graph.stdout != exactGraph.stdout)
  }

  @Test("info reports the IVF: its lists and nprobe, or exact search")
  func info() throws {
    let indexes = try Self.indexes.get()
    let text = try CLI.run(["info", indexes.ivf.path])
    expectQuietSuccess(text)
    #expect(text.stdout.contains("search              IVF, 36 lists, nprobe 1\n"), "\(text)")
    let json = try CLI.run(["info", indexes.ivf.path, "--json"])
    let object = try #require(
      try JSONSerialization.jsonObject(with: json.standardOutput) as? [String: Any])
    let ivf = try #require(object["approximateIndex"] as? [String: Any])
    #expect(ivf["lists"] as? Int == 36 && ivf["nprobe"] as? Int == 1)
    let configuration = try #require(object["configuration"] as? [String: Any])
    #expect(configuration["approximateSearch"] as? String == "always")

    let exactText = try CLI.run(["info", indexes.exact.path])
    #expect(exactText.stdout.contains("search              exact (no IVF index)\n"), "\(exactText)")
    let exactJSON = try CLI.run(["info", indexes.exact.path, "--json"])
    let exactObject = try #require(
      try JSONSerialization.jsonObject(with: exactJSON.standardOutput) as? [String: Any])
    #expect(exactObject["approximateIndex"] == nil)
  }

  @Test("--ivf and --nprobe reject values out of range as usage errors")
  func usage() throws {
    let corpus = TestSupport.bundledCorpus.path
    try withTemporaryDirectory { directory in
      let output = directory.appendingPathComponent("x.idx").path
      expectUsageError(try CLI.run(["index", corpus, "-o", output, "--nprobe", "0"]), mentioning: ["--nprobe"])
      expectUsageError(try CLI.run(["index", corpus, "-o", output, "--ivf", "sometimes"]), mentioning: ["--ivf"])
      #expect(directoryListing(directory).isEmpty)
    }
  }
}
