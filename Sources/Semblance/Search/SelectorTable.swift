/// Top-k selectors for many rows in flat storage: for each row, a buffer of 2·`capacity`
/// (score, position) pairs, a count and a threshold, with the same rules as `TopK`.
///
/// The symmetric all-pairs search offers scores to the selector of every row of a block, and
/// of every column, many millions of times. An array of `TopK` values makes each offer check
/// that the outer array and the selector's two arrays are uniquely referenced before it
/// writes. Here each pair is one 64-bit key that orders as `TopK` orders pairs, so an offer is
/// one integer comparison and, when it enters, one store, and the selection that runs when a
/// buffer fills compares and moves single integers. The threshold scores are one contiguous
/// array, which the column scan's kernel compares with a row of scores.
///
/// The storage is allocated once and freed by `deallocate()`; the table is not copyable in
/// spirit, so one task owns it at a time.
struct SelectorTable {
  /// Pairs kept per row.
  let capacity: Int
  /// Rows.
  let rows: Int
  /// Each row's buffer of 2·capacity pairs, each packed as one `TopK.key(score, position)`.
  private let keys: UnsafeMutablePointer<UInt64>
  private let counts: UnsafeMutablePointer<Int>
  /// Each row's threshold score, for scans that compare many scores at once: a candidate
  /// below it cannot enter. Until a row's buffer first fills, its floor or -infinity.
  let thresholds: UnsafeMutablePointer<Float>
  /// Each row's threshold as a key: a candidate must beat the worst kept pair.
  private let thresholdKeys: UnsafeMutablePointer<UInt64>

  /// An empty table of `rows` selectors that each keep the `capacity` (at least 1) best pairs.
  /// With `floors`, row `r` admits only scores of at least `floors[r]`.
  init(rows: Int, capacity: Int, floors: [Float]? = nil) {
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
    if let floors {
      precondition(floors.count == rows)
      for (row, floor) in floors.enumerated() where floor > -.infinity {
        thresholds[row] = floor
        // Below every pair with this score: the complemented position Int32.max is the
        // smallest low half a real position cannot have.
        thresholdKeys[row] = TopK.key(floor, .max)
      }
    }
  }

  /// Frees the storage; the table must not be used afterwards.
  func deallocate() {
    keys.deallocate()
    counts.deallocate()
    thresholds.deallocate()
    thresholdKeys.deallocate()
  }

  /// Offers (score, position) to the selector of `row`.
  @inline(__always)
  func insert(row: Int, _ score: Float, _ position: Int32) {
    let key = TopK.key(score, position)
    guard key > thresholdKeys[row] else { return }
    let buffer = 2 * capacity
    let base = keys + row * buffer
    let count = counts[row]
    base[count] = key
    if count + 1 < buffer {
      counts[row] = count + 1
      return
    }
    let worst = TopK.keepLargest(capacity, of: buffer, keys: base)
    thresholdKeys[row] = worst
    thresholds[row] = TopK.pair(worst).score
    counts[row] = capacity
  }

  /// Calls `body` with every buffered pair of `row`: the best `capacity` offered, and
  /// possibly some worse ones offered since the last selection.
  @inline(__always)
  func forEachBuffered(row: Int, _ body: (Float, Int32) -> Void) {
    let base = keys + row * 2 * capacity
    for index in 0..<counts[row] {
      let (score, position) = TopK.pair(base[index])
      body(score, position)
    }
  }
}

extension SelectorTable {
  /// Every row's best `capacity` pairs (fewer when fewer were offered): best first, or in no
  /// particular order (the same for the same offers) when `ordered` is false.
  func lists(ordered: Bool) -> [[Neighbor]] {
    var kept = TopK(capacity: capacity)
    return (0..<rows).map { row in
      kept.removeAll()
      forEachBuffered(row: row) { kept.insert($0, $1) }
      return ordered ? kept.sorted() : kept.unordered()
    }
  }

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
