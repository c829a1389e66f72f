import Foundation

/// The result of `semblance-bench run`: per-stage medians over the runs, the machine's SGEMM
/// peak, the shape of the index and label agreement.
struct BenchReport: Codable, Sendable {
  /// One stage, aggregated over the runs.
  struct Stage: Codable, Sendable {
    var name: String
    var title: String
    /// Median wall time (s) over the runs; nil when skipped.
    var seconds: Double?
    /// Every run's wall time (s).
    var runs: [Double]
    /// Work per run (bytes, FLOPs or queries) and its unit per second.
    var work: Double?
    var unit: String?
    /// work / seconds, in `unit` (MB/s uses 10⁶ bytes).
    var throughput: Double?
    /// For GFLOP/s stages: throughput as a percentage of the SGEMM peak.
    var percentOfPeak: Double?
    /// Memory right after the stage, in run 1.
    var peakRSS: Int?
    var currentRSS: Int?
    var skipped: String?
  }

  var corpus: String
  var generated: GeneratedCorpus?
  var repeats: Int
  var processors: Int
  var sgemmPeak: SGEMMPeak
  var shape: IndexShape
  var stages: [Stage]
  var quality: QualityMeasurement?
  /// The IVF index of run 1, when it built one.
  var ivf: IVFMeasurement?
  /// kNN: 2·n²·d / peak, the time pure SGEMM work would take, and the measured multiple of it.
  var knnFloorSeconds: Double?
  var knnTimeOverFloor: Double?

  init(
    runs: [PipelineRun], peak: SGEMMPeak, generated: GeneratedCorpus?, corpusPath: String,
    repeats: Int, processors: Int
  ) {
    let first = runs[0]
    corpus = corpusPath
    self.generated = generated
    self.repeats = repeats
    self.processors = processors
    sgemmPeak = peak
    shape = first.shape
    quality = first.quality
    ivf = first.ivf
    stages = first.stages.indices.map { index in
      let stage = first.stages[index]
      let times = runs.compactMap { $0.stages[index].seconds }
      let seconds = times.isEmpty ? nil : median(times)
      var throughput: Double?
      var percent: Double?
      if let seconds, let work = stage.work, let unit = stage.unit, seconds > 0 {
        switch unit {
        case "MB/s": throughput = work / 1e6 / seconds
        case "GFLOP/s":
          throughput = work / 1e9 / seconds
          percent = 100 * throughput! / peak.gflops
        default: throughput = work / seconds
        }
      }
      return Stage(
        name: stage.name, title: stage.title, seconds: seconds, runs: times, work: stage.work,
        unit: stage.unit, throughput: throughput, percentOfPeak: percent,
        peakRSS: stage.memory?.peakRSS, currentRSS: stage.memory?.currentRSS,
        skipped: stage.skipped)
    }
    if let knn = stages.first(where: { $0.name == "knn" }), let work = knn.work,
      let seconds = knn.seconds
    {
      let floor = work / (peak.gflops * 1e9)
      knnFloorSeconds = floor
      knnTimeOverFloor = seconds / floor
    }
  }

