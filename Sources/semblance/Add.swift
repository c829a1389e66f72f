import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance add INDEX CORPUS -o NEW_INDEX`
  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Fold new papers into an index without refitting.",
      discussion: """
        The new papers are analysed with the index's options, weighted with its vocabulary and \
        idf, and projected onto its LSA components; the model itself does not change. Rebuild \
        with `semblance index` once much of the corpus has been added this way. An id that \
        is already in the index is an error. NEW_INDEX may be INDEX itself: it is replaced \
        atomically.

        Examples:
          semblance add papers.idx todays-papers.jsonl -o papers.idx
          semblance add papers.idx more.csv -o grown.idx --id-field arxiv_id
        """)

    @Argument(help: "The index file to add to.")
    var index: String

    @Argument(help: "The corpus file with the new papers.")
    var corpus: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "The index file to write.")
    var output: String

    @OptionGroup var corpusOptions: CorpusOptions

    func run() throws {
      let started = Date()
      let paperIndex = try loadIndex(index)
      let papers = try corpusOptions.read(corpus)
      let grown = try paperIndex.adding(papers)
      try grown.write(to: URL(fileURLWithPath: output))
      let seconds = Date().timeIntervalSince(started)
      Terminal.standardError(
        "added \(papers.count) papers to \(paperIndex.count) (\(grown.count) in all, "
          + "\(grown.foldedInCount) folded in since the model was fitted) "
          + "in \(String(format: "%.2f", seconds)) s → \(output)\n")
    }
  }
}
