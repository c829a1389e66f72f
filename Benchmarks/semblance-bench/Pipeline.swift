import Foundation
import Semblance

/// One measured stage of one run.
struct StageMeasurement: Codable, Sendable {
  /// A short stable name: read, analyze, svd, embed, knn, kmeans, related, write, load.
  var name: String
  /// What the stage covers, for the table.
  var title: String
  /// Wall time (s); nil when the stage was skipped.
  var seconds: Double?
  /// The work the throughput is computed from: bytes, FLOPs or queries.
  var work: Double?
  /// "MB/s", "GFLOP/s" or "queries/s".
  var unit: String?
  /// Memory right after the stage.
  var memory: MemorySnapshot?
  /// Why the stage did not run, when it did not.
  var skipped: String?
}

/// Label agreement of the run, when the corpus is labelled.
struct QualityMeasurement: Codable, Sendable {
  /// k of P@k.
  var k: Int
  /// Distinct labels.
  var labels: Int
  /// P@k of the LSA kNN graph over every paper (the IVF graph when the exact one was skipped).
  var lsaAllPapers: Double
  /// Which graph `lsaAllPapers` and `lsaSample` score: "exact" or "IVF".
  var lsaGraph: String
  /// P@k of the LSA kNN graph on the sampled queries.
  var lsaSample: Double
  /// P@k of `related(toPosition:count:)` (hybrid ranking) on the same sample.
  var hybridSample: Double
  /// Sampled queries.
  var sampleSize: Int
  /// NMI of the k-means clustering against the labels, once k-means runs.
  var kMeansNMI: Double?
}

/// Sizes of what was built, for the report.
struct IndexShape: Codable, Sendable {
  var documents: Int
  var terms: Int
  var nonzeros: Int
  var dimensions: Int
  var emptyDocuments: Int
  var corpusBytes: Int
  var indexBytes: Int
  /// The SVD solver that ran, and the FLOP model used for it.
  var svdAlgorithm: String
  var svdPowerIterations: Int?
  var svdBlockWidth: Int?
  /// The share of the TF-IDF matrix's variance the embedding keeps (higher is closer to the
  /// exact truncated SVD).
  var explainedVariance: Double
}

/// Everything one pass of the pipeline measured.
struct PipelineRun: Codable, Sendable {
  var stages: [StageMeasurement]
  var shape: IndexShape
  var quality: QualityMeasurement?
  /// The IVF index, when the run built one.
  var ivf: IVFMeasurement?
}

/// Records when `PaperIndex`'s progress callback first reports each stage, and the memory then.
final class StageClock: @unchecked Sendable {
  private let lock = NSLock()
  private var marks: [PaperIndex.Stage: (ContinuousClock.Instant, MemorySnapshot)] = [:]

  func record(_ stage: PaperIndex.Stage) {
    lock.lock()
    defer { lock.unlock() }
    if marks[stage] == nil { marks[stage] = (.now, .now()) }
  }

  func mark(_ stage: PaperIndex.Stage) -> (ContinuousClock.Instant, MemorySnapshot)? {
    lock.lock()
    defer { lock.unlock() }
    return marks[stage]
  }
}

/// One pass over every stage, the way `semblance index` and a client app would run them.
struct Pipeline {
  let corpusPath: String
  let indexPath: String
  let dimensions: Int
  let k: Int
  let clusters: Int
  let queries: Int
  /// When the index builds an IVF (`--ivf`; by default above 100,000 papers).
  let approximateSearch: IndexConfiguration.ApproximateSearch
  let peak: SGEMMPeak
  /// Whether to score labels (the first run only; the others time the same work).
  let scoresQuality: Bool
  /// Whether to skip the exact all-pairs graph when there is an IVF (`--skip-exact-knn`):
  /// at 300,000 papers it alone takes minutes.
  var skipsExactKNN = false
  /// Power iterations of the randomized SVD; nil for the library's default.
  var powerIterations: Int?

