/// Top-k selectors for many rows in flat storage: for each row, a buffer of 2·`capacity`
/// (score, position) pairs, a count and a threshold, with the same rules as `TopK`.
///
/// The symmetric all-pairs search offers scores to the selector of every row of a block, and
/// of every column, many millions of times. An array of `TopK` values makes each offer check
/// that the outer array and the selector's two arrays are uniquely referenced before it
/// writes. Here each pair is one 64-bit key that orders as `TopK` orders pairs, so an offer is
/// one integer comparison and, when it enters, one store, and the selection that runs when a
/// buffer fills compares and moves single integers. The threshold scores are one contiguous
/// array, which the column scan compares 8 at a time.
///
/// The storage is allocated once and freed by `deallocate()`; the table is not copyable in
/// spirit, so one task owns it at a time.
struct SelectorTable {
  /// Pairs kept per row.
  let capacity: Int
  /// Rows.
  let rows: Int
  /// Each row's buffer of 2·capacity pairs, each packed as one `key(score, position)`.
  private let keys: UnsafeMutablePointer<UInt64>
  private let counts: UnsafeMutablePointer<Int>
  /// Each row's threshold score, for scans that compare 8 scores at a time: a candidate
  /// below it cannot enter. Until a row's buffer first fills, -infinity.
  let thresholds: UnsafeMutablePointer<Float>
  /// Each row's threshold as a key: a candidate must beat the worst kept pair.
  private let thresholdKeys: UnsafeMutablePointer<UInt64>

  /// An empty table of `rows` selectors that each keep the `capacity` (at least 1) best pairs.
  init(rows: Int, capacity: Int) {
    precondition(capacity >= 1 && rows >= 0)
    self.capacity = capacity
    self.rows = rows
    keys = .allocate(capacity: max(1, rows * 2 * capacity))
    counts = .allocate(capacity: max(1, rows))
    counts.initialize(repeating: 0, count: rows)
    thresholds = .allocate(capacity: max(1, rows))
    thresholds.initialize(repeating: -.infinity, count: rows)
    thresholdKeys = .allocate(capacity: max(1, rows))
    thresholdKeys.initialize(repeating: 0, count: rows)
  }

  /// Frees the storage; the table must not be used afterwards.
  func deallocate() {
    keys.deallocate()
    counts.deallocate()
    thresholds.deallocate()
    thresholdKeys.deallocate()
  }

  /// (score, position) as one integer that orders pairs as `TopK` does: a higher key is a
  /// higher score, or an equal score at a lower position. The score's bits are mapped so
  /// that unsigned order is numeric order (−0 counts as +0, which it equals); the position
  /// goes in the low half, complemented. Scores are never NaN.
  @inline(__always)
  static func key(_ score: Float, _ position: Int32) -> UInt64 {
    let bits = (score + 0).bitPattern  // −0 + 0 is +0
    let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(ordered) << 32 | UInt64(~UInt32(bitPattern: position))
  }

  /// The pair of a key.
  @inline(__always)
  static func pair(_ key: UInt64) -> (score: Float, position: Int32) {
    let ordered = UInt32(truncatingIfNeeded: key >> 32)
    let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
    return (Float(bitPattern: bits), Int32(bitPattern: ~UInt32(truncatingIfNeeded: key)))
  }

  /// Offers (score, position) to the selector of `row`.
  @inline(__always)
  func insert(row: Int, _ score: Float, _ position: Int32) {
    let key = SelectorTable.key(score, position)
    guard key > thresholdKeys[row] else { return }
    let buffer = 2 * capacity
    let base = keys + row * buffer
    let count = counts[row]
    base[count] = key
    if count + 1 < buffer {
      counts[row] = count + 1
      return
    }
    let worst = SelectorTable.keepLargest(capacity, of: buffer, keys: base)
    thresholdKeys[row] = worst
    thresholds[row] = SelectorTable.pair(worst).score
    counts[row] = capacity
  }

  /// Rearranges `count` keys so that the first `kept` (0 < kept < count) are the largest, in
  /// no particular order, and returns the smallest of them. Quickselect with one integer
  /// comparison per step (keys are distinct: positions differ).
  @inline(__always)
  static func keepLargest(_ kept: Int, of count: Int, keys: UnsafeMutablePointer<UInt64>)
    -> UInt64
  {
    @inline(__always)
    func swap(_ a: Int, _ b: Int) { (keys[a], keys[b]) = (keys[b], keys[a]) }
    var low = 0, high = count &- 1
    while low < high {
      // Median of three as the pivot, for sorted and reverse-sorted input.
      let middle = low &+ (high &- low) / 2
      if keys[middle] > keys[low] { swap(middle, low) }
      if keys[high] > keys[low] { swap(high, low) }
      if keys[high] > keys[middle] { swap(high, middle) }
      let pivot = keys[middle]
      // Hoare partition: [low, j] holds keys ≥ pivot, [j + 1, high] keys ≤ pivot.
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

  /// Calls `body` with every buffered pair of `row`: the best `capacity` offered, and
  /// possibly some worse ones offered since the last selection.
  @inline(__always)
  func forEachBuffered(row: Int, _ body: (Float, Int32) -> Void) {
    let base = keys + row * 2 * capacity
    for index in 0..<counts[row] {
      let (score, position) = SelectorTable.pair(base[index])
      body(score, position)
    }
  }
}

extension SelectorTable {
  /// One row of the table as a selector, for `ExactNeighborIndex.scan`.
  struct Row: TopKSelector {
    let table: SelectorTable
    let row: Int

    @inline(__always)
    var threshold: Float { table.thresholds[row] }

    @inline(__always)
    mutating func insert(_ score: Float, _ position: Int32) {
      table.insert(row: row, score, position)
    }
  }
}

/// What `ExactNeighborIndex.scan` offers scores to: `TopK`, or one row of a `SelectorTable`.
protocol TopKSelector {
  /// A score below which no candidate can enter.
  var threshold: Float { get }
  /// Offers a candidate.
  mutating func insert(_ score: Float, _ position: Int32)
}

extension TopK: TopKSelector {}