  /// The human-readable report: a header, an aligned stage table and label agreement.
  func table() -> String {
    var lines: [String] = []
    let source =
      generated.map { "synthetic: \($0.documents) papers, \($0.topics) topics, seed \($0.seed)" }
      ?? corpus
    lines.append("corpus     \(source), \(formatBytes(shape.corpusBytes))")
    lines.append(
      "index      \(shape.documents) papers, \(shape.terms) terms, \(shape.nonzeros) nonzeros, "
        + "\(shape.dimensions) dimensions, \(shape.emptyDocuments) empty, file \(formatBytes(shape.indexBytes))")
    let peakText =
      sgemmPeak.size > 0
      ? String(
        format: "%.1f GFLOP/s (best of %d, %d³, %.3f s)", sgemmPeak.gflops, sgemmPeak.repeats,
        sgemmPeak.size, sgemmPeak.bestSeconds)
      : String(format: "%.1f GFLOP/s (given with --peak-gflops)", sgemmPeak.gflops)
    lines.append("SGEMM peak \(peakText)")
    lines.append(
      "machine    \(processors) cores, \(sgemmPeak.blasThreads) BLAS threads, \(sgemmPeak.blasConfiguration)")
    lines.append(
      repeats > 1
        ? "times      median of \(repeats) runs; memory from run 1" : "times      one run")
    lines.append("")

    let header = ["stage", "time", "throughput", "% peak", "peak RSS", "RSS after"]
    var rows: [[String]] = []
    for stage in stages {
      if let skipped = stage.skipped {
        rows.append([stage.title, "skipped", "", "", "", ""])
        rows.append(["  (\(skipped))", "", "", "", "", ""])
        continue
      }
      let time = stage.seconds.map { formatSeconds($0) } ?? "—"
      let throughput: String
      if let value = stage.throughput, let unit = stage.unit {
        throughput = formatThroughput(value, unit: unit)
      } else {
        throughput = ""
      }
      let percent = stage.percentOfPeak.map { String(format: "%.1f%%", $0) } ?? ""
      rows.append([
        stage.title, time, throughput, percent, stage.peakRSS.map(formatBytes) ?? "",
        stage.currentRSS.map(formatBytes) ?? "",
      ])
    }
    let total = stages.compactMap(\.seconds).reduce(0, +)
    rows.append(["total", formatSeconds(total), "", "", "", ""])
    lines.append(contentsOf: alignedTable(header: header, rows: rows, rightAligned: [1, 2, 3, 4, 5]))
    lines.append("")
    if let floor = knnFloorSeconds, let ratio = knnTimeOverFloor {
      let gflop = String(format: "%.1f", (stages.first { $0.name == "knn" }?.work ?? 0) / 1e9)
      lines.append(
        "kNN        2·n²·d = \(gflop) GFLOP; at the SGEMM peak that takes \(formatSeconds(floor)); "
          + "measured \(String(format: "%.2f", ratio))× that (target ≤ 1.10×)")
    }
    if let q = shape.svdPowerIterations, let w = shape.svdBlockWidth {
      lines.append(
        "SVD        randomized, \(q) power iterations, block width \(w), explained variance "
          + String(format: "%.5f", shape.explainedVariance) + "; GFLOP/s is from an "
          + "estimated FLOP count (sparse products are memory-bound)")
    }
    if let ivf { lines.append(ivf.line) }
    if let quality {
      lines.append(
        String(
          format: "P@%d       LSA kNN%@ %.3f (all %d papers), LSA kNN %.3f and hybrid related %.3f (%d sampled queries); %d labels",
          quality.k, (quality.lsaGraph == "IVF" ? " (IVF)" : "") as NSString, quality.lsaAllPapers, shape.documents, quality.lsaSample,
          quality.hybridSample, quality.sampleSize, quality.labels))
      if let nmi = quality.kMeansNMI { lines.append(String(format: "NMI        k-means %.3f", nmi)) }
    } else {
      lines.append("P@k        no label agreement: not every paper has a \"label\" field")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

func formatSeconds(_ seconds: Double) -> String {
  if seconds >= 10 { return String(format: "%.1f s", seconds) }
  if seconds >= 0.1 { return String(format: "%.2f s", seconds) }
  return String(format: "%.1f ms", seconds * 1000)
}

func formatThroughput(_ value: Double, unit: String) -> String {
  let number = value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
  return "\(number) \(unit)"
}

/// Pads columns to a common width; the first column is left-aligned unless listed.
func alignedTable(header: [String], rows: [[String]], rightAligned: Set<Int>) -> [String] {
  let all = [header] + rows
  let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
  func render(_ row: [String]) -> String {
    row.indices.map { column in
      let cell = row[column]
      let padding = String(repeating: " ", count: widths[column] - cell.count)
      return rightAligned.contains(column) ? padding + cell : cell + padding
    }
    .joined(separator: "  ")
    .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
  }
  let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
  return [render(header), rule] + rows.map(render)
}
