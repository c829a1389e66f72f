import ArgumentParser
import Foundation
import Semblance

extension BenchCommand {
  /// `semblance-bench relevance --corpus FILE [--alphas 1,0.8,0.65,0.5,0.35,0.2]
  /// [--feedback 0,10] [--feedback-weights 1] [--candidates 100]`
  struct Relevance: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Label agreement (P@k) of the LSA and hybrid rankings at several α, on one index.",
      discussion: """
        Builds one index of a labelled corpus with the default configuration, then ranks every \
        paper's k most related papers with each α of --alphas (α = 1 is LSA alone), each \
        relevance feedback of --feedback and --feedback-weights (0 papers: none) and each LSA \
        candidate count of --candidates, exactly as neighbors(count:) and related(to:count:) \
        rank them, and prints P@k: the mean fraction of a paper's k results that share its \
        "label". Every paper is a query.
        """)

    @Option(help: "A labelled corpus file (every record has a \"label\").")
    var corpus: String

    @Option(
      help: "Comma-separated α values (LSA weight of α·cos_LSA + (1−α)·cos_TFIDF).",
      transform: Self.parseList)
    var alphas: [Double] = [1, 0.8, 0.65, 0.5, 0.35, 0.2]

    @Option(
      help: "Comma-separated relevance feedback sizes: papers whose centroid refines the LSA query (0: no feedback).",
      transform: Self.parseList)
    var feedback: [Double] = [0, Double(RelevanceFeedback.default.papers)]

    @Option(
      help: "Comma-separated relevance feedback weights, in 0...1, tried with each size above 0.",
      transform: Self.parseList)
    var feedbackWeights: [Double] = [1]  // RelevanceFeedback.default.weight, as typed

    @Option(
      help: "Comma-separated LSA candidate counts re-ranked per paper (default: the library's max(100, 10·k)).",
      transform: Self.parseList)
    var candidates: [Double] = []

    @Option(help: "LSA dimensions.")
    var dimensions = 128

    @Option(
      name: .customLong("power-iterations"),
      help: "Power iterations of the randomized SVD (default: the library's choice).")
    var powerIterations: Int?

    @Option(name: .customShort("k"), help: "Results per paper scored (P@k).")
    var k = 10

    @Option(help: "Seed of the randomized SVD (the index's --seed).")
    var seed: UInt64 = 0

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    static func parseList(_ text: String) throws -> [Double] {
      try text.split(separator: ",").map { part in
        guard let value = Double(part.trimmingCharacters(in: .whitespaces)) else {
          throw ValidationError("not a number: \(part)")
        }
        return value
      }
    }

    func validate() throws {
      guard !alphas.isEmpty, alphas.allSatisfy({ (0...1).contains($0) }) else {
        throw ValidationError("--alphas must be numbers between 0 and 1")
      }
      guard !feedback.isEmpty, feedback.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
        throw ValidationError("--feedback must be whole numbers of at least 0")
      }
      guard !feedbackWeights.isEmpty, feedbackWeights.allSatisfy({ (0...1).contains($0) }) else {
        throw ValidationError("--feedback-weights must be numbers between 0 and 1")
      }
      guard candidates.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
        throw ValidationError("--candidates must be whole numbers of at least 1")
      }
      guard dimensions >= 1 else { throw ValidationError("--dimensions must be at least 1") }
      if let powerIterations, powerIterations < 0 {
        throw ValidationError("--power-iterations must be at least 0")
      }
      guard k >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
      let papers = try Corpus.read(contentsOf: URL(fileURLWithPath: corpus))
      guard let labels = Pipeline.labels(of: papers) else {
        throw BenchError.invalid("\(corpus): not every record has a non-empty \"label\"")
      }
      var configuration = IndexConfiguration.default
      configuration.dimensions = dimensions
      configuration.powerIterations = powerIterations
      configuration.approximateSearch = .never
      configuration.seed = seed
      let start = ContinuousClock.now
      let index = try PaperIndex(papers, configuration: configuration)
      let buildSeconds = (ContinuousClock.now - start).seconds
      let n = index.count
      let count = min(k, n - 1)
      let queries = Array(0..<n)
      let candidateCounts: [Int?] = candidates.isEmpty ? [nil] : candidates.map { Int($0) }

      // No feedback first, then every size with every weight.
      var feedbacks: [(papers: Int, weight: Double)?] = []
      for papers in feedback {
        if papers == 0 {
          feedbacks.append(nil)
        } else {
          for weight in feedbackWeights { feedbacks.append((Int(papers), weight)) }
        }
      }
      var rows: [RelevanceRow] = []
      for (group, candidateCount) in candidateCounts.enumerated() {
        for alpha in alphas {
          // LSA alone depends on neither the candidate count nor feedback: score it once.
          for (number, feedback) in feedbacks.enumerated()
          where alpha < 1 || (group == 0 && number == 0) {
            let graph = try index.neighbors(
              count: count, exact: true, alpha: Float(alpha),
              feedback: feedback.map { RelevanceFeedback(papers: $0.papers, weight: Float($0.weight)) },
              candidates: candidateCount)
            let lists = (0..<n).map { graph[$0].map(\.position) }
            let precision = Quality.precisionAtK(
              labels: labels, queries: queries, neighbours: lists, k: count)
            let row = RelevanceRow(
              alpha: alpha,
              feedback: alpha >= 1 ? nil : feedback?.papers,
              feedbackWeight: alpha >= 1 ? nil : feedback?.weight,
              candidates: alpha >= 1 ? nil : (candidateCount ?? max(100, 10 * count)),
              precision: precision)
            rows.append(row)
            if !json { standardError("\(row.name): P@\(count) \(String(format: "%.4f", precision))\n") }
          }
        }
      }
      let report = RelevanceReport(
        corpus: corpus, papers: n, labels: Set(labels).count, terms: index.termCount,
        dimensions: index.dimensions, k: count, seed: seed, buildSeconds: buildSeconds, rows: rows)
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        standardOutput(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
      } else {
        standardOutput(report.table())
      }
    }
  }
}

