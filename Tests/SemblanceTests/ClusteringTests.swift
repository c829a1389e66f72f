import Foundation
import Testing

@testable import Semblance

/// Spherical k-means: recovery, determinism, edge cases and errors.
@Suite("Clustering: spherical k-means")
struct ClusteringTests {
  @Test("well-separated blobs are recovered exactly", arguments: [1, 2, 3] as [UInt64])
  func blobsAreRecovered(seed: UInt64) throws {
    let (points, truth) = ClusterTestData.blobs(
      clusters: 6, perCluster: 60, dimensions: 16, seed: seed)
    let model = try SphericalKMeans.fit(points, configuration: .init(clusters: 6, seed: seed))
    #expect(adjustedRandIndex(model.assignments, truth) == 1, "seed \(seed)")
    #expect(model.iterations >= 1 && model.iterations <= 100)
  }

  @Test func everyPointIsAssignedToItsMostSimilarCentroid() throws {
    let points = ClusterTestData.randomUnitRows(rows: 400, columns: 12, seed: 11)
    let model = try SphericalKMeans.fit(points, configuration: .init(clusters: 7, seed: 5))
    var objective = 0.0
    for row in 0..<points.rows {
      let scores = (0..<model.k).map { c in
        (0..<points.columns).reduce(0.0) { $0 + Double(points[row, $1] * model.centroids[c, $1]) }
      }
      let assigned = scores[model.assignments[row]]
      #expect(assigned >= scores.max()! - 1e-5, "row \(row)")
      objective += assigned
    }
    #expect(abs(objective - model.objective) < 1e-3)
    for c in 0..<model.k {
      let norm = model.centroids.row(c).reduce(0) { $0 + $1 * $1 }
      #expect(abs(norm - 1) < 1e-5)
    }
    #expect(model.assignments(for: points) == model.assignments)
  }

  @Test func theSameSeedGivesBitIdenticalResults() throws {
    // Big enough for the parallel argmax and centroid update paths.
    let (points, _) = ClusterTestData.blobs(
      clusters: 12, perCluster: 400, dimensions: 24, spread: 0.4, seed: 9)
    let configuration = SphericalKMeans.Configuration(clusters: 12, restarts: 2, seed: 42)
    let first = try SphericalKMeans.fit(points, configuration: configuration)
    let second = try SphericalKMeans.fit(points, configuration: configuration)
    #expect(first.assignments == second.assignments)
    #expect(first.centroids.elements == second.centroids.elements)
    #expect(first.objective == second.objective)
    #expect(first.iterations == second.iterations)
    let other = try SphericalKMeans.fit(
      points, configuration: .init(clusters: 12, restarts: 2, seed: 43))
    #expect(other.centroids.elements != first.centroids.elements)
  }

  @Test func moreRestartsNeverLowerTheObjective() throws {
    let points = ClusterTestData.randomUnitRows(rows: 300, columns: 8, seed: 3)
    let one = try SphericalKMeans.fit(points, configuration: .init(clusters: 9, restarts: 1))
    let five = try SphericalKMeans.fit(points, configuration: .init(clusters: 9, restarts: 5))
    #expect(five.objective >= one.objective)
  }

