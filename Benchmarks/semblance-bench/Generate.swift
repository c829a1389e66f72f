import ArgumentParser
import Foundation

extension BenchCommand {
  /// `semblance-bench generate --documents N [--topics T] [--seed S] [--subtopics S] -o corpus.jsonl`
  struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a deterministic synthetic labelled corpus as JSON Lines.",
      discussion: """
        Each line has id, title, abstract, label (the dominant topic) and categories (all of \
        the paper's topics, dominant first). The text mixes a dominant topic with one or two \
        minor topics over a shared pseudo-word vocabulary with Zipfian word frequencies, plus \
        English function words and punctuation. With --subtopics S, each topic has S subtopics \
        with their own two-word phrases (made of field words), a paper uses its subtopic's \
        phrases, and records gain a "subtopic" field; without it the output is what it always \
        was. The same options give the same bytes.
        """)

    @Option(help: "How many papers to write.")
    var documents: Int

    @Option(help: "How many topics (labels).")
    var topics = 40

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(
      help: """
        Subtopics per topic (default 0: none). Each subtopic has its own two-word phrases, \
        which its papers use; records gain a "subtopic" field.
        """)
    var subtopics = 0

    @Option(name: [.customShort("o"), .customLong("output")], help: "The .jsonl file to write.")
    var output: String

    func validate() throws {
      guard documents >= 1 else { throw ValidationError("--documents must be at least 1") }
      guard topics >= 1 else { throw ValidationError("--topics must be at least 1") }
      guard subtopics >= 0 else { throw ValidationError("--subtopics must be at least 0") }
    }

    func run() throws {
      let start = ContinuousClock.now
      let generator = CorpusGenerator(.init(topics: topics, seed: seed, subtopics: subtopics))
      let bytes = try generator.write(documents: documents, to: output)
      let seconds = (ContinuousClock.now - start).seconds
      standardError(
        "wrote \(documents) papers, \(formatBytes(bytes)) in \(String(format: "%.2f", seconds)) s "
          + "(\(String(format: "%.0f", Double(bytes) / 1e6 / max(seconds, 1e-9))) MB/s) → \(output)\n")
    }
  }
}