  func run() throws -> PipelineRun {
    var stages: [StageMeasurement] = []
    let corpusURL = URL(fileURLWithPath: corpusPath)

    // Read: parse the corpus file into papers.
    var start = ContinuousClock.now
    let papers = try Corpus.read(contentsOf: corpusURL)
    let readSeconds = (ContinuousClock.now - start).seconds
    let corpusBytes =
      (try FileManager.default.attributesOfItem(atPath: corpusPath)[.size] as? NSNumber)?.intValue
      ?? 0
    stages.append(
      StageMeasurement(
        name: "read", title: "read corpus", seconds: readSeconds,
        work: Double(corpusBytes), unit: "MB/s", memory: .now()))

    // Build: analyze + TF-IDF, SVD and normalisation, split by the progress callback.
    var configuration = IndexConfiguration.default
    configuration.dimensions = dimensions
    configuration.approximateSearch = approximateSearch
    configuration.powerIterations = powerIterations
    let clock = StageClock()
    start = ContinuousClock.now
    let index = try PaperIndex(papers, configuration: configuration) { _, stage in
      clock.record(stage)
    }
    let built = ContinuousClock.now
    let builtMemory = MemorySnapshot.now()
    let n = index.count, d = index.dimensions, m = index.termCount
    let nnz = index.tfidf.nonzeroCount
    let svdModel = SVDFlopModel(index: index, oversampling: configuration.oversampling)
    if let decomposing = clock.mark(.decomposing), let embedding = clock.mark(.embedding) {
      stages.append(
        StageMeasurement(
          name: "analyze", title: "analyze + TF-IDF", seconds: (decomposing.0 - start).seconds,
          work: Double(corpusBytes), unit: "MB/s", memory: decomposing.1))
      stages.append(
        StageMeasurement(
          name: "svd", title: "SVD (\(svdModel.label))", seconds: (embedding.0 - decomposing.0).seconds,
          work: svdModel.flops, unit: svdModel.flops == nil ? nil : "GFLOP/s", memory: embedding.1))
      let partitioning = clock.mark(.partitioning)
      stages.append(
        StageMeasurement(
          name: "embed", title: "normalise + id tables",
          seconds: ((partitioning?.0 ?? built) - embedding.0).seconds,
          memory: partitioning?.1 ?? builtMemory))
      if let partitioning, let ivf = index.approximateIndex {
        stages.append(
          StageMeasurement(
            name: "ivf", title: "IVF: \(ivf.listCount) lists, calibrate nprobe",
            seconds: (built - partitioning.0).seconds, memory: builtMemory))
      }
    } else {
      stages.append(
        StageMeasurement(
          name: "build", title: "build index (analyze + SVD)", seconds: (built - start).seconds,
          work: Double(corpusBytes), unit: "MB/s", memory: builtMemory))
    }

    // All-pairs kNN on the normalised embeddings.
    var exact: (graph: [[Neighbor]], seconds: Double)?
    if skipsExactKNN && index.approximateIndex != nil {
      stages.append(
        StageMeasurement(name: "knn", title: "kNN all pairs (k=\(k))", skipped: "--skip-exact-knn"))
    } else {
      start = ContinuousClock.now
      let graph = ExactNeighborIndex(index.embeddings).neighbors(count: min(k, n - 1))
      let seconds = (ContinuousClock.now - start).seconds
      exact = (graph, seconds)
      stages.append(
        StageMeasurement(
          name: "knn", title: "kNN all pairs (k=\(k))", seconds: seconds,
          work: 2 * Double(n) * Double(n) * Double(d), unit: "GFLOP/s", memory: .now()))
    }

    // The same graph through the IVF index, when there is one.
    var ivfMeasurement: IVFMeasurement?
    var approximateGraph: [[Neighbor]]?
    if let ivf = index.approximateIndex {
      start = ContinuousClock.now
      let approximate = ivf.neighbors(count: min(k, n - 1))
      let seconds = (ContinuousClock.now - start).seconds
      approximateGraph = approximate
      stages.append(
        StageMeasurement(
          name: "ivf-knn", title: "kNN all pairs, IVF (nprobe \(ivf.nprobe))", seconds: seconds,
          work: Double(n), unit: "queries/s", memory: .now()))
      ivfMeasurement = IVFMeasurement(
        lists: ivf.listCount, nprobe: ivf.nprobe, calibratedRecall: ivf.calibratedRecall,
        k: min(k, n - 1), graphRecall: exact.map { IVFMeasurement.recall(approximate, exact: $0.graph) },
        speedup: exact.map { seconds > 0 ? $0.seconds / seconds : 0 })
    }
    let graph = exact?.graph ?? approximateGraph ?? []

    // k-means: a marked hook until SphericalKMeans exists (see KMeansStage.swift).
    var kMeans: KMeansOutcome?
    if let reason = kMeansUnavailableReason {
      stages.append(
        StageMeasurement(name: "kmeans", title: "k-means (k=\(clusters))", skipped: reason))
    } else {
      start = ContinuousClock.now
      kMeans = try runKMeansStage(index: index, clusters: clusters)
      let seconds = (ContinuousClock.now - start).seconds
      stages.append(
        StageMeasurement(
          name: "kmeans", title: "k-means (k=\(clusters))", seconds: seconds,
          work: kMeans.map { 2 * Double(n) * Double(clusters) * Double(d) * Double($0.iterations) },
          unit: "GFLOP/s", memory: .now()))
    }

    // Related-paper queries with the default hybrid ranking, on evenly spaced papers.
    let sample = Quality.evenSample(queries, of: n)
    start = ContinuousClock.now
    var hybrid: [[Int]] = []
    hybrid.reserveCapacity(sample.count)
    for position in sample {
      hybrid.append(try index.related(toPosition: position, count: min(k, n - 1)).map(\.position))
    }
    stages.append(
      StageMeasurement(
        name: "related", title: "related ×\(sample.count) (hybrid)",
        seconds: (ContinuousClock.now - start).seconds, work: Double(sample.count),
        unit: "queries/s", memory: .now()))

    // Write the index file, then load it back (mapping and checksum verification).
    start = ContinuousClock.now
    try index.write(to: URL(fileURLWithPath: indexPath))
    let writeSeconds = (ContinuousClock.now - start).seconds
    let indexBytes =
      (try FileManager.default.attributesOfItem(atPath: indexPath)[.size] as? NSNumber)?.intValue
      ?? 0
    stages.append(
      StageMeasurement(
        name: "write", title: "write index", seconds: writeSeconds, work: Double(indexBytes),
        unit: "MB/s", memory: .now()))
    start = ContinuousClock.now
    let loaded = try PaperIndex(contentsOf: URL(fileURLWithPath: indexPath))
    let loadSeconds = (ContinuousClock.now - start).seconds
    guard loaded.count == n else {
      throw BenchError.invalid("the loaded index has \(loaded.count) papers, not \(n)")
    }
    stages.append(
      StageMeasurement(
        name: "load", title: "load index (map + verify)", seconds: loadSeconds,
        work: Double(indexBytes), unit: "MB/s", memory: .now()))

    // Label agreement.
    var quality: QualityMeasurement?
    if scoresQuality, let labels = Self.labels(of: papers) {
      let allPositions = Array(0..<n)
      let lsaLists = graph.map { $0.map(\.position) }
      quality = QualityMeasurement(
        k: k, labels: Set(labels).count,
        lsaAllPapers: Quality.precisionAtK(
          labels: labels, queries: allPositions, neighbours: lsaLists, k: k),
        lsaGraph: exact == nil ? "IVF" : "exact",
        lsaSample: Quality.precisionAtK(
          labels: labels, queries: sample, neighbours: sample.map { lsaLists[$0] }, k: k),
        hybridSample: Quality.precisionAtK(
          labels: labels, queries: sample, neighbours: hybrid, k: k),
        sampleSize: sample.count,
        kMeansNMI: kMeans.map { Quality.normalizedMutualInformation(labels, $0.assignments) })
    }

    let shape = IndexShape(
      documents: n, terms: m, nonzeros: nnz, dimensions: d,
      emptyDocuments: index.emptyDocumentCount, corpusBytes: corpusBytes, indexBytes: indexBytes,
      svdAlgorithm: index.svd.algorithm.rawValue, svdPowerIterations: svdModel.powerIterations,
      svdBlockWidth: svdModel.width,
      explainedVariance: index.svd.explainedVarianceRatio.reduce(0) { $0 + Double($1) })
    return PipelineRun(stages: stages, shape: shape, quality: quality, ivf: ivfMeasurement)
  }

