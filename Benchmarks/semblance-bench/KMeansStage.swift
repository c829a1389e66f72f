import Semblance

// HOOK: k-means stage.
//
// `SphericalKMeans` (DESIGN §4, Clustering) is being written on another branch and is not in
// the library yet, so `run` reports this stage as skipped and prints no number for it.
// When it lands, replace the body of `runKMeansStage` with: fit `SphericalKMeans` with
// `clusters` clusters (seed 0) on `index.embeddings`, and return its assignments, one per
// paper. `Run` already times the call, records memory, computes the GFLOP/s of the Lloyd
// iterations it reports, and scores the assignments with
// `Quality.normalizedMutualInformation` against the labels.

/// What a k-means run gives the benchmark.
struct KMeansOutcome {
  /// The cluster of each paper, by position.
  var assignments: [Int32]
  /// Lloyd iterations run in total (over all restarts), to estimate FLOPs: each costs 2·n·k·d.
  var iterations: Int
}

/// Why the k-means stage did not run, or nil when it can run.
let kMeansUnavailableReason: String? = "SphericalKMeans is not in the library yet"

/// Clusters the index's embeddings; nil while `SphericalKMeans` does not exist.
func runKMeansStage(index: PaperIndex, clusters: Int) throws -> KMeansOutcome? {
  nil
}
