import ArgumentParser
import Foundation
import Semblance

extension BenchCommand {
  /// `semblance-bench run (--corpus FILE | --synthetic N) [--dimensions 128] [-k 10] [--clusters 40] [--json] [--repeat R]`
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Time every stage of the pipeline on a corpus: read, analyze + TF-IDF, SVD, "
        + "all-pairs kNN, k-means, related-paper queries, index write and load.",
      discussion: """
        Each stage reports its wall time, a throughput (MB/s of corpus for read and analyze, \
        GFLOP/s against the measured SGEMM peak for SVD and kNN, MB/s of index file for write \
        and load) and the process's peak and current resident memory right after it. \
        When every paper has a "label" field, it also reports label agreement (P@k) of the \
        LSA kNN graph and of the default hybrid ranking of related(toPosition:count:). \
        With --repeat R, times are medians over R runs; memory and quality come from run 1.
        """)

    @Option(help: "A corpus file (.jsonl, .json, .csv, .tsv or .txt).")
    var corpus: String?

    @Option(help: "Generate a synthetic corpus of this many papers (in a temporary file) instead.")
    var synthetic: Int?

    @Option(help: "Topics of the synthetic corpus.")
    var topics = 40

    @Option(help: "Seed of the synthetic corpus.")
    var seed: UInt64 = 0

    @Option(help: "LSA dimensions.")
    var dimensions = 128

    @Option(
      name: .customLong("power-iterations"),
      help: "Power iterations of the randomized SVD (default: the library's choice).")
    var powerIterations: Int?

    @Option(name: .customShort("k"), help: "Neighbours per paper (kNN graph, related queries, P@k).")
    var k = 10

    @Option(help: "k-means clusters (the stage runs once SphericalKMeans exists).")
    var clusters = 40

    @Option(help: "Related-paper queries to time and score (evenly spaced papers).")
    var queries = 2_000

    @Option(help: "Build an IVF index: automatic (above 100,000 papers), always or never.")
    var ivf: IndexConfiguration.ApproximateSearch = .automatic

    @Option(name: .customLong("repeat"), help: "Run the pipeline this many times; report median times.")
    var repeats = 1

    @Option(name: .customLong("sgemm-size"), help: "Matrix size of the SGEMM peak measurement.")
    var sgemmSize = 4096

    @Option(name: .customLong("peak-gflops"), help: "Use this SGEMM peak (GFLOP/s) instead of measuring it.")
    var peakGflops: Double?

    @Flag(
      name: .customLong("skip-exact-knn"),
      help: "When the index has an IVF, skip the exact all-pairs graph (P@k then scores the IVF graph).")
    var skipsExactKNN = false

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
      guard (corpus == nil) != (synthetic == nil) else {
        throw ValidationError("give exactly one of --corpus FILE and --synthetic N")
      }
      if let synthetic, synthetic < 2 { throw ValidationError("--synthetic must be at least 2") }
      guard topics >= 1 else { throw ValidationError("--topics must be at least 1") }
      guard dimensions >= 1 else { throw ValidationError("--dimensions must be at least 1") }
      if let powerIterations, powerIterations < 0 {
        throw ValidationError("--power-iterations must be at least 0")
      }
      guard k >= 1 else { throw ValidationError("-k must be at least 1") }
      guard clusters >= 1 else { throw ValidationError("--clusters must be at least 1") }
      guard queries >= 0 else { throw ValidationError("--queries must be at least 0") }
      guard repeats >= 1 else { throw ValidationError("--repeat must be at least 1") }
      guard sgemmSize >= 64 else { throw ValidationError("--sgemm-size must be at least 64") }
      if let peakGflops, !(peakGflops > 0) { throw ValidationError("--peak-gflops must be positive") }
    }

    func run() throws {
      let peak: SGEMMPeak
      if let peakGflops {
        peak = SGEMMPeak(
          size: 0, repeats: 0, bestSeconds: 0, gflops: peakGflops,
          blasThreads: SGEMMPeak.currentThreads, blasConfiguration: SGEMMPeak.blasDescription)
      } else {
        if !json { standardError("measuring the SGEMM peak (\(sgemmSize)³, best of 3)…\n") }
        peak = try SGEMMPeak.measureInChildProcess(size: sgemmSize, repeats: 3)
      }

      var corpusPath = corpus ?? ""
      var generated: GeneratedCorpus?
      if let synthetic {
        corpusPath = NSTemporaryDirectory() + "semblance-bench-\(getpid()).jsonl"
        let start = ContinuousClock.now
        let bytes = try CorpusGenerator(.init(topics: topics, seed: seed))
          .write(documents: synthetic, to: corpusPath)
        generated = GeneratedCorpus(
          documents: synthetic, topics: topics, seed: seed, bytes: bytes,
          seconds: (ContinuousClock.now - start).seconds)
      }
      defer { if generated != nil { try? FileManager.default.removeItem(atPath: corpusPath) } }
      let indexPath = NSTemporaryDirectory() + "semblance-bench-\(getpid()).idx"
      defer { try? FileManager.default.removeItem(atPath: indexPath) }

      var runs: [PipelineRun] = []
      for run in 0..<repeats {
        if !json && repeats > 1 { standardError("run \(run + 1) of \(repeats)…\n") }
        runs.append(
          try Pipeline(
            corpusPath: corpusPath, indexPath: indexPath, dimensions: dimensions, k: k,
            clusters: clusters, queries: queries, approximateSearch: ivf, peak: peak,
            scoresQuality: run == 0, skipsExactKNN: skipsExactKNN,
            powerIterations: powerIterations
          ).run())
      }
      let report = BenchReport(
        runs: runs, peak: peak, generated: generated, corpusPath: corpus ?? "(synthetic)",
        repeats: repeats, processors: ProcessInfo.processInfo.activeProcessorCount)
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

/// How a synthetic corpus was made.
struct GeneratedCorpus: Codable, Sendable {
  var documents: Int
  var topics: Int
  var seed: UInt64
  var bytes: Int
  var seconds: Double
}
