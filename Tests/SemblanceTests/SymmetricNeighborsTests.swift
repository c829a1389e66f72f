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

  @Test("a neighbor is eight bytes and encodes its position and score under their names")
  func neighborLayout() throws {
    #expect(MemoryLayout<Neighbor>.stride == 8)
    var neighbor = Neighbor(position: 2_000_000_000, score: 0.5)
    #expect(neighbor.position == 2_000_000_000)
    neighbor.position = 7
    let json = String(decoding: try JSONEncoder().encode(neighbor), as: UTF8.self)
    #expect(json.contains(#""position":7"#) && json.contains(#""score":0.5"#))
    #expect(try JSONDecoder().decode(Neighbor.self, from: Data(json.utf8)) == neighbor)
    // A position no index can hold is a decoding error, not a trap.
    #expect(throws: DecodingError.self) {
      let tooFar = Data(#"{"position":3000000000,"score":1}"#.utf8)
      return try JSONDecoder().decode(Neighbor.self, from: tooFar)
    }
  }

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

  /// 9,000 vectors: enough for the sampled floors (at least 8 × 1,024 rows).
  static let large = clusteredUnitVectors(
    count: 9_000, dimensions: 16, clusters: 40, noise: 1.0, seed: 5)

  /// Compares two graphs as `matchesSearch` does: scores to 1e-5, lengths exactly.
  func expectSameGraph(_ got: [[Neighbor]], _ expected: [[Neighbor]]) {
    #expect(got.count == expected.count)
    var mismatches = 0
    for (a, b) in zip(got, expected) {
      if a.count != b.count { mismatches += 1; continue }
      for (x, y) in zip(a, b) where abs(x.score - y.score) > 1e-5 { mismatches += 1 }
    }
    #expect(mismatches == 0)
  }

  @Test("with sampled floors, the symmetric search equals the blocked one",
    arguments: [10, 100])
  func floorsKeepTheExactAnswer(count: Int) throws {
    let index = ExactNeighborIndex(Self.large)
    let isEligible: (Int) -> Bool = { $0 % 11 != 4 }
    let floors = try #require(index.sampledFloors(count: count, isEligible: isEligible, margin: 4))
    #expect(floors.allSatisfy { $0 > -.infinity })
    let expected = index.blockedNeighbors(ofRows: 0..<Self.large.rows, count: count, isEligible: isEligible)
    // Every floor lies at or below the row's count-th best score at this margin.
    var above = 0
    for row in 0..<Self.large.rows where floors[row] > expected[row][count - 1].score { above += 1 }
    #expect(above == 0)
    expectSameGraph(index.symmetricNeighbors(count: count, isEligible: isEligible), expected)
  }

  @Test("floors set too high are caught: those rows are searched again")
  func floorsTooHighAreRedone() throws {
    let index = ExactNeighborIndex(Self.large)
    let count = 50
    // A negative margin puts many floors above the rows' 50th best scores.
    let floors = try #require(index.sampledFloors(count: count, isEligible: nil, margin: -3))
    let expected = index.blockedNeighbors(ofRows: 0..<Self.large.rows, count: count, isEligible: nil)
    let above = (0..<Self.large.rows).filter { floors[$0] > expected[$0][count - 1].score }.count
    #expect(above > 100, "the test needs rows whose floor is too high: \(above)")
    expectSameGraph(
      index.symmetricNeighbors(count: count, isEligible: nil, floorMargin: -3), expected)
  }

  @Test("unordered lists hold the ordered lists' pairs, the same way every time",
    arguments: [10, 100])
  func unorderedLists(count: Int) {
    let index = ExactNeighborIndex(Self.large)
    let isEligible: (Int) -> Bool = { $0 % 11 != 4 }
    let ordered = index.symmetricNeighbors(count: count, isEligible: isEligible)
    let unordered = index.symmetricNeighbors(count: count, isEligible: isEligible, ordered: false)
    #expect(unordered == index.symmetricNeighbors(count: count, isEligible: isEligible, ordered: false))
    // The same pairs, scores to the bit; sorted best first (ties by position) they are the
    // ordered lists.
    let best: (Neighbor, Neighbor) -> Bool = {
      $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position)
    }
    #expect(unordered.map { $0.sorted(by: best) } == ordered)
    // At 100 the buffers overflow and selection leaves them out of order.
    if count == 100 {
      #expect(zip(unordered, ordered).contains { $0 != $1 })
    }
  }

  @Test("no floors for fewer than 8,192 rows")
  func noFloorsForSmallSets() {
    #expect(ExactNeighborIndex(Self.vectors).sampledFloors(count: 10, isEligible: nil, margin: 4) == nil)
  }
}
