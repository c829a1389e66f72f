/// The k-nearest-neighbour graph of an index: for every paper, its `k` best other papers.
///
/// ```swift
/// let graph = index.neighbors(count: 10)
/// for neighbor in graph[0] { print(neighbor.position, neighbor.score) }
/// ```
///
/// Stored compactly as two flat arrays (`rows × k` positions and scores). A row with fewer
/// than `k` neighbours (tiny corpora, papers without terms) pads with position -1, which the
/// subscript leaves out.
public struct NeighborGraph: Sendable {
  /// The number of rows (papers).
  public let rows: Int
  /// Neighbours kept per row.
  public let k: Int
  let positions: [Int32]
  let scores: [Float]

  init(rows: Int, k: Int, positions: [Int32], scores: [Float]) {
    self.rows = rows
    self.k = k
    self.positions = positions
    self.scores = scores
  }

  init(_ lists: [[Neighbor]], k: Int) {
    var positions = [Int32](repeating: -1, count: lists.count * k)
    var scores = [Float](repeating: 0, count: lists.count * k)
    for (row, list) in lists.enumerated() {
      for (rank, neighbor) in list.prefix(k).enumerated() {
        positions[row * k + rank] = Int32(neighbor.position)
        scores[row * k + rank] = neighbor.score
      }
    }
    self.init(rows: lists.count, k: k, positions: positions, scores: scores)
  }

  /// The neighbours of `row`, best first.
  public subscript(row: Int) -> [Neighbor] {
    precondition(row >= 0 && row < rows, "row out of range")
    var result: [Neighbor] = []
    result.reserveCapacity(k)
    for rank in 0..<k {
      let position = positions[row * k + rank]
      if position < 0 { break }
      result.append(Neighbor(position: Int(position), score: scores[row * k + rank]))
    }
    return result
  }
}
