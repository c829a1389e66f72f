import ArgumentParser
import Foundation

/// `semblance-bench`: a synthetic corpus generator and a stage-by-stage benchmark of the
/// Semblance pipeline (see Docs/Benchmarks.md).
@main
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "semblance-bench",
    abstract: "Generate synthetic corpora and time every stage of Semblance on them.",
    discussion: """
      Build in release mode first: swift build -c release

        semblance-bench generate --documents 34000 -o corpus.jsonl
        semblance-bench run --corpus corpus.jsonl
        semblance-bench run --synthetic 10000 --json
        semblance-bench query --index corpus.idx
        semblance-bench relevance --corpus corpus.jsonl --alphas 1,0.8,0.5
        semblance-bench peak
      """,
    subcommands: [
      Generate.self, Run.self, Analyze.self, IVF.self, Query.self, Relevance.self, Peak.self,
    ]
  )
}