  /// Label numbers, when every paper has a non-empty `label`.
  static func labels(of papers: [Paper]) -> [Int32]? {
    var numbers: [String: Int32] = [:]
    var labels: [Int32] = []
    labels.reserveCapacity(papers.count)
    for paper in papers {
      guard let label = paper.metadata["label"], !label.isEmpty else { return nil }
      if let number = numbers[label] {
        labels.append(number)
      } else {
        let number = Int32(numbers.count)
        numbers[label] = number
        labels.append(number)
      }
    }
    return labels
  }
}

/// An estimate of the floating-point work of the randomized SVD (Halko, Martinsson &
/// Tropp 2011) as `TruncatedSVD` documents it: w = k + oversampling columns, q power
/// iterations (`TruncatedSVD.defaultPowerIterations` unless configured).
///
/// - sparse products: q + 2 products X (Xᵀ Q) (q + 1 iterates and the one that forms B Bᵀ),
///   two passes of 2·nnz·w each, and the pass that forms V, 2·nnz·k;
/// - orthonormalising the q + 1 iterates: a Gram matrix (2·n·w²) and a triangular solve
///   (n·w²) per CholeskyQR pass, one pass for each iterate but the last, which gets two;
/// - Qᵀ Y for B Bᵀ, 2·n·w², and U Σ = Q (W Σ), 2·n·w·k.
///
/// It ignores the small eigendecomposition (O(w³)) and the explained-variance pass. The exact
/// solver (used when the smaller side is at most 2,000) has no estimate.
struct SVDFlopModel {
  var flops: Double?
  var powerIterations: Int?
  var width: Int?
  var label: String

  init(index: PaperIndex, oversampling: Int) {
    let n = Double(index.count)
    let k = index.dimensions
    guard index.svd.algorithm == .randomized else {
      label = index.svd.algorithm.rawValue
      return
    }
    let smaller = min(index.count, index.termCount)
    let q = index.configuration.powerIterations ?? TruncatedSVD.defaultPowerIterations
    let w = min(k + oversampling, smaller)
    let wd = Double(w), kd = Double(k), qd = Double(q)
    let nnz = Double(index.tfidf.nonzeroCount)
    let sparse = (2 * qd + 4) * 2 * nnz * wd + 2 * nnz * kd
    let qr = 3 * n * wd * wd * (qd + 2)
    let dense = 2 * n * wd * wd + 2 * n * wd * kd
    flops = sparse + qr + dense
    powerIterations = q
    width = w
    label = "randomized, q=\(q)"
  }
}
