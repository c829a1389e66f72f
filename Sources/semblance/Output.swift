import Foundation
import Semblance

/// JSON and human-readable renderings shared by the subcommands.
enum Output {
  /// Encodes a value as one line of JSON (plus a newline).
  static func json(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
  }

  /// A `Float` as the `Double` with the same shortest decimal form, so JSON shows `0.83`
  /// rather than `0.8299999833106995`.
  static func decimal(_ value: Float) -> Double {
    Double(value.description) ?? Double(value)
  }

  /// One ranked result, as the JSON contract of `related` and `search` gives it.
  struct Result: Encodable {
    var rank: Int
    var id: String
    var title: String
    var score: Double
    /// With `--explain`: the top terms of the TF-IDF cosine (omitted otherwise).
    var terms: [Term]?
  }

  /// A term and its contribution `x_t·y_t` to the TF-IDF cosine.
  struct Term: Encodable {
    var term: String
    var weight: Double
  }

  /// How many terms `--explain` shows per result.
  static let explainedTerms = 10

  /// The JSON document of `related` and `search`.
  struct Results: Encodable {
    var query: String
    var results: [Result]
  }

  static func results(query: String, matches: [Match], terms: [[TermContribution]]? = nil)
    -> Results
  {
    Results(
      query: query,
      results: matches.enumerated().map { rank, match in
        Result(
          rank: rank + 1, id: match.id, title: match.title, score: decimal(match.score),
          terms: terms?[rank].map { Term(term: $0.term, weight: decimal($0.contribution)) })
      })
  }

  /// An aligned table: rank, score, id, title; with `terms`, each row is followed by an
  /// indented line of its top terms and their contributions.
  static func table(_ matches: [Match], terms: [[TermContribution]]? = nil) -> String {
    guard !matches.isEmpty else { return "(no results)\n" }
    let idWidth = min(24, matches.map { $0.id.count }.max() ?? 2)
    var text = ""
    for (rank, match) in matches.enumerated() {
      let rankText = String(rank + 1).leftPadded(to: 3)
      let score = String(format: "%.3f", match.score)
      text += "\(rankText)  \(score)  \(match.id.rightPadded(to: idWidth))  \(match.title)\n"
      if let terms {
        let shown = terms[rank].map { "\($0.term) \(String(format: "%.3f", $0.contribution))" }
        text += "     terms: \(shown.isEmpty ? "(none shared)" : shown.joined(separator: ", "))\n"
      }
    }
    return text
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }

  func rightPadded(to width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}