/// P@k of one ranking.
struct RelevanceRow: Codable, Sendable {
  /// The LSA weight; 1 is LSA alone.
  var alpha: Double
  /// Papers in the relevance feedback centroid; nil for none (and for LSA alone).
  var feedback: Int?
  /// The relevance feedback weight; nil without feedback.
  var feedbackWeight: Double?
  /// LSA candidates re-ranked per paper; nil for LSA alone.
  var candidates: Int?
  /// Mean label agreement of each paper's top k.
  var precision: Double

  /// "LSA (α = 1)", "hybrid α = 0.50" or "hybrid α = 0.50, feedback 10 × 0.80".
  var name: String {
    if alpha >= 1 { return "LSA (α = 1)" }
    var name = "hybrid α = \(String(format: "%.2f", alpha))"
    if let feedback, let feedbackWeight {
      name += ", feedback \(feedback) × \(String(format: "%.2f", feedbackWeight))"
    }
    return name
  }
}

/// What `semblance-bench relevance` measured.
struct RelevanceReport: Codable, Sendable {
  var corpus: String
  var papers: Int
  var labels: Int
  var terms: Int
  var dimensions: Int
  var k: Int
  /// The seed of the randomized SVD.
  var seed: UInt64
  var buildSeconds: Double
  var rows: [RelevanceRow]

  /// The human table: one line per ranking, with the gain over LSA alone in points.
  func table() -> String {
    let lsa = rows.first { $0.alpha >= 1 }?.precision
    var text = "corpus  \(corpus): \(papers) papers, \(labels) labels, \(terms) terms, "
    text += "\(dimensions) dimensions, seed \(seed) (built in \(String(format: "%.1f", buildSeconds)) s)\n\n"
    text += "ranking                                 candidates   P@\(k)   vs LSA\n"
    text += "--------------------------------------  ----------  ------  ------\n"
    for row in rows {
      let name = row.name
      let candidates = row.candidates.map(String.init) ?? "–"
      let gain = lsa.map { String(format: "%+.2f", 100 * (row.precision - $0)) } ?? ""
      text += name.padding(toLength: 38, withPad: " ", startingAt: 0)
      text += "  " + String(repeating: " ", count: max(0, 10 - candidates.count)) + candidates
      text += "  " + String(format: "%.4f", row.precision)
      text += "  " + String(repeating: " ", count: max(0, 6 - gain.count)) + gain + "\n"
    }
    text += "\nP@\(k): mean fraction of each paper's \(k) results with its label, over all papers; "
    text += "\"vs LSA\" in percentage points.\n"
    return text
  }
}
