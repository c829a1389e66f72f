import Foundation
import Testing

@testable import Semblance

/// Average-linkage agglomerative clustering against a naive reference and SciPy.
@Suite("Clustering: agglomerative average linkage")
struct ClusterHierarchyTests {
  /// Naive UPGMA: at each step, merge the two clusters with the smallest mean pairwise
  /// cosine distance, computed afresh from the points. Returns each merge's leaves and distance.
  static func bruteForce(_ points: DenseMatrix) -> [(leaves: Set<Int>, distance: Double)] {
    let n = points.rows
    var distance = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for j in 0..<n { distance[i][j] = 1 - ClusterTestData.cosine(points, i, j) } }
    var clusters = (0..<n).map { [$0] }
    var merges: [(Set<Int>, Double)] = []
    while clusters.count > 1 {
      var best = (0, 1, Double.infinity)
      for a in 0..<clusters.count {
        for b in (a + 1)..<clusters.count {
          var sum = 0.0
          for i in clusters[a] { for j in clusters[b] { sum += distance[i][j] } }
          let mean = sum / Double(clusters[a].count * clusters[b].count)
          if mean < best.2 { best = (a, b, mean) }
        }
      }
      let merged = clusters[best.0] + clusters[best.1]
      merges.append((Set(merged), best.2))
      clusters.remove(at: best.1)
      clusters[best.0] = merged
    }
    return merges
  }

  /// The leaves under every merge of a dendrogram.
  static func leaves(_ tree: Dendrogram) -> [Set<Int>] {
    var sets = (0..<tree.leafCount).map { Set([$0]) }
    for merge in tree.merges { sets.append(sets[merge.left].union(sets[merge.right])) }
    return Array(sets[tree.leafCount...])
  }

  @Test("matches a naive UPGMA", arguments: [1, 2, 3] as [UInt64])
  func matchesBruteForce(seed: UInt64) throws {
    let points = ClusterTestData.randomUnitRows(rows: 30, columns: 5, seed: seed)
    let tree = try AgglomerativeClustering.averageLinkage(points)
    let reference = Self.bruteForce(points)
    #expect(tree.merges.count == 29)
    #expect(Self.leaves(tree) == reference.map(\.leaves), "seed \(seed)")
    for (merge, expected) in zip(tree.merges, reference) {
      #expect(abs(Double(merge.distance) - expected.distance) < 1e-5)
      #expect(merge.size == expected.leaves.count)
      #expect(merge.left < merge.right)
    }
  }

  @Test func matchesSciPy() throws {
    let fixture = try #require(try TestSupport.json("clustering.json") as? [String: Any])
    let rows = try #require(fixture["points"] as? [[Double]])
    let linkage = try #require(fixture["linkage"] as? [[Double]])
    let flat = try #require(fixture["fcluster4"] as? [Int])
    let points = try DenseMatrix(
      rows: rows.count, columns: rows[0].count, elements: rows.joined().map(Float.init))
    let tree = try AgglomerativeClustering.averageLinkage(points)
    #expect(tree.merges.count == linkage.count)
    for (merge, row) in zip(tree.merges, linkage) {
      #expect(merge.left == Int(row[0]) && merge.right == Int(row[1]))
      // Float32 distances and updates against SciPy's float64.
      #expect(abs(Double(merge.distance) - row[2]) < 1e-5)
      #expect(merge.size == Int(row[3]))
    }
    #expect(adjustedRandIndex(try tree.assignments(clusters: 4), flat) == 1)
  }

  @Test func cutsGiveExactlyKClusters() throws {
    let (points, truth) = ClusterTestData.blobs(clusters: 3, perCluster: 12, dimensions: 4, seed: 6)
    let tree = try AgglomerativeClustering.averageLinkage(points)
    #expect(adjustedRandIndex(try tree.assignments(clusters: 3), truth) == 1)
    #expect(try tree.assignments(clusters: 1) == .init(repeating: 0, count: 36))
    #expect(try tree.assignments(clusters: 36) == Array(0..<36))
    for k in 1...36 { #expect(Set(try tree.assignments(clusters: k)) == Set(0..<k)) }
    let labels = try tree.assignments(clusters: 3)
    #expect(labels[0] == 0)  // numbered by first leaf
    #expect(tree.assignments(maximumDistance: -1) == Array(0..<36))
    #expect(tree.assignments(maximumDistance: 3) == .init(repeating: 0, count: 36))
    #expect(tree.merges.map(\.distance) == tree.merges.map(\.distance).sorted())
    #expect(throws: ClusteringError.invalidClusterCount(0, points: 36)) {
      try tree.assignments(clusters: 0)
    }
    #expect(throws: ClusteringError.invalidClusterCount(37, points: 36)) {
      try tree.assignments(clusters: 37)
    }
  }

  @Test func identicalAndZeroPointsGiveAFiniteTree() throws {
    var elements = [Float](repeating: 0, count: 12 * 3)
    for row in 0..<8 { elements[row * 3] = 1 }  // eight identical points, four zero rows
    let points = try DenseMatrix(rows: 12, columns: 3, elements: elements)
    let tree = try AgglomerativeClustering.averageLinkage(points)
    #expect(tree.merges.count == 11)
    #expect(tree.merges.allSatisfy { $0.distance.isFinite && $0.distance >= 0 })
    #expect(tree.merges.last!.size == 12)
    let single = try AgglomerativeClustering.averageLinkage(
      try DenseMatrix(rows: 1, columns: 2, elements: [1, 0]))
    #expect(single.merges.isEmpty && single.leafCount == 1)
  }

  @Test func tooManyPointsIsATypedError() throws {
    let limit = AgglomerativeClustering.maximumPoints
    let points = try DenseMatrix(
      rows: limit + 1, columns: 1, elements: .init(repeating: 1, count: limit + 1))
    #expect(throws: ClusteringError.tooManyPoints(limit + 1, limit: limit)) {
      try AgglomerativeClustering.averageLinkage(points)
    }
  }
}
