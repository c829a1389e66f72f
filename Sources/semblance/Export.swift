import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance export INDEX [--embeddings E.npy] [--tfidf X.mtx] [--vocabulary V.txt] [--ids IDS.txt]`
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Export an index's matrices and lists for other tools.",
      discussion: """
        --embeddings writes a NumPy .npy file (float32, C order, shape papers × dimensions). \
        --tfidf writes Matrix Market "coordinate real general" (1-based; rows are papers, \
        columns follow the vocabulary). --vocabulary and --ids write one entry per line, in \
        matrix order.

        Examples:
          semblance export papers.idx --embeddings E.npy --ids ids.txt
          semblance export papers.idx --tfidf X.mtx --vocabulary V.txt
        """)

    @Argument(help: "The index file.")
    var index: String

    @Option(help: "Write the embeddings to this .npy file.")
    var embeddings: String?

    @Option(help: "Write the TF-IDF matrix to this .mtx file.")
    var tfidf: String?

    @Option(help: "Write the vocabulary to this file, one term per line.")
    var vocabulary: String?

    @Option(help: "Write the paper ids to this file, one per line.")
    var ids: String?

    func validate() throws {
      if embeddings == nil && tfidf == nil && vocabulary == nil && ids == nil {
        throw ValidationError(
          "nothing to export: give at least one of --embeddings, --tfidf, --vocabulary, --ids")
      }
    }

    func run() throws {
      let paperIndex = try loadIndex(index)
      if let embeddings { try paperIndex.writeEmbeddings(toNumPy: URL(fileURLWithPath: embeddings)) }
      if let tfidf { try paperIndex.writeTFIDF(toMatrixMarket: URL(fileURLWithPath: tfidf)) }
      if let vocabulary { try paperIndex.writeVocabulary(to: URL(fileURLWithPath: vocabulary)) }
      if let ids { try paperIndex.writeIDs(to: URL(fileURLWithPath: ids)) }
    }
  }
}
