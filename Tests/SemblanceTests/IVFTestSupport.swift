@testable import Semblance

/// Synthetic embeddings for the IVF tests: `count` unit vectors scattered around `clusters`
/// random unit centres, each point `centre + noise · g / √d` (g standard normal), normalised.
/// With `noise` near 1 the clusters overlap, as topics in LSA space do.
func clusteredUnitVectors(
  count n: Int, dimensions d: Int, clusters: Int, noise: Double, seed: UInt64
) -> DenseMatrix {
  var generator = SeededGenerator(seed: seed)
  func normalized(_ vector: [Double]) -> [Double] {
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return vector.map { $0 / norm }
  }
  let centres = (0..<clusters).map { _ in
    normalized((0..<d).map { _ in generator.nextGaussian() })
  }
  let scale = noise / Double(d).squareRoot()
  var elements: [Float] = []
  elements.reserveCapacity(n * d)
  for _ in 0..<n {
    let centre = centres[Int.random(in: 0..<clusters, using: &generator)]
    let point = normalized(centre.map { $0 + scale * generator.nextGaussian() })
    elements += point.map(Float.init)
  }
  return try! DenseMatrix(rows: n, columns: d, elements: elements)
}

/// Mean recall of `found` against `truth`, list by list (lists with no truth are skipped).
func meanRecall(_ found: [[Neighbor]], truth: [[Neighbor]]) -> Double {
  var total = 0.0, counted = 0
  for (result, expected) in zip(found, truth) where !expected.isEmpty {
    let expectedRows = Set(expected.map(\.position))
    total += Double(result.filter { expectedRows.contains($0.position) }.count)
      / Double(expected.count)
    counted += 1
  }
  return counted == 0 ? 1 : total / Double(counted)
}
