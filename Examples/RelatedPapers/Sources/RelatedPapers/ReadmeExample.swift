// The Swift example of the repository's README.md, kept here so that CI compiles it
// (Tests/SemblanceTests/ReadmeTests.swift checks that the two stay identical). It is not
// called: it reads and writes files relative to the working directory.

import Foundation
import Semblance

func readmeExample() throws {
  let papers = try Corpus.read(contentsOf: URL(fileURLWithPath: "arxiv-sample.jsonl"))
  let index = try PaperIndex(papers)                            // TF-IDF + LSA
  let related = try index.related(to: "2012.07436", count: 5)   // an id or a unique title fragment
  let why = try index.explain(related[0], for: "2012.07436")    // shared terms, by contribution
  let hits = try index.search("diffusion models for image synthesis", count: 5)
  let clustering = try index.clusters(.count(4))                // clustering.clusters[0].label
  try index.write(to: URL(fileURLWithPath: "papers.idx"))       // one checksummed file
  let loaded = try PaperIndex(contentsOf: URL(fileURLWithPath: "papers.idx"))  // memory-mapped
  let grown = try loaded.adding(Corpus.read(contentsOf: URL(fileURLWithPath: "arxiv-new.jsonl")))

  _ = (why, hits, clustering, grown)
}
