import ArgumentParser
import Foundation
import Semblance

extension BenchCommand {
  /// `semblance-bench analyze --corpus FILE [--repeat 5] [--json]`
  ///
  /// The analyzer and TF-IDF alone, repeated on papers read once: the instrument for the
  /// analyzer's throughput, whose share of a whole `run` is too small to compare builds by.
  struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Time analyze + TF-IDF alone (TfidfVectorizer.fit with the index's default "
        + "configuration), repeated on a corpus read once.")

    @Option(help: "A corpus file (.jsonl, .json, .csv, .tsv or .txt).")
    var corpus: String

    @Option(name: .customLong("repeat"), help: "Timed fits; the median is reported.")
    var repeats = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
      guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1") }
    }

    struct Result: Codable {
      var corpusBytes: Int
      var papers: Int
      var terms: Int
      var nonzeros: Int
      var seconds: [Double]
      var medianSeconds: Double
      var megabytesPerSecond: Double
    }

    func run() throws {
      let url = URL(fileURLWithPath: corpus)
      let papers = try Corpus.read(contentsOf: url)
      let corpusBytes =
        (try FileManager.default.attributesOfItem(atPath: corpus)[.size] as? NSNumber)?.intValue
        ?? 0
      let configuration = IndexConfiguration.default.vectorizerConfiguration
      var seconds: [Double] = []
      var terms = 0, nonzeros = 0
      for _ in 0..<repeats {
        let start = ContinuousClock.now
        let (vectorizer, matrix) = try TfidfVectorizer.fit(papers, configuration: configuration)
        seconds.append((ContinuousClock.now - start).seconds)
        (terms, nonzeros) = (vectorizer.termCount, matrix.nonzeroCount)
      }
      let middle = median(seconds)
      let result = Result(
        corpusBytes: corpusBytes, papers: papers.count, terms: terms, nonzeros: nonzeros,
        seconds: seconds, medianSeconds: middle,
        megabytesPerSecond: Double(corpusBytes) / 1e6 / middle)
      if json {
        standardOutput(String(decoding: try JSONEncoder().encode(result), as: UTF8.self) + "\n")
      } else {
        let runs = seconds.map { String(format: "%.3f", $0) }.joined(separator: " ")
        standardOutput(
          "analyze + TF-IDF: \(papers.count) papers, \(formatBytes(corpusBytes)), \(terms) terms, "
            + "\(nonzeros) nonzeros\n"
            + String(format: "median %.3f s = %.1f MB/s", middle, result.megabytesPerSecond)
            + " (runs: \(runs) s)\n")
      }
    }
  }
}
