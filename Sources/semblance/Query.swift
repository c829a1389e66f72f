import ArgumentParser
import Foundation
import Semblance

/// Options shared by the query subcommands.
struct QueryOptions: ParsableArguments {
  @Option(name: .customShort("k"), help: "How many results.")
  var count: Int = 10

  @Flag(help: "Print JSON instead of a table.")
  var json = false

  @Flag(help: "Force exact search over every paper (no approximate index).")
  var exact = false

  @Flag(help: "Show the terms that contribute most to each result's TF-IDF cosine.")
  var explain = false

  func validate() throws {
    guard count >= 1 else { throw ValidationError("-k must be at least 1") }
  }
}

func loadIndex(_ path: String) throws -> PaperIndex {
  try PaperIndex(contentsOf: URL(fileURLWithPath: path))
}

extension SemblanceCommand {
  /// `semblance related INDEX ID [-k 10] [--json] [--explain] [--exact]`
  struct Related: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the papers most related to one paper of the index.",
      discussion: """
        ID is a paper id, or a case-insensitive fragment of exactly one title. An ambiguous \
        fragment fails and lists the candidates.

        --explain lists, for each result, the shared terms that contribute most to the pair's \
        TF-IDF cosine (x_t·y_t), as "terms" in JSON.

        Examples:
          semblance related papers.idx 2401.01234 -k 5
          semblance related papers.idx "sansformers" --json --explain
        """)

    @Argument(help: "The index file.")
    var index: String

    @Argument(help: "A paper id or a unique title fragment.")
    var id: String

    @OptionGroup var options: QueryOptions

    func run() throws {
      let paperIndex = try loadIndex(index)
      let position = try paperIndex.position(matching: id)
      let matches = try paperIndex.related(toPosition: position, count: options.count, exact: options.exact)
      let terms = try options.explain
        ? matches.map { try paperIndex.explain($0, forPosition: position, count: Output.explainedTerms) }
        : nil
      if options.json {
        Terminal.standardOutput(
          try Output.json(Output.results(query: id, matches: matches, terms: terms)))
      } else {
        Terminal.standardOutput(
          "related to \(paperIndex.id(at: position)): \(paperIndex.title(at: position))\n")
        Terminal.standardOutput(Output.table(matches, terms: terms))
      }
    }
  }

  /// `semblance search INDEX "free text" [-k 10] [--json] [--explain] [--exact]`
  struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Find the papers most about a piece of free text.",
      discussion: """
        The text is analysed like an abstract and folded into the index's LSA space.

        --explain lists, for each result, the terms of the text that contribute most to its \
        TF-IDF cosine with the paper, as "terms" in JSON.

        Examples:
          semblance search papers.idx "time series forecasting" -k 5 --explain
          semblance search papers.idx "graph neural networks" --json
        """)

    @Argument(help: "The index file.")
    var index: String

    @Argument(help: "The text to search for.")
    var text: String

    @OptionGroup var options: QueryOptions

    func run() throws {
      let paperIndex = try loadIndex(index)
      let matches = try paperIndex.search(text, count: options.count, exact: options.exact)
      let terms = try options.explain
        ? matches.map { try paperIndex.explain($0, forText: text, count: Output.explainedTerms) }
        : nil
      if options.json {
        Terminal.standardOutput(
          try Output.json(Output.results(query: text, matches: matches, terms: terms)))
      } else {
        Terminal.standardOutput(Output.table(matches, terms: terms))
      }
    }
  }
}
