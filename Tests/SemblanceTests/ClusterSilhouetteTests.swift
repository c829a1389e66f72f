import Foundation
import Testing

@testable import Semblance

/// `silhouetteScore` against a direct O(n²) evaluation of the definition and scikit-learn.
@Suite("Clustering: silhouette")
struct ClusterSilhouetteTests {
  /// Rousseeuw's definition, pair by pair, in Double, on the rows `sample`.
  static func bruteForce(_ points: DenseMatrix, _ labels: [Int], sample: [Int]) -> Double {
    var total = 0.0
    for i in sample {
      var sums: [Int: Double] = [:], counts: [Int: Int] = [:]
      for j in sample where j != i {
        sums[labels[j], default: 0] += 1 - ClusterTestData.cosine(points, i, j)
        counts[labels[j], default: 0] += 1
      }
      guard let own = counts[labels[i]] else { continue }  // alone in its cluster: 0
      let a = sums[labels[i]]! / Double(own)
      let b = counts.keys.filter { $0 != labels[i] }.map { sums[$0]! / Double(counts[$0]!) }.min()!
      total += max(a, b) > 0 ? (b - a) / max(a, b) : 0
    }
    return total / Double(sample.count)
  }

  static func data() -> (DenseMatrix, [Int]) {
    let (points, truth) = ClusterTestData.blobs(
      clusters: 4, perCluster: 15, dimensions: 5, spread: 0.6, seed: 12)
    var elements = points.elements
    for j in 0..<5 { elements[7 * 5 + j] = 0 }  // a zero row
    var labels = truth.map { [3, 10, 42, 7][$0] }  // non-contiguous label values
    labels[20] = 99  // a singleton cluster
    labels[31] = labels[0]  // a misplaced point
    return (try! DenseMatrix(rows: 60, columns: 5, elements: elements), labels)
  }

  @Test func matchesTheDefinitionOnEveryPoint() {
    let (points, labels) = Self.data()
    let score = silhouetteScore(points, assignments: labels)
    let expected = Self.bruteForce(points, labels, sample: Array(0..<60))
    #expect(abs(Double(score) - expected) < 1e-5, "\(score) vs \(expected)")
  }

  @Test("a sample is scored against itself", arguments: [1, 2, 3] as [UInt64])
  func sampledScoreMatchesTheDefinitionOnTheSample(seed: UInt64) {
    let (points, labels) = Self.data()
    let score = silhouetteScore(points, assignments: labels, sampleSize: 25, seed: seed)
    var generator = SeededGenerator(seed: seed)
    let sample = KMeansPlusPlus.uniformSample(25, of: 60, using: &generator)
    let expected = Self.bruteForce(points, labels, sample: sample)
    #expect(abs(Double(score) - expected) < 1e-5, "seed \(seed): \(score) vs \(expected)")
    #expect(score == silhouetteScore(points, assignments: labels, sampleSize: 25, seed: seed))
  }

  @Test func undefinedScoresAreZero() {
    let points = ClusterTestData.randomUnitRows(rows: 8, columns: 3, seed: 5)
    #expect(silhouetteScore(points, assignments: .init(repeating: 4, count: 8)) == 0)
    #expect(silhouetteScore(points, assignments: Array(0..<8)) == 0)
    #expect(silhouetteScore(points, assignments: [0, 1, 0, 1, 0, 1, 0, 1], sampleSize: 1) == 0)
  }

  @Test func wellSeparatedBlobsScoreNearOne() throws {
    let (points, truth) = ClusterTestData.blobs(
      clusters: 5, perCluster: 30, dimensions: 10, spread: 0.02, seed: 3)
    #expect(silhouetteScore(points, assignments: truth) > 0.95)
  }

  @Test func matchesScikitLearn() throws {
    let fixture = try #require(try TestSupport.json("clustering.json") as? [String: Any])
    let rows = try #require(fixture["points"] as? [[Double]])
    let labels = try #require(fixture["labels"] as? [Int])
    let expected = try #require(fixture["silhouette"] as? Double)
    let points = try DenseMatrix(
      rows: rows.count, columns: rows[0].count, elements: rows.joined().map(Float.init))
    // Float32 dot products against float64: agreement to about 1e-6.
    #expect(abs(Double(silhouetteScore(points, assignments: labels)) - expected) < 1e-5)
  }
}
