import Foundation
import Testing

@testable import Semblance

/// Data and measures shared by the clustering suites.
enum ClusterTestData {
  /// `clusters` well-separated blobs on the unit sphere: random unit centres, each point a
  /// centre plus Gaussian noise of `spread`, normalised. Returns the points and true labels.
  static func blobs(
    clusters: Int, perCluster: Int, dimensions d: Int, spread: Double = 0.05, seed: UInt64
  ) -> (points: DenseMatrix, labels: [Int]) {
    var generator = SeededGenerator(seed: seed)
    var centres: [[Double]] = []
    while centres.count < clusters {
      let centre = unit((0..<d).map { _ in generator.nextGaussian() })
      // Keep centres far apart so that the blobs are unambiguous.
      if centres.allSatisfy({ zip($0, centre).reduce(0) { $0 + $1.0 * $1.1 } < 0.5 }) {
        centres.append(centre)
      }
    }
    var elements: [Float] = [], labels: [Int] = []
    // Interleave the blobs so that the rows of a cluster are not contiguous.
    for _ in 0..<perCluster {
      for (label, centre) in centres.enumerated() {
        let point = unit(centre.map { $0 + spread * generator.nextGaussian() })
        elements += point.map(Float.init)
        labels.append(label)
      }
    }
    return (try! DenseMatrix(rows: labels.count, columns: d, elements: elements), labels)
  }

  static func unit(_ vector: [Double]) -> [Double] {
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return vector.map { $0 / norm }
  }

  /// Unit rows with Gaussian entries.
  static func randomUnitRows(rows: Int, columns: Int, seed: UInt64) -> DenseMatrix {
    let raw = randomMatrix(rows: rows, columns: columns, seed: seed)
    return try! DenseMatrix(rows: rows, columns: columns, elements: raw).normalizedRows()
  }

  static func cosine(_ points: DenseMatrix, _ i: Int, _ j: Int) -> Double {
    var dot = 0.0, ni = 0.0, nj = 0.0
    for c in 0..<points.columns {
      let a = Double(points[i, c]), b = Double(points[j, c])
      dot += a * b
      ni += a * a
      nj += b * b
    }
    return ni > 0 && nj > 0 ? dot / (ni * nj).squareRoot() : 0
  }
}

/// The adjusted Rand index of two labelings (Hubert & Arabie 1985): 1 for identical
/// partitions whatever the label names, about 0 for independent ones.
func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
  precondition(a.count == b.count)
  func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
  var table: [[Int]: Int] = [:], rows: [Int: Int] = [:], columns: [Int: Int] = [:]
  for (x, y) in zip(a, b) {
    table[[x, y], default: 0] += 1
    rows[x, default: 0] += 1
    columns[y, default: 0] += 1
  }
  let index = table.values.reduce(0) { $0 + pairs($1) }
  let rowSum = rows.values.reduce(0) { $0 + pairs($1) }
  let columnSum = columns.values.reduce(0) { $0 + pairs($1) }
  let expected = rowSum * columnSum / pairs(a.count)
  let maximum = (rowSum + columnSum) / 2
  return maximum == expected ? 1 : (index - expected) / (maximum - expected)
}
