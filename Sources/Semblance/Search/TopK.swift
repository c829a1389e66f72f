/// Keeps the `capacity` best (position, score) pairs seen so far.
///
/// "Best" is the higher score, and on equal scores the lower position, so results never
/// depend on the order candidates arrive in. A binary heap with the worst kept pair at the
/// root makes the common case, a candidate worse than all kept, one comparison.
struct TopK {
  let capacity: Int
  private(set) var scores: [Float] = []
  private(set) var positions: [Int32] = []

  init(capacity: Int) {
    self.capacity = max(0, capacity)
    scores.reserveCapacity(self.capacity)
    positions.reserveCapacity(self.capacity)
  }

  /// Forgets every kept pair, keeping the capacity (and the storage) for reuse.
  mutating func removeAll() {
    scores.removeAll(keepingCapacity: true)
    positions.removeAll(keepingCapacity: true)
  }

  /// Whether (a, ia) ranks below (b, ib).
  @inline(__always)
  static func isWorse(_ a: Float, _ ia: Int32, than b: Float, _ ib: Int32) -> Bool {
    a < b || (a == b && ia > ib)
  }

  /// The score a candidate must beat to enter, when full.
  @inline(__always)
  var threshold: Float { scores.count == capacity && capacity > 0 ? scores[0] : -.infinity }

  @inline(__always)
  mutating func insert(_ score: Float, _ position: Int32) {
    guard capacity > 0 else { return }
    if scores.count < capacity {
      scores.append(score)
      positions.append(position)
      siftUp(scores.count - 1)
    } else if TopK.isWorse(scores[0], positions[0], than: score, position) {
      scores[0] = score
      positions[0] = position
      siftDown(0)
    }
  }

  private mutating func siftUp(_ index: Int) {
    var child = index
    while child > 0 {
      let parent = (child - 1) / 2
      guard TopK.isWorse(scores[child], positions[child], than: scores[parent], positions[parent])
      else { break }
      scores.swapAt(child, parent)
      positions.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ index: Int) {
    var parent = index
    let count = scores.count
    while true {
      var worst = parent
      let left = 2 * parent + 1, right = left + 1
      if left < count
        && TopK.isWorse(scores[left], positions[left], than: scores[worst], positions[worst])
      {
        worst = left
      }
      if right < count
        && TopK.isWorse(scores[right], positions[right], than: scores[worst], positions[worst])
      {
        worst = right
      }
      if worst == parent { return }
      scores.swapAt(worst, parent)
      positions.swapAt(worst, parent)
      parent = worst
    }
  }

  /// The kept pairs, best first.
  func sorted() -> [Neighbor] {
    zip(positions, scores)
      .sorted { TopK.isWorse($1.1, $1.0, than: $0.1, $0.0) }
      .map { Neighbor(position: Int($0.0), score: $0.1) }
  }
}
