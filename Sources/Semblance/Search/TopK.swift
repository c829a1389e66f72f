/// Keeps the `capacity` best (position, score) pairs seen so far.
///
/// "Best" is the higher score, and on equal scores the lower position, so results never
/// depend on the order candidates arrive in.
///
/// Candidates go into a buffer of twice the capacity. When it fills, a selection (quickselect
/// under the same total order) keeps the best `capacity` and raises the threshold to the
/// worst of them; a candidate that does not beat the threshold is refused with one
/// comparison. Each accepted candidate therefore costs a store plus a share of a linear
/// selection, where a binary heap would cost a walk of log₂(capacity) levels with
/// unpredictable branches: for the 100 LSA candidates that hybrid ranking keeps, selection
/// is several times cheaper. The pairs kept are exactly those a heap would keep.
struct TopK {
  let capacity: Int
  /// Buffered pairs: `scores[0..<count]`, `positions[0..<count]`.
  private var scores: [Float]
  private var positions: [Int32]
  private var count = 0
  /// The worst pair kept by the last selection: candidates must beat it. Until the first
  /// selection of a full buffer it is (-infinity, Int32.max), which every candidate beats.
  private var thresholdScore: Float = -.infinity
  private var thresholdPosition: Int32 = .max

  init(capacity: Int) {
    self.capacity = max(0, capacity)
    scores = Array(repeating: 0, count: 2 * self.capacity)
    positions = Array(repeating: 0, count: 2 * self.capacity)
  }

  /// Forgets every kept pair, keeping the capacity (and the storage) for reuse.
  mutating func removeAll() {
    count = 0
    thresholdScore = -.infinity
    thresholdPosition = .max
  }

  /// Whether (a, ia) ranks below (b, ib).
  @inline(__always)
  static func isWorse(_ a: Float, _ ia: Int32, than b: Float, _ ib: Int32) -> Bool {
    a < b || (a == b && ia > ib)
  }

  /// A score below which no candidate can enter (candidates at or above it may).
  @inline(__always)
  var threshold: Float { thresholdScore }

  @inline(__always)
  mutating func insert(_ score: Float, _ position: Int32) {
    guard capacity > 0,
      TopK.isWorse(thresholdScore, thresholdPosition, than: score, position)
    else { return }
    scores[count] = score
    positions[count] = position
    count += 1
    if count == scores.count { select() }
  }

  /// Keeps the best `capacity` buffered pairs (in no particular order) and sets the
  /// threshold to the worst of them.
  private mutating func select() {
    guard count > capacity else { return }
    let kept = capacity, buffered = count
    let worst = scores.withUnsafeMutableBufferPointer { scores in
      positions.withUnsafeMutableBufferPointer { positions in
        TopK.keepBest(
          kept, of: buffered, scores: scores.baseAddress!, positions: positions.baseAddress!)
      }
    }
    thresholdScore = worst.score
    thresholdPosition = worst.position
    count = kept
  }

  /// Rearranges the `count` pairs so that the first `kept` (0 < kept < count) are the best,
  /// in no particular order, and returns the worst of them. Quickselect under `isWorse`.
  @inline(__always)
  static func keepBest(
    _ kept: Int, of count: Int, scores: UnsafeMutablePointer<Float>,
    positions: UnsafeMutablePointer<Int32>
  ) -> (score: Float, position: Int32) {
    // Quickselect, best first: afterwards [0, kept) holds the best `kept` pairs.
    var low = 0, high = count - 1
    while low < high {
      // Median of three as the pivot, for sorted and reverse-sorted input.
      let middle = low + (high - low) / 2
      func better(_ i: Int, _ j: Int) -> Bool {
        TopK.isWorse(scores[j], positions[j], than: scores[i], positions[i])
      }
      func swap(_ i: Int, _ j: Int) {
        (scores[i], scores[j]) = (scores[j], scores[i])
        (positions[i], positions[j]) = (positions[j], positions[i])
      }
      if better(middle, low) { swap(middle, low) }
      if better(high, low) { swap(high, low) }
      if better(high, middle) { swap(high, middle) }
      let pivotScore = scores[middle], pivotPosition = positions[middle]
      // Hoare partition: [low, j] ranks at or above the pivot, [j + 1, high] at or below.
      var i = low - 1, j = high + 1
      while true {
        repeat { i += 1 } while TopK.isWorse(pivotScore, pivotPosition, than: scores[i], positions[i])
        repeat { j -= 1 } while TopK.isWorse(scores[j], positions[j], than: pivotScore, pivotPosition)
        if i >= j { break }
        swap(i, j)
      }
      if kept - 1 <= j { high = j } else { low = j + 1 }
    }
    // The worst of the kept pairs.
    var worst = 0
    for index in 1..<kept
    where TopK.isWorse(scores[index], positions[index], than: scores[worst], positions[worst]) {
      worst = index
    }
    return (scores[worst], positions[worst])
  }

  /// Replaces `positions` with the kept positions, in ascending order.
  mutating func keptPositions(into positions: inout [Int32]) {
    select()
    positions.removeAll(keepingCapacity: true)
    positions.append(contentsOf: self.positions[0..<count])
    positions.sort()
  }

  /// The kept pairs, best first.
  func sorted() -> [Neighbor] {
    var copy = self
    copy.select()
    return (0..<copy.count)
      .map { Neighbor(position: Int(copy.positions[$0]), score: copy.scores[$0]) }
      .sorted { TopK.isWorse($1.score, Int32($1.position), than: $0.score, Int32($0.position)) }
  }
}
