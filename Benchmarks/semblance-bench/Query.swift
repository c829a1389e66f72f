import ArgumentParser
import Foundation
import Semblance

extension BenchCommand {
  /// `semblance-bench query`: single-query latency inside a loaded index.
  struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Time single related-paper and search queries inside a loaded index.",
      discussion: """
        Loads INDEX (memory-mapped, checksums verified), warms up with a few queries, then \
        runs `related(toPosition:count:)` for evenly spaced papers and `search(_:count:)` \
        for their titles, one query at a time on one thread, and prints the p50, p90, p99 \
        and maximum latency of each. This is the API-level latency a server embedding the \
        library would see.

          semblance-bench query --index arxiv.idx --queries 2000
        """)

    @Option(help: "An index file written by `semblance index`.")
    var index: String

    @Option(help: "Queries of each kind.")
    var queries = 2_000

    @Option(name: .short, help: "Results per query.")
    var k = 10

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
      guard queries >= 1 else { throw ValidationError("--queries must be at least 1") }
      guard k >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
      let loadStart = ContinuousClock.now
      let loaded = try PaperIndex(contentsOf: URL(fileURLWithPath: index))
      let loadSeconds = (ContinuousClock.now - loadStart).seconds
      let sample = Quality.evenSample(queries, of: loaded.count)
      let count = min(k, loaded.count - 1)
      guard count >= 1 else { throw BenchError.invalid("the index has fewer than 2 papers") }

      // Warm-up: touch the mapped pages and the lazily built id table once.
      for position in sample.prefix(20) {
        _ = try loaded.related(toPosition: position, count: count)
      }
      var relatedTimes: [Double] = []
      relatedTimes.reserveCapacity(sample.count)
      for position in sample {
        let start = ContinuousClock.now
        let result = try loaded.related(toPosition: position, count: count)
        relatedTimes.append((ContinuousClock.now - start).seconds)
        precondition(!result.isEmpty)
      }
      var searchTimes: [Double] = []
      searchTimes.reserveCapacity(sample.count)
      for position in sample {
        let text = loaded.title(at: position)
        let start = ContinuousClock.now
        _ = try loaded.search(text, count: count)
        searchTimes.append((ContinuousClock.now - start).seconds)
      }
      let report = QueryLatencyReport(
        index: index, papers: loaded.count, terms: loaded.termCount,
        approximate: loaded.approximateIndex != nil, loadSeconds: loadSeconds, k: count,
        related: LatencySummary(relatedTimes), search: LatencySummary(searchTimes))
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        print(report.table)
      }
    }
  }
}

/// Latency percentiles of one kind of query.
struct LatencySummary: Codable, Sendable {
  var queries: Int
  var p50Milliseconds: Double
  var p90Milliseconds: Double
  var p99Milliseconds: Double
  var maxMilliseconds: Double
  var meanMilliseconds: Double

  init(_ seconds: [Double]) {
    let sorted = seconds.sorted()
    /// The nearest-rank percentile.
    func percentile(_ p: Double) -> Double {
      let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
      return sorted[min(max(rank, 1), sorted.count) - 1] * 1_000
    }
    queries = sorted.count
    p50Milliseconds = percentile(50)
    p90Milliseconds = percentile(90)
    p99Milliseconds = percentile(99)
    maxMilliseconds = (sorted.last ?? 0) * 1_000
    meanMilliseconds = sorted.reduce(0, +) / Double(max(sorted.count, 1)) * 1_000
  }
}

/// The result of `semblance-bench query`.
struct QueryLatencyReport: Codable, Sendable {
  var index: String
  var papers: Int
  var terms: Int
  var approximate: Bool
  var loadSeconds: Double
  var k: Int
  var related: LatencySummary
  var search: LatencySummary

  var table: String {
    func row(_ name: String, _ s: LatencySummary) -> String {
      name.padding(toLength: 26, withPad: " ", startingAt: 0)
        + [s.p50Milliseconds, s.p90Milliseconds, s.p99Milliseconds, s.maxMilliseconds,
           s.meanMilliseconds]
        .map { String(format: "%9.3f", $0) }.joined(separator: " ")
    }
    return """
      index      \(index): \(papers) papers, \(terms) terms, \
      \(approximate ? "IVF candidates" : "exact candidates"), loaded in \
      \(String(format: "%.2f", loadSeconds)) s
      queries    one at a time, one thread, k = \(k), \(related.queries) of each kind

      latency (ms)                     p50       p90       p99       max      mean
      \(row("related(toPosition:)", related))
      \(row("search(title text)", search))
      """
  }
}
