import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance info INDEX [--json] [--topics N [--topic-terms M]]`
  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Describe an index: sizes, singular values, explained variance, settings.",
      discussion: """
        --topics N lists the terms with the largest positive and negative loadings on each of \
        the first N LSA components ("topics" in JSON).

        Examples:
          semblance info papers.idx
          semblance info papers.idx --json
          semblance info papers.idx --topics 5
        """)

    @Argument(help: "The index file.")
    var index: String

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Show the top terms of the first N LSA components.")
    var topics: Int?

    @Option(name: .customLong("topic-terms"), help: "Terms per side of each topic.")
    var topicTerms = 10

    func validate() throws {
      if let topics, topics < 1 { throw ValidationError("--topics must be at least 1") }
      guard topicTerms >= 1 else { throw ValidationError("--topic-terms must be at least 1") }
    }

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
      var foldedIn: Int
      var notes: [String]
      var topics: [Topic]?
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
      if paperIndex.foldedInCount > 0 {
        notes.append(
          "\(paperIndex.foldedInCount) paper(s) were folded in after the model was fitted "
            + "on \(paperIndex.count - paperIndex.foldedInCount); rebuild to refit")
      }
      let topics = topics.map { paperIndex.topics(count: $0, terms: topicTerms) }
      let explained = svd.explainedVarianceRatio.reduce(0) { $0 + Double($1) }
      let report = Report(
        documents: paperIndex.count, terms: paperIndex.termCount,
        dimensions: paperIndex.dimensions, requestedDimensions: svd.requestedDimensions,
        nonzeros: paperIndex.tfidf.nonzeroCount, algorithm: svd.algorithm.rawValue,
        singularValues: svd.singularValues.map(Output.decimal),
        explainedVariance: explained,
        explainedVarianceRatio: svd.explainedVarianceRatio.map(Output.decimal),
        emptyDocuments: empty, configuration: paperIndex.configuration,
        foldedIn: paperIndex.foldedInCount, notes: notes, topics: topics,
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
        \(configuration.stopWords.isEmpty ? "no stop words" : "\(configuration.stopWords.count) stop words")\
        \(configuration.stemmer.map { ", \($0.rawValue.capitalized) stemming" } ?? "")
        weighting           \(configuration.sublinearTF ? "1 + ln(tf)" : "raw tf") × smoothed idf, \
        min df \(configuration.minDocumentFrequency.map(String.init) ?? "auto"), max df \(configuration.maxDocumentFrequency)
        ranking             α = \(configuration.alpha) (α·LSA + (1−α)·TF-IDF), \
        \(Info.feedbackDescription(configuration))
        search              \(Info.searchDescription(report.approximateIndex))

        """
      let shown = svd.singularValues.prefix(10).map { String(format: "%.4f", $0) }
      text += "singular values     \(shown.joined(separator: " "))"
      text += svd.singularValues.count > 10 ? " …\n" : "\n"
      for note in notes { text += "note: \(note)\n" }
      for topic in topics ?? [] { text += Self.describe(topic) }
      Terminal.standardOutput(text)
    }

    /// The relevance feedback of the re-ranking, or why there is none.
    static func feedbackDescription(_ configuration: IndexConfiguration) -> String {
      guard configuration.alpha < 1 else { return "no re-ranking" }
      guard let feedback = configuration.feedback, feedback.weight > 0 else { return "no feedback" }
      return "feedback from the \(feedback.papers) best, weight \(feedback.weight)"
    }

    /// "exact" or the IVF's lists, nprobe and calibrated recall.
    static func searchDescription(_ ivf: ApproximateIndex?) -> String {
      guard let ivf else { return "exact (no IVF index)" }
      let recall = ivf.calibratedRecall.map { String(format: ", calibrated recall@10 %.3f", $0) } ?? ""
      return "IVF, \(ivf.lists) lists, nprobe \(ivf.nprobe)\(recall)"
    }
  }
}

extension SemblanceCommand.Info {
  /// Two lines per topic: the component with its share of variance, then its terms.
  static func describe(_ topic: Topic) -> String {
    func list(_ terms: [Topic.Term]) -> String {
      terms.isEmpty
        ? "(none)" : terms.map { "\($0.term) \(String(format: "%.3f", $0.weight))" }.joined(separator: ", ")
    }
    return """
      topic \(topic.component) (σ \(String(format: "%.3f", topic.singularValue)), \
      \(String(format: "%.2f", topic.explainedVarianceRatio * 100))% of variance)
        + \(list(topic.positive))
        − \(list(topic.negative))

      """
  }
}