  @Test func invalidClusterCountsAreTypedErrors() throws {
    let points = ClusterTestData.randomUnitRows(rows: 10, columns: 3, seed: 1)
    #expect(throws: ClusteringError.invalidClusterCount(0, points: 10)) {
      try SphericalKMeans.fit(points, configuration: .init(clusters: 0))
    }
    #expect(throws: ClusteringError.invalidClusterCount(11, points: 10)) {
      try SphericalKMeans.fit(points, configuration: .init(clusters: 11))
    }
    #expect(throws: ClusteringError.invalidClusterCount(-3, points: 10)) {
      try SphericalKMeans.fit(points, configuration: .init(clusters: -3))
    }
    #expect(throws: ConfigurationError.self) {
      try SphericalKMeans.fit(points, configuration: .init(clusters: 2, restarts: 0))
    }
    #expect(throws: ConfigurationError.self) {
      try SphericalKMeans.fit(points, configuration: .init(clusters: 2, tolerance: -1))
    }
    let empty = try DenseMatrix(rows: 0, columns: 3, elements: [])
    #expect(throws: ClusteringError.emptyInput(rows: 0, columns: 3)) {
      try SphericalKMeans.fit(empty, configuration: .init(clusters: 1))
    }
    let message = ClusteringError.invalidClusterCount(11, points: 10).description
    #expect(message.contains("11") && message.contains("between 1 and 10"))
  }

  @Test func oneClusterPerPointWhenKEqualsN() throws {
    let points = ClusterTestData.randomUnitRows(rows: 25, columns: 6, seed: 2)
    let model = try SphericalKMeans.fit(points, configuration: .init(clusters: 25))
    #expect(Set(model.assignments).count == 25)
    #expect(abs(model.objective - 25) < 1e-4)
  }

  @Test func identicalPointsGiveNoNaNAndNonEmptyClusters() throws {
    let row: [Float] = ClusterTestData.unit([1, 2, 3, 4]).map(Float.init)
    let points = try DenseMatrix(
      rows: 40, columns: 4, elements: Array((0..<40).map { _ in row }.joined()))
    for k in [1, 3, 40] {
      let model = try SphericalKMeans.fit(points, configuration: .init(clusters: k))
      #expect(model.centroids.elements.allSatisfy { $0.isFinite })
      #expect(model.objective.isFinite && abs(model.objective - 40) < 1e-3)
      #expect(Set(model.assignments) == Set(0..<k), "k = \(k)")
    }
  }

  @Test func zeroRowsJoinClusterZeroWithoutNaN() throws {
    let (blobs, truth) = ClusterTestData.blobs(clusters: 3, perCluster: 20, dimensions: 5, seed: 4)
    var elements = blobs.elements
    let zeroRows = [0, 17, 59]
    for row in zeroRows { for j in 0..<5 { elements[row * 5 + j] = 0 } }
    let points = try DenseMatrix(rows: 60, columns: 5, elements: elements)
    let model = try SphericalKMeans.fit(points, configuration: .init(clusters: 3))
    #expect(model.centroids.elements.allSatisfy { $0.isFinite })
    #expect(model.objective.isFinite)
    for row in zeroRows { #expect(model.assignments[row] == 0) }
    let kept = (0..<60).filter { !zeroRows.contains($0) }
    #expect(adjustedRandIndex(kept.map { model.assignments[$0] }, kept.map { truth[$0] }) == 1)

    let allZero = try DenseMatrix(rows: 6, columns: 3, elements: .init(repeating: 0, count: 18))
    let degenerate = try SphericalKMeans.fit(allZero, configuration: .init(clusters: 2))
    #expect(degenerate.objective == 0)
    #expect(degenerate.centroids.elements.allSatisfy { $0.isFinite })
    #expect(Set(degenerate.assignments) == [0, 1])
  }

  @Test func anEmptyClusterTakesTheWorstFittingPoint() throws {
    let points = try DenseMatrix(
      rows: 4, columns: 2, elements: [1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8])
    var labels = [0, 0, 1, 1]
    var scores: [Float] = [1, 0.8, 1, 0.3]
    var centroids: [Float] = [1, 0, 0, 1, 0, 0]
    LloydIterations.repairEmptyClusters(
      points, isZero: [false, false, false, false], count: 3, labels: &labels, scores: &scores,
      centroids: &centroids)
    #expect(labels == [0, 0, 1, 2])
    #expect(Array(centroids[4...]) == [0.6, 0.8])
    #expect(abs(scores[3] - 1) < 1e-6)
  }

  @Test func seedsAreDistinctPointsAndDrawnFromASampleAboveTheThreshold() throws {
    #expect(KMeansPlusPlus.sampleSize(points: 10_000, seeds: 10) == 10_000)
    #expect(KMeansPlusPlus.sampleSize(points: 80_000, seeds: 10) == 10_000)
    #expect(KMeansPlusPlus.sampleSize(points: 80_000, seeds: 2_000) == 16_000)
    #expect(KMeansPlusPlus.sampleSize(points: 12_000, seeds: 2_000) == 12_000)
    let points = ClusterTestData.randomUnitRows(rows: 50, columns: 4, seed: 8)
    var generator = SeededGenerator(seed: 1)
    let seeds = KMeansPlusPlus.seeds(points, count: 50, using: &generator)
    let rows = Set((0..<50).map { Array(seeds[($0 * 4)..<($0 * 4 + 4)]) })
    #expect(rows == Set((0..<50).map { points.row($0) }))
  }

  @Test func sampledSeedingRecoversBlobsAboveTenThousandPoints() throws {
    let (points, truth) = ClusterTestData.blobs(
      clusters: 4, perCluster: 4_000, dimensions: 6, seed: 21)
    let model = try SphericalKMeans.fit(
      points, configuration: .init(clusters: 4, restarts: 1, seed: 3))
    #expect(adjustedRandIndex(model.assignments, truth) == 1)
  }
}

/// Split–merge refinement: escaping the local optimum Lloyd's iterations cannot leave.
@Suite("Clustering: split–merge refinement")
struct ClusterRefinementTests {
  /// Three tight blobs, seeded with two seeds in the first blob and one between the others.
  static func stuckStart() -> (DenseMatrix, [Int], [Float]) {
    let (points, truth) = ClusterTestData.blobs(
      clusters: 3, perCluster: 40, dimensions: 8, spread: 0.03, seed: 17)
    let a = (0..<points.rows).filter { truth[$0] == 0 }
    let b = points.row((0..<points.rows).first { truth[$0] == 1 }!)
    let c = points.row((0..<points.rows).first { truth[$0] == 2 }!)
    let between = ClusterTestData.unit(zip(b, c).map { Double($0 + $1) }).map(Float.init)
    return (points, truth, points.row(a[0]) + points.row(a[1]) + between)
  }

  @Test func lloydAloneStaysInTheLocalOptimum() {
    let (points, truth, seeds) = Self.stuckStart()
    let run = LloydIterations.run(
      points, centroids: seeds, configuration: .init(clusters: 3, refinement: false))
    #expect(adjustedRandIndex(run.assignments, truth) < 0.9)
  }

  @Test func aSplitMergeMoveRecoversTheBlobs() {
    let (points, truth, seeds) = Self.stuckStart()
    let stuck = LloydIterations.run(
      points, centroids: seeds, configuration: .init(clusters: 3, refinement: false))
    let refined = LloydIterations.run(
      points, centroids: seeds, configuration: .init(clusters: 3))
    #expect(adjustedRandIndex(refined.assignments, truth) == 1)
    #expect(refined.objective > stuck.objective)
    #expect(refined.iterations > stuck.iterations)
  }

  @Test func noMoveIsMadeWhenNoneGains() throws {
    let (points, truth) = ClusterTestData.blobs(clusters: 4, perCluster: 30, dimensions: 6, seed: 5)
    let model = try SphericalKMeans.fit(points, configuration: .init(clusters: 4))
    let labels = model.assignments
    #expect(adjustedRandIndex(labels, truth) == 1)
    #expect(
      SplitMergeRefinement.improvedCentroids(
        points, labels: labels, count: 4, centroids: model.centroids.elements, minimumGain: 1e-6)
        == nil)
  }
}
