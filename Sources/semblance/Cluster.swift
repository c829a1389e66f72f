import ArgumentParser
import Foundation
import Semblance

extension SemblanceCommand {
  /// `semblance cluster INDEX (-k N | --auto) [--seed 0] [--json] [--hierarchical]`
  struct ClusterPapers: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "cluster",
      abstract: "Group the papers of an index into labelled clusters.",
      discussion: """
        Spherical k-means on the LSA embeddings (k-means++ seeding, several restarts), or \
        with --hierarchical average-linkage clustering cut at k (at most 20,000 papers). \
        --auto picks k in --range by silhouette. Labels are each cluster's strongest terms by \
        class-based TF-IDF. The same --seed gives the same clusters.

        Examples:
          semblance cluster papers.idx -k 8
          semblance cluster papers.idx --auto --range 2...30 --json
          semblance cluster papers.idx -k 12 --hierarchical
        """)

    @Argument(help: "The index file.")
    var index: String

    @Option(name: .customShort("k"), help: "The number of clusters.")
    var count: Int?

    @Flag(help: "Choose the number of clusters by silhouette.")
    var auto = false

    @Option(help: ArgumentHelp("The range of k that --auto chooses from.", valueName: "LOW...HIGH"))
    var range: String = "2...30"

    @Option(help: "The seed of every random choice.")
    var seed: UInt64 = 0

    @Option(help: "k-means restarts; the best objective wins.")
    var restarts: Int = 3

    @Option(help: "The most k-means iterations per restart.")
    var maxIterations: Int = 100

    @Flag(help: "Average-linkage agglomerative clustering instead of k-means.")
    var hierarchical = false

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print the time of each stage to standard error.")
    var timings = false

    func validate() throws {
      switch (count, auto) {
      case (nil, false): throw ValidationError("give either -k N or --auto")
      case (.some, true): throw ValidationError("-k and --auto cannot be used together")
      case (.some(let k), false) where k < 1: throw ValidationError("-k must be at least 1")
      default: break
      }
      if auto { _ = try parsedRange() }
      guard restarts >= 1 else { throw ValidationError("--restarts must be at least 1") }
      guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
    }

    func parsedRange() throws -> ClosedRange<Int> {
      let parts = range.components(separatedBy: "...")
      guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 2 <= low,
        low <= high
      else {
        throw ValidationError("--range must look like 2...30, with 2 ≤ LOW ≤ HIGH")
      }
      return low...high
    }

    func run() throws {
      let paperIndex = try loadIndex(index)
      let options = ClusteringOptions(
        method: hierarchical ? .averageLinkage : .sphericalKMeans, seed: seed,
        restarts: restarts, maxIterations: maxIterations)
      let request: ClusterRequest = try count.map { .count($0) } ?? .automatic(range: parsedRange())
      let clock = StageClock()
      let clustering = try paperIndex.clusters(
        request, options: options, progress: timings ? clock.record : nil)
      if timings { Terminal.standardError(clock.summary()) }
      if json {
        Terminal.standardOutput(try Output.json(Output.clusters(clustering)))
      } else {
        Terminal.standardOutput(Output.clusterTable(clustering, index: paperIndex))
      }
    }
  }
}

/// Wall time per clustering stage, from the progress callback.
final class StageClock: @unchecked Sendable {
  private let lock = NSLock()
  private var current: (stage: PaperIndex.ClusteringStage, since: Date)?
  private var totals: [(PaperIndex.ClusteringStage, TimeInterval)] = []

  @Sendable func record(_ fraction: Double, _ stage: PaperIndex.ClusteringStage) {
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    if let current {
      let elapsed = now.timeIntervalSince(current.since)
      if let slot = totals.firstIndex(where: { $0.0 == current.stage }) {
        totals[slot].1 += elapsed
      } else {
        totals.append((current.stage, elapsed))
      }
    }
    current = (stage, now)
  }

  func summary() -> String {
    lock.lock()
    defer { lock.unlock() }
    return totals.map { "\($0.0.rawValue)\t\(String(format: "%.6f", $0.1)) s\n" }.joined()
  }
}

extension Output {
  /// One cluster, as the JSON contract of `cluster` gives it.
  struct ClusterEntry: Encodable {
    var id: Int
    var size: Int
    var label: [String]
    var members: [String]
  }

  /// The JSON document of `cluster`.
  struct Clusters: Encodable {
    var k: Int
    var silhouette: Double
    var clusters: [ClusterEntry]
  }

  static func clusters(_ clustering: Clustering) -> Clusters {
    Clusters(
      k: clustering.k, silhouette: decimal(clustering.silhouette),
      clusters: clustering.clusters.map {
        ClusterEntry(id: $0.id, size: $0.size, label: $0.label, members: $0.members)
      })
  }

  /// The `count` members closest to the cluster's mean embedding, closest first (ties: the
  /// lower position).
  static func representatives(of cluster: Cluster, in index: PaperIndex, count: Int) -> [Int] {
    let d = index.dimensions
    var mean = [Float](repeating: 0, count: d)
    let rows = cluster.positions.map { index.embeddings.row($0) }
    for row in rows { for j in 0..<d { mean[j] += row[j] } }
    let scored = zip(cluster.positions, rows).map { position, row in
      (position, zip(row, mean).reduce(Float(0)) { $0 + $1.0 * $1.1 })
    }
    return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(count).map(\.0)
  }

  /// An aligned table: id, size and label, then the titles of each cluster's most central
  /// members.
  static func clusterTable(
    _ clustering: Clustering, index: PaperIndex, titles shown: Int = 3
  ) -> String {
    let idWidth = max(2, String(clustering.k - 1).count)
    let sizeWidth = max(4, String(clustering.clusters.map(\.size).max() ?? 0).count)
    let indent = String(repeating: " ", count: idWidth + sizeWidth + 4)
    var text = "\(clustering.k) clusters, silhouette \(String(format: "%.3f", clustering.silhouette))\n"
    text += "\("id".leftPadded(to: idWidth))  \("size".leftPadded(to: sizeWidth))  label\n"
    for cluster in clustering.clusters {
      let label = cluster.label.isEmpty ? "(no terms)" : cluster.label.joined(separator: ", ")
      text += "\(String(cluster.id).leftPadded(to: idWidth))  "
      text += "\(String(cluster.size).leftPadded(to: sizeWidth))  \(label)\n"
      for position in representatives(of: cluster, in: index, count: shown) {
        text += "\(indent)- \(index.title(at: position))\n"
      }
      if cluster.size > shown { text += "\(indent)  … and \(cluster.size - shown) more\n" }
    }
    return text
  }
}
