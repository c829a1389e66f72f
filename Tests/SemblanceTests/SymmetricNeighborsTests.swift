import Foundation
import Testing

@testable import Semblance

/// All pairs through the symmetric block search (each score computed once) against one
/// search per row.
@Suite("Exact all pairs, symmetric blocks")
struct SymmetricNeighborsTests {
  /// 1,700 vectors: four blocks of 512 per side, the last one partial.
  static let vectors = clusteredUnitVectors(
    count: 1_700, dimensions: 24, clusters: 30, noise: 1.0, seed: 21)

  @Test("every row's list equals its own exact search", arguments: [1, 10, 100])
  func matchesSearch(count: Int) {
    let index = ExactNeighborIndex(Self.vectors)
    #expect(ExactNeighborIndex.usesSymmetricSearch(rows: Self.vectors.rows, count: count))
    // Every seventh row is ineligible, as a paper without terms is.
    let isEligible: (Int) -> Bool = { $0 % 7 != 3 }
    let graph = index.neighbors(ofRows: 0..<Self.vectors.rows, count: count, isEligible: isEligible)
    var mismatches = 0
    for row in 0..<Self.vectors.rows {
      let query = Array(Self.vectors.row(row))
      let expected = index.search(query, count: count, excluding: row, isEligible: isEligible)
      let got = graph[row]
      // Scores from SGEMM and GEMV may differ in the last bits, so positions are compared
      // where the scores are clearly apart, and scores to 1e-5.
      guard got.count == expected.count else {
        mismatches += 1
        continue
      }
      // Positions may differ only between near-equal scores.
      for (a, b) in zip(got, expected) where abs(a.score - b.score) > 1e-5 { mismatches += 1 }
      #expect(!got.contains { $0.position == row || !isEligible($0.position) })
      #expect(zip(got, got.dropFirst()).allSatisfy { $0.score >= $1.score })
    }
    #expect(mismatches == 0)
  }

  @Test("the symmetric search is the one used for all rows, and gives the same graph twice")
  func deterministic() {
    let index = ExactNeighborIndex(Self.vectors)
    let first = index.neighbors(count: 8), second = index.neighbors(count: 8)
    #expect(first == second)
    #expect(first.allSatisfy { $0.count == 8 })
  }
}
