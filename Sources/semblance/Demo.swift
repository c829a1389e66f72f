import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance demo`: the bundled corpus, end to end, with no arguments.
  struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Index the bundled 81 abstracts and show related papers, clusters and searches.",
      discussion: """
        Needs no arguments, files or network: the corpus ships inside the tool.

        Example:
          semblance demo
        """)

    @Option(name: .customShort("k"), help: "Results per query.")
    var count: Int = 5

    func validate() throws {
      guard (1...80).contains(count) else { throw ValidationError("-k must be between 1 and 80") }
    }

    func run() throws {
      let url = try DemoCorpus.url()
      let started = Date()
      let papers = try Corpus.read(contentsOf: url)
      let index = try PaperIndex(papers)
      let milliseconds = Date().timeIntervalSince(started) * 1000
      var text = """
        Semblance demo: \(index.count) abstracts from Hugging Face daily papers
        indexed in \(String(format: "%.0f", milliseconds)) ms: \(index.termCount) terms \
        (words and word pairs), \(index.dimensions) LSA dimensions, \
        hybrid ranking α = \(index.configuration.alpha)\
        \(index.configuration.feedback == nil ? "" : " with relevance feedback")


        """
      for id in DemoCorpus.showcasePapers {
        guard let position = index.position(ofID: id) else { continue }
        text += "Related to [\(id)] \(index.title(at: position))\n"
        text += Output.table(try index.related(toPosition: position, count: count))
        text += "\n"
      }
      let clustering = try index.clusters(.count(DemoCorpus.clusterCount))
      text += "Labelled clusters (spherical k-means, k = \(clustering.k), labels by class-based TF-IDF)\n"
      text += Output.clusterTable(clustering, index: index, titles: 2)
      text += "\n"
      for query in DemoCorpus.showcaseQueries {
        text += "Search \"\(query)\"\n"
        text += Output.table(try index.search(query, count: count))
        text += "\n"
      }
      text += "Try it on your own corpus:\n"
      text += "  semblance index papers.jsonl -o papers.idx && semblance related papers.idx <id>\n"
      Terminal.standardOutput(text)
    }
  }
}

/// The corpus bundled with the tool, shipped as a resource beside the executable.
enum DemoCorpus {
  static let fileName = "hf-daily-papers.txt"
  /// Papers whose related lists make a good first impression.
  static let showcasePapers = ["1", "18", "27"]
  static let showcaseQueries = ["time series forecasting", "robot manipulation from video"]
  /// The number of labelled clusters shown.
  static let clusterCount = 8

  /// Locates the bundled corpus without trapping when it is missing (unlike `Bundle.module`).
  static func url() throws -> URL {
    let executable =
      Bundle.main.executableURL?.resolvingSymlinksInPath()
      ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let directory = executable.deletingLastPathComponent()
    let candidates = [
      directory.appendingPathComponent("Semblance_semblance.resources"),
      directory.appendingPathComponent("Semblance_semblance.bundle"),
      directory.appendingPathComponent("../share/semblance"),
    ].map { $0.appendingPathComponent(fileName) }
    for candidate in candidates where FileManager.default.fileExists(atPath: candidate.path) {
      return candidate
    }
    throw DemoCorpusMissing(searched: candidates.map(\.path))
  }

  struct DemoCorpusMissing: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
      "the bundled demo corpus is missing; looked in " + searched.joined(separator: ", ")
    }
  }
}
