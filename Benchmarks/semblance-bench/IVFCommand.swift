import ArgumentParser
import COpenBLAS
import Foundation
import Semblance

extension BenchCommand {
  /// `semblance-bench ivf (--index FILE | --vectors N [--noise 1.6]) [--queries 10000] [--all-pairs] …`
  struct IVF: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build the IVF index of an index file's embeddings and measure it: build time "
        + "by part, the calibrated nprobe, recall@10 against exact search and all-pairs time.",
      discussion: """
        Loads the embeddings of a `semblance index` file (its own IVF, if any, is ignored), or \
        makes --vectors N synthetic unit vectors in 128 dimensions around 1,000 random \
        centres with Gaussian noise of norm --noise (1.2 is easy, 1.6 hard for the IVF), and \
        builds an IVFNeighborIndex with the default configuration unless options change it, \
        and reports the time of training, filing and calibration. Recall@10 is measured \
        against exact search (brute-force SGEMM here, independent of the IVF code) on \
        --queries papers drawn with a seed other than calibration's, at the calibrated \
        nprobe and its neighbours. --all-pairs also compares the whole approximate kNN graph \
        with the exact one (O(n²·d): about 140 s at 300,000 papers on 2 cores).
        """)

    @Option(help: "An index file written by `semblance index`.")
    var index: String?

    @Option(help: "Synthetic unit vectors instead of an index file's embeddings.")
    var vectors: Int?

    @Option(help: "Noise norm of the synthetic vectors around their centres.")
    var noise = 1.2

    @Option(help: "Held-out papers whose recall@10 against exact search is measured.")
    var queries = 10_000

    @Flag(name: .customLong("all-pairs"), help: "Also compute the exact all-pairs graph and its recall.")
    var allPairs = false

    @Option(help: "Lists (default round(4·√n)).")
    var lists: Int?

    @Option(name: .customLong("training-size"), help: "Vectors the quantizer trains on.")
    var trainingSize: Int?

    @Option(help: "Lloyd iterations of the quantizer.")
    var iterations: Int?

    @Option(help: "Fix nprobe instead of calibrating it.")
    var nprobe: Int?

    @Option(name: .customLong("calibration-queries"), help: "Queries that calibrate nprobe.")
    var calibrationQueries: Int?

    @Option(help: "Seed of the IVF build.")
    var seed: UInt64 = 0

    @Option(name: .customLong("sample-seed"), help: "Seed of the held-out query sample.")
    var sampleSeed: UInt64 = 12_345

    func validate() throws {
      guard queries >= 0 else { throw ValidationError("--queries must be at least 0") }
      guard (index == nil) != (vectors == nil) else {
        throw ValidationError("give exactly one of --index FILE and --vectors N")
      }
      if let vectors, vectors < 2 { throw ValidationError("--vectors must be at least 2") }
    }

    func run() throws {
      var start = ContinuousClock.now
      let vectors: DenseMatrix
      if let index {
        vectors = try PaperIndex(contentsOf: URL(fileURLWithPath: index)).embeddings
        standardOutput(
          String(
            format: "index      %d papers, %d dimensions, loaded in %.2f s\n", vectors.rows,
            vectors.columns, (ContinuousClock.now - start).seconds))
      } else {
        vectors = try Self.clusteredVectors(count: self.vectors ?? 0, noise: noise, seed: seed)
        standardOutput(
          String(
            format: "vectors    %d synthetic, %d dimensions, 1000 centres, noise %.2f, made in %.2f s\n",
            vectors.rows, vectors.columns, noise, (ContinuousClock.now - start).seconds))
      }
      let n = vectors.rows

      var configuration = IVFNeighborIndex.Configuration(seed: seed)
      configuration.lists = lists
      configuration.trainingSize = trainingSize
      if let iterations { configuration.iterations = iterations }
      configuration.nprobe = nprobe
      if let calibrationQueries { configuration.calibrationQueries = calibrationQueries }
      var profile = IVFNeighborIndex.BuildProfile()
      start = ContinuousClock.now
      let ivf = try IVFNeighborIndex(vectors, configuration: configuration, profile: &profile)
      let buildSeconds = (ContinuousClock.now - start).seconds
      standardOutput(
        String(
          format: "build      %d lists: %.2f s = training %.2f s (%d iterations) + filing %.2f s + calibration %.2f s\n"
            + "build CPU  training %.2f s + filing %.2f s + calibration %.2f s (all threads)\n",
          ivf.listCount, buildSeconds, profile.training, profile.iterations, profile.filing,
          profile.calibration, profile.trainingCPU, profile.filingCPU, profile.calibrationCPU))
      let calibrated =
        ivf.calibratedRecall.map {
          String(format: "%.4f, 95%% lower bound %.4f", $0, profile.calibrationLowerBound ?? .nan)
        } ?? "not calibrated"
      standardOutput("nprobe     \(ivf.nprobe) (calibration recall@10 \(calibrated))\n")

      if queries > 0 {
        var random = BenchRandom(seed: sampleSeed)
        var rows = Array(0..<n)
        let m = min(queries, n)
        for i in 0..<m { rows.swapAt(i, Int.random(in: i..<n, using: &random)) }
        let sample = rows[0..<m].sorted().filter { row in
          vectors.row(row).contains { $0 != 0 }
        }
        start = ContinuousClock.now
        let truth = exactNeighbors(of: sample, in: vectors, count: 10)
        let exactSeconds = (ContinuousClock.now - start).seconds
        var probes = Set([ivf.nprobe, ivf.nprobe + 1, 2 * ivf.nprobe].filter { $0 <= ivf.listCount })
        if ivf.nprobe > 1 { probes.insert(ivf.nprobe - 1) }
        for probe in probes.sorted() {
          let found = sample.map { ivf.search(vectors.row($0), count: 10, excluding: $0, nprobe: probe) }
          let recalls = zip(found, truth).map { result, expected in
            Double(result.filter { expected.contains($0.position) }.count) / Double(expected.count)
          }
          let mean = recalls.reduce(0, +) / Double(recalls.count)
          let variance =
            recalls.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, recalls.count - 1))
          let half = 1.96 * (variance / Double(recalls.count)).squareRoot()
          standardOutput(
            String(
              format: "recall@10  nprobe %3d: %.4f ± %.4f (95%%) on %d held-out queries against exact%@\n",
              probe, mean, half, sample.count, probe == ivf.nprobe ? " ← index's nprobe" : ""))
        }
        standardOutput(String(format: "exact      %d sampled queries in %.2f s\n", sample.count, exactSeconds))
      }

      start = ContinuousClock.now
      let cpuStart = clock()
      let graph = ivf.neighbors(count: 10)
      let graphSeconds = (ContinuousClock.now - start).seconds
      standardOutput(
        String(
          format: "all pairs  IVF (nprobe %d) %.2f s (processor %.2f s), %.0f queries/s\n",
          ivf.nprobe, graphSeconds, Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC),
          Double(n) / graphSeconds))
      if allPairs {
        start = ContinuousClock.now
        let exact = ExactNeighborIndex(vectors).neighbors(count: 10)
        let exactSeconds = (ContinuousClock.now - start).seconds
        standardOutput(
          String(
            format: "all pairs  exact %.1f s; IVF recall@10 %.4f against exact\n", exactSeconds,
            IVFMeasurement.recall(graph, exact: exact)))
      }
    }

    /// `count` unit vectors in 128 dimensions: a random unit centre (one of 1,000) plus
    /// Gaussian noise of expected norm `noise`, normalised.
    static func clusteredVectors(count n: Int, noise: Double, seed: UInt64) throws -> DenseMatrix {
      let d = 128, centres = 1_000
      var random = BenchRandom(seed: seed ^ 0x5645_4354)
      func gaussian() -> Double {  // Box–Muller
        let u = max(random.unit(), 1e-300), v = random.unit()
        return (-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v)
      }
      func normalized(_ vector: [Double]) -> [Double] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
      }
      let centre = (0..<centres).map { _ in normalized((0..<d).map { _ in gaussian() }) }
      let scale = noise / Double(d).squareRoot()
      var elements = [Float]()
      elements.reserveCapacity(n * d)
      for _ in 0..<n {
        let c = centre[random.int(in: 0...(centres - 1))]
        elements += normalized(c.map { $0 + scale * gaussian() }).map(Float.init)
      }
      return try DenseMatrix(rows: n, columns: d, elements: elements)
    }

    /// The `count` best other rows of every row in `rows` by inner product, by brute force:
    /// SGEMM of 256 queries against blocks of 8,192 rows, then a plain scan.
    func exactNeighbors(of rows: [Int], in vectors: DenseMatrix, count: Int) -> [Set<Int>] {
      let n = vectors.rows, d = vectors.columns
      let queryBlock = 256, rowBlock = 8_192
      var results: [Set<Int>] = []
      var gathered = [Float](repeating: 0, count: queryBlock * d)
      var scores = [Float](repeating: 0, count: queryBlock * rowBlock)
      vectors.withUnsafeBufferPointer { all in
        for blockStart in stride(from: 0, to: rows.count, by: queryBlock) {
          let q = min(queryBlock, rows.count - blockStart)
          for t in 0..<q {
            for j in 0..<d { gathered[t * d + j] = all[rows[blockStart + t] * d + j] }
          }
          // Per query: the best `count` (score, row), worst first.
          var best = [[(Float, Int)]](repeating: [], count: q)
          for start in stride(from: 0, to: n, by: rowBlock) {
            let b = min(rowBlock, n - start)
            gathered.withUnsafeBufferPointer { a in
              scores.withUnsafeMutableBufferPointer { c in
                cblas_sgemm(
                  CblasRowMajor, CblasNoTrans, CblasTrans, Int32(q), Int32(b), Int32(d), 1,
                  a.baseAddress!, Int32(d), all.baseAddress! + start * d, Int32(d), 0,
                  c.baseAddress!, Int32(b))
              }
            }
            for t in 0..<q {
              let own = rows[blockStart + t]
              for column in 0..<b where start + column != own {
                let score = scores[t * b + column]
                if best[t].count == count && score <= best[t][0].0 { continue }
                if best[t].count == count { best[t].removeFirst() }
                let position = best[t].firstIndex { $0.0 >= score } ?? best[t].count
                best[t].insert((score, start + column), at: position)
              }
            }
          }
          results += best.map { Set($0.map(\.1)) }
        }
      }
      return results
    }
  }
}
