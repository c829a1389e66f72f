import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance info INDEX [--json]`
  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Describe an index: sizes, singular values, explained variance, settings.",
      discussion: """
        Examples:
          semblance info papers.idx
          semblance info papers.idx --json
        """)

    @Argument(help: "The index file.")
    var index: String

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
      var documents: Int
      var terms: Int
      var dimensions: Int
      var requestedDimensions: Int
      var nonzeros: Int
      var algorithm: String
      var singularValues: [Double]
      var explainedVariance: Double
      var explainedVarianceRatio: [Double]
      var emptyDocuments: Int
      var configuration: IndexConfiguration
      var notes: [String]
      /// The IVF index, when the index has one (absent otherwise).
      var approximateIndex: ApproximateIndex?
    }

    struct ApproximateIndex: Encodable {
      var lists: Int
      var nprobe: Int
      var calibratedRecall: Double?
    }

    func run() throws {
      let paperIndex = try loadIndex(index)
      let svd = paperIndex.svd
      var notes: [String] = []
      if svd.requestedDimensions != svd.dimensions {
        notes.append(
          "dimensions clamped from \(svd.requestedDimensions) to \(svd.dimensions) "
            + "(at most min(papers, terms) - 1)")
      }
      let empty = paperIndex.emptyDocumentCount
      if empty > 0 {
        notes.append("\(empty) paper(s) have no terms left after analysis and never match")
      }
      let explained = svd.explainedVarianceRatio.reduce(0) { $0 + Double($1) }
      let report = Report(
        documents: paperIndex.count, terms: paperIndex.termCount,
        dimensions: paperIndex.dimensions, requestedDimensions: svd.requestedDimensions,
        nonzeros: paperIndex.tfidf.nonzeroCount, algorithm: svd.algorithm.rawValue,
        singularValues: svd.singularValues.map(Output.decimal),
        explainedVariance: explained,
        explainedVarianceRatio: svd.explainedVarianceRatio.map(Output.decimal),
        emptyDocuments: empty, configuration: paperIndex.configuration, notes: notes,
        approximateIndex: paperIndex.approximateIndex.map {
          ApproximateIndex(lists: $0.listCount, nprobe: $0.nprobe, calibratedRecall: $0.calibratedRecall)
        })
      if json {
        Terminal.standardOutput(try Output.json(report))
        return
      }
      let configuration = paperIndex.configuration
      var text = """
        documents           \(report.documents)
        terms               \(report.terms)
        non-zeros           \(report.nonzeros)
        dimensions          \(report.dimensions) (\(report.algorithm) SVD)
        explained variance  \(String(format: "%.4f", explained))
        empty documents     \(empty)
        analysis            \(configuration.ngramRange.upperBound == 1 ? "unigrams" : "n-grams \(configuration.ngramRange)"), \
        title weight \(configuration.titleWeight), \
        \(configuration.stopWords.isEmpty ? "no stop words" : "\(configuration.stopWords.count) stop words")
        weighting           \(configuration.sublinearTF ? "1 + ln(tf)" : "raw tf") × smoothed idf, \
        min df \(configuration.minDocumentFrequency.map(String.init) ?? "auto"), max df \(configuration.maxDocumentFrequency)
        ranking             α = \(configuration.alpha) (α·LSA + (1−α)·TF-IDF)
        search              \(Info.searchDescription(report.approximateIndex))

        """
      let shown = svd.singularValues.prefix(10).map { String(format: "%.4f", $0) }
      text += "singular values     \(shown.joined(separator: " "))"
      text += svd.singularValues.count > 10 ? " …\n" : "\n"
      for note in notes { text += "note: \(note)\n" }
      Terminal.standardOutput(text)
    }

    /// "exact" or the IVF's lists, nprobe and calibrated recall.
    static func searchDescription(_ ivf: ApproximateIndex?) -> String {
      guard let ivf else { return "exact (no IVF index)" }
      let recall = ivf.calibratedRecall.map { String(format: ", calibrated recall@10 %.3f", $0) } ?? ""
      return "IVF, \(ivf.lists) lists, nprobe \(ivf.nprobe)\(recall)"
    }
  }
}
