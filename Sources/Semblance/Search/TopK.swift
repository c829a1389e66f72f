/// Keeps the `capacity` best (position, score) pairs seen so far.
///
/// "Best" is the higher score, and on equal scores the lower position, so results never
/// depend on the order candidates arrive in. NaN scores never enter.
///
/// Each pair is stored as one 64-bit key (`key(_:_:)`) whose unsigned order is that order,
/// so every comparison is one integer comparison and every move one 8-byte move.
///
/// Candidates go into a buffer of twice the capacity. When it fills, a quickselect keeps the
/// best `capacity` and raises the threshold to the worst of them; a candidate that does not
/// beat the threshold is refused with one comparison. Each accepted candidate therefore costs
/// a store plus a share of a linear selection, where a binary heap would cost a walk of
/// log₂(capacity) levels with unpredictable branches: for the 100 LSA candidates that hybrid
/// ranking keeps, selection is several times cheaper. The pairs kept are exactly those a heap
/// would keep.
struct TopK {
  let capacity: Int
  /// Buffered pairs as keys: `keys[0..<count]`.
  private var keys: [UInt64]
  private var count = 0
  /// The worst pair kept by the last selection, as a key: candidates must beat it. Until the
  /// first selection of a full buffer it is 0, which every candidate's key beats.
  private var thresholdKey: UInt64 = 0
  /// Its score (-infinity until the first selection).
  private var thresholdScore: Float = -.infinity

  init(capacity: Int) {
    self.capacity = max(0, capacity)
    keys = Array(repeating: 0, count: 2 * self.capacity)
  }

  /// Forgets every kept pair, keeping the capacity (and the storage) for reuse.
  mutating func removeAll() {
    count = 0
    thresholdKey = 0
    thresholdScore = -.infinity
  }

  /// Whether (a, ia) ranks below (b, ib).
  @inline(__always)
  static func isWorse(_ a: Float, _ ia: Int32, than b: Float, _ ib: Int32) -> Bool {
    a < b || (a == b && ia > ib)
  }

  /// (score, position) as one integer whose unsigned order is `isWorse`'s: a higher key is a
  /// higher score, or an equal score at a lower position. The score's bits are mapped so that
  /// unsigned order is numeric order (−0 becomes +0, which it equals); the complemented
  /// position fills the low half. A NaN score gives 0, below every other key.
  @inline(__always)
  static func key(_ score: Float, _ position: Int32) -> UInt64 {
    if score.isNaN { return 0 }
    let bits = (score + 0).bitPattern  // −0 + 0 is +0
    let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(ordered) << 32 | UInt64(~UInt32(bitPattern: position))
  }

  /// The (score, position) of a key.
  @inline(__always)
  static func pair(_ key: UInt64) -> (score: Float, position: Int32) {
    let ordered = UInt32(truncatingIfNeeded: key >> 32)
    let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
    return (Float(bitPattern: bits), Int32(bitPattern: ~UInt32(truncatingIfNeeded: key)))
  }

  /// A score below which no candidate can enter (candidates at or above it may).
  @inline(__always)
  var threshold: Float { thresholdScore }

  @inline(__always)
  mutating func insert(_ score: Float, _ position: Int32) {
    let key = TopK.key(score, position)
    guard capacity > 0, key > thresholdKey else { return }
    keys[count] = key
    count += 1
    if count == keys.count { select() }
  }

  /// Keeps the best `capacity` buffered pairs (in no particular order) and sets the
  /// threshold to the worst of them.
  private mutating func select() {
    guard count > capacity else { return }
    let kept = capacity, buffered = count
    let worst = keys.withUnsafeMutableBufferPointer { keys in
      TopK.keepLargest(kept, of: buffered, keys: keys.baseAddress!)
    }
    thresholdKey = worst
    thresholdScore = TopK.pair(worst).score
    count = kept
  }

  /// Rearranges `count` keys so that the first `kept` (0 < kept < count) are the largest, in
  /// no particular order, and returns the smallest of them. Quickselect with a median-of-three
  /// pivot and Hoare partition; keys are distinct, since positions differ.
  @inline(__always)
  static func keepLargest(_ kept: Int, of count: Int, keys: UnsafeMutablePointer<UInt64>)
    -> UInt64
  {
    @inline(__always)
    func swap(_ a: Int, _ b: Int) { (keys[a], keys[b]) = (keys[b], keys[a]) }
    var low = 0, high = count &- 1
    while low < high {
      let middle = low &+ (high &- low) / 2
      if keys[middle] > keys[low] { swap(middle, low) }
      if keys[high] > keys[low] { swap(high, low) }
      if keys[high] > keys[middle] { swap(high, middle) }
      let pivot = keys[middle]
      // Afterwards [low, j] holds keys ≥ pivot and [j + 1, high] keys ≤ pivot.
      var i = low &- 1, j = high &+ 1
      while true {
        repeat { i &+= 1 } while keys[i] > pivot
        repeat { j &-= 1 } while keys[j] < pivot
        if i >= j { break }
        swap(i, j)
      }
      if kept &- 1 <= j { high = j } else { low = j &+ 1 }
    }
    var smallest = keys[0]
    for index in 1..<kept { smallest = min(smallest, keys[index]) }
    return smallest
  }

  /// The worst kept score once `capacity` pairs are kept, or nil before.
  mutating func worstKeptScore() -> Float? {
    select()
    guard capacity > 0, count == capacity else { return nil }
    var smallest = keys[0]
    for index in 1..<count { smallest = min(smallest, keys[index]) }
    return TopK.pair(smallest).score
  }

  /// Replaces `positions` with the kept positions, in ascending order.
  mutating func keptPositions(into positions: inout [Int32]) {
    select()
    positions.removeAll(keepingCapacity: true)
    for index in 0..<count { positions.append(TopK.pair(keys[index]).position) }
    positions.sort()
  }

  /// The kept pairs, best first.
  func sorted() -> [Neighbor] {
    var best = keptKeys()
    best.sort(by: >)
    return best.map {
      let (score, position) = TopK.pair($0)
      return Neighbor(position: Int(position), score: score)
    }
  }

  /// The kept pairs in no particular order (the same for the same insertions), for callers
  /// that rank them again: it skips `sorted()`'s sort.
  func unordered() -> [Neighbor] {
    keptKeys().map {
      let (score, position) = TopK.pair($0)
      return Neighbor(position: Int(position), score: score)
    }
  }

  /// The keys of the kept pairs, in buffer order after a final selection.
  private func keptKeys() -> [UInt64] {
    var best = Array(keys[0..<count])
    if best.count > capacity {
      let kept = capacity
      _ = best.withUnsafeMutableBufferPointer { keys in
        TopK.keepLargest(kept, of: keys.count, keys: keys.baseAddress!)
      }
      best.removeLast(best.count - kept)
    }
    return best
  }
}
