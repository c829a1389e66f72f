import Semblance

/// What a k-means run gives the benchmark.
struct KMeansOutcome {
  /// The cluster of each paper, by position.
  var assignments: [Int32]
  /// Lloyd iterations run in total (over all restarts), to estimate FLOPs: each costs 2·n·k·d.
  var iterations: Int
}

/// Why the k-means stage did not run, or nil when it can run.
let kMeansUnavailableReason: String? = nil

/// Clusters the index's embeddings with `SphericalKMeans` (seed 0, default restarts), as
/// `semblance cluster -k` does; `Run` times the call and scores the assignments by NMI.
func runKMeansStage(index: PaperIndex, clusters: Int) throws -> KMeansOutcome? {
  let model = try SphericalKMeans.fit(
    index.embeddings, configuration: SphericalKMeans.Configuration(clusters: clusters, seed: 0))
  return KMeansOutcome(assignments: model.assignments.map { Int32($0) }, iterations: model.iterations)
}
