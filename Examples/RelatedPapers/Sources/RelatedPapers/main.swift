// RelatedPapers: build a PaperIndex from a corpus, then print the papers related to one
// paper, the results of a search, and labelled clusters.
//
//   swift run --package-path Examples/RelatedPapers               # the bundled 81 abstracts
//   swift run --package-path Examples/RelatedPapers RelatedPapers CORPUS [ID] [QUERY]
//
// (With arguments, `swift run` needs the product name first.)
//
// CORPUS is any file `semblance index` reads (.txt, .jsonl, .json, .csv, .tsv). ID is a paper
// id or a unique title fragment (default: the first paper). QUERY is free text.

import Foundation
import Semblance

/// The demo corpus that ships with the `semblance` tool, found from this source file's
/// location (Examples/RelatedPapers/Sources/RelatedPapers/main.swift), so the program works
/// from any working directory.
func bundledCorpus() -> URL {
  var root = URL(fileURLWithPath: #filePath)
  for _ in 0..<5 { root.deleteLastPathComponent() }
  return root.appendingPathComponent("Sources/semblance/Resources/hf-daily-papers.txt")
}

func printMatches(_ matches: [Match]) {
  for (rank, match) in matches.enumerated() {
    print("  \(rank + 1). \(String(format: "%.3f", match.score))  [\(match.id)] \(match.title)")
  }
}

func run(_ arguments: [String]) throws {
  let corpus = arguments.first.map { URL(fileURLWithPath: $0) } ?? bundledCorpus()
  let papers = try Corpus.read(contentsOf: corpus)
  let index = try PaperIndex(papers)
  print("Indexed \(index.count) papers from \(corpus.lastPathComponent): "
    + "\(index.termCount) terms, \(index.dimensions) LSA dimensions")

  // Papers related to one paper: by id, or by a fragment of exactly one title.
  let key = arguments.count > 1 ? arguments[1] : index.id(at: 0)
  let position = try index.position(matching: key)
  print("\nRelated to [\(index.id(at: position))] \(index.title(at: position))")
  let related = try index.related(toPosition: position, count: 5)
  printMatches(related)
  if let best = related.first {
    let shared = try index.explain(best, forPosition: position, count: 5).map(\.term)
    print("     shared with result 1: \(shared.joined(separator: ", "))")
  }

  // Free-text search: the text is folded into the same LSA space.
  let query = arguments.count > 2 ? arguments[2] : "time series forecasting"
  print("\nSearch \"\(query)\"")
  printMatches(try index.search(query, count: 5))

  // Labelled clusters: spherical k-means on the embeddings, labels by class-based TF-IDF.
  let clustering = try index.clusters(.count(min(5, index.count)))
  print("\n\(clustering.k) clusters (silhouette \(String(format: "%.3f", clustering.silhouette)))")
  for cluster in clustering.clusters {
    let papers = cluster.size == 1 ? "paper" : "papers"
    print("  \(cluster.id). \(cluster.size) \(papers): \(cluster.label.joined(separator: ", "))")
    for position in cluster.positions.prefix(2) {
      print("       - \(index.title(at: position))")
    }
  }
}

do {
  try run(Array(CommandLine.arguments.dropFirst()))
} catch {
  FileHandle.standardError.write(Data("error: \(error)\n".utf8))
  exit(1)
}
