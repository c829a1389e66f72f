/// An immutable sparse matrix in compressed sparse row (CSR) form, with `Float` values.
///
/// TF-IDF matrices are stored this way: one row per paper, one column per vocabulary term,
/// column indices sorted within each row. Row offsets are 64-bit, so a matrix may hold more
/// than 2³¹ non-zeros; column indices are 32-bit.
///
/// ```swift
/// let x = try SparseMatrix(rows: 2, columns: 3, rowOffsets: [0, 1, 3],
///                          columnIndices: [2, 0, 1], values: [1, 0.6, 0.8])
/// x[1, 1]                   // 0.8
/// x.row(1).indices          // [0, 1]
/// ```
public struct SparseMatrix: Sendable {
  /// The number of rows.
  public let rows: Int
  /// The number of columns.
  public let columns: Int
  let offsets: Storage<Int64>
  let indices: Storage<Int32>
  let storedValues: Storage<Float>

  /// Creates a matrix from CSR arrays, checking their consistency.
  ///
  /// - Parameters:
  ///   - rows: the number of rows.
  ///   - columns: the number of columns; every column index is below it.
  ///   - rowOffsets: `rows + 1` non-decreasing offsets, starting at 0 and ending at the
  ///     number of non-zeros.
  ///   - columnIndices: the column of each non-zero, strictly increasing within a row.
  ///   - values: the value of each non-zero.
  /// - Throws: `LinearAlgebraError.malformedSparseMatrix` naming the first inconsistency.
  /// - Complexity: O(rows + non-zeros).
  public init(
    rows: Int, columns: Int, rowOffsets: [Int64], columnIndices: [Int32], values: [Float]
  ) throws {
    try self.init(
      rows: rows, columns: columns, offsets: Storage(rowOffsets),
      indices: Storage(columnIndices), values: Storage(values), validate: true)
  }

  init(
    rows: Int, columns: Int, offsets: Storage<Int64>, indices: Storage<Int32>,
    values: Storage<Float>, validate: Bool
  ) throws {
    self.rows = rows
    self.columns = columns
    self.offsets = offsets
    self.indices = indices
    self.storedValues = values
    if validate { try self.validate() }
  }

  /// Checks every structural invariant. Used for user-supplied arrays and index files.
  ///
  /// The offsets are checked first, then the entries `block` or a little more of them at a
  /// time (whole rows), each block's rows on every core; `checked` is called with each
  /// block's range of entries once they passed, in order (an index file releases their pages
  /// there). The error names the first bad row of the first block that has one.
  func validate(
    block: Int = SparseMatrix.validationBlock, checked: (Range<Int>) -> Void = { _ in }
  ) throws {
    func fail(_ message: String) -> LinearAlgebraError { .malformedSparseMatrix(message) }
    guard rows >= 0, columns >= 0, columns <= Int(Int32.max) else {
      throw fail("invalid shape \(rows) × \(columns)")
    }
    guard offsets.count == rows + 1 else {
      throw fail("\(offsets.count) row offsets for \(rows) rows (expected \(rows + 1))")
    }
    guard indices.count == storedValues.count else {
      throw fail("\(indices.count) column indices but \(storedValues.count) values")
    }
    guard offsets[0] == 0, offsets[rows] == Int64(indices.count) else {
      throw fail("row offsets must start at 0 and end at \(indices.count)")
    }
    for row in 0..<rows {
      let start = offsets[row], end = offsets[row + 1]
      guard start <= end else { throw fail("row offsets decrease at row \(row)") }
      guard end <= Int64(indices.count) else {
        throw fail("row \(row) ends at offset \(end), past the \(indices.count) non-zeros")
      }
    }
    let offsets = self.offsets.buffer, indices = self.indices.buffer
    let values = storedValues.buffer, columns = self.columns
    /// The message for the first bad row of `rows`, or nil.
    func firstProblem(in rows: Range<Int>) -> String? {
      for row in rows {
        var previous: Int32 = -1
        for position in Int(offsets[row])..<Int(offsets[row + 1]) {
          let column = indices[position]
          guard column > previous, Int(column) < columns else {
            return "column index \(column) out of order or range in row \(row)"
          }
          guard values[position].isFinite else {
            return "non-finite value in row \(row), column \(column)"
          }
          previous = column
        }
      }
      return nil
    }
    var first = 0
    while first < rows {
      // The block's end: the first row whose offset reaches a block's worth of entries.
      let limit = offsets[first] + Int64(Swift.max(block, 1))
      var low = first + 1, high = rows
      while low < high {
        let middle = (low + high) / 2
        if offsets[middle] < limit { low = middle + 1 } else { high = middle }
      }
      let block = first..<low
      let entries = Int(offsets[block.upperBound] - offsets[block.lowerBound])
      let tasks = entries < 1 << 12 ? 1 : processorCount
      var problems = [String?](repeating: nil, count: tasks)
      problems.withUnsafeMutableBufferPointer { problems in
        let output = UnsafeSendable(problems)
        parallelForEach(chunks: tasks) { task in
          let part = chunkRange(task, of: tasks, count: block.count)
          output.value[task] = firstProblem(
            in: (block.lowerBound + part.lowerBound)..<(block.lowerBound + part.upperBound))
        }
      }
      if let problem = problems.lazy.compactMap({ $0 }).first { throw fail(problem) }
      checked(Int(offsets[block.lowerBound])..<Int(offsets[block.upperBound]))
      first = block.upperBound
    }
  }

  /// Entries checked per block by ``validate(block:checked:)``: 64 MiB of column indices.
  static let validationBlock = 16 << 20

  /// The number of stored (non-zero) entries.
  public var nonzeroCount: Int { indices.count }

  /// The column indices and values of one row, in column order.
  public func row(_ row: Int) -> (indices: [Int32], values: [Float]) {
    precondition(row >= 0 && row < rows, "row out of range")
    let (indices, values) = rowBuffers(row)
    return (Array(indices), Array(values))
  }

  /// The element at `row`, `column` (zero when not stored).
  /// - Complexity: O(log of the row's non-zeros).
  public subscript(row: Int, column: Int) -> Float {
    precondition(row >= 0 && row < rows && column >= 0 && column < columns, "index out of range")
    let position = firstPosition(inRow: row, atOrAfter: Int32(column))
    return position < Int(offsets[row + 1]) && Int(indices[position]) == column
      ? storedValues[position] : 0
  }

  /// The storage position of the first entry of `row` whose column is at least `column`
  /// (the row's end position when there is none), by binary search over its sorted columns.
  @inline(__always)
  func firstPosition(inRow row: Int, atOrAfter column: Int32) -> Int {
    var low = Int(offsets[row]), high = Int(offsets[row + 1])
    while low < high {
      let middle = (low + high) >> 1
      if indices[middle] < column { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// The row offsets, column indices and values, as copies.
  public var rowOffsets: [Int64] { offsets.array }
  /// All column indices, row after row.
  public var columnIndices: [Int32] { indices.array }
  /// All values, row after row.
  public var values: [Float] { storedValues.array }

  @inline(__always)
  func rowBuffers(_ row: Int) -> (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Float>) {
    let start = Int(offsets[row]), end = Int(offsets[row + 1])
    return (
      UnsafeBufferPointer(rebasing: indices.buffer[start..<end]),
      UnsafeBufferPointer(rebasing: storedValues.buffer[start..<end])
    )
  }

  /// Whether `row` stores no entries.
  @inline(__always)
  func isEmptyRow(_ row: Int) -> Bool { offsets[row] == offsets[row + 1] }

  /// A test that accepts the rows with entries, or nil when every row has some (so that
  /// searches can skip the test).
  var nonEmptyRowFilter: ((Int) -> Bool)? {
    (0..<rows).contains(where: isEmptyRow) ? { !self.isEmptyRow($0) } : nil
  }

  /// The dot product of rows `a` and `b` (their cosine, when rows are l2-normalised).
  /// - Complexity: O(non-zeros of both rows), a merge of sorted indices.
  func rowDot(_ a: Int, _ b: Int) -> Float {
    let (ia, va) = rowBuffers(a)
    return SparseMatrix.dot(ia, va, with: self, row: b)
  }

  /// The dot product of a sparse vector (sorted indices) with row `row` of `matrix`.
  static func dot(
    _ ia: UnsafeBufferPointer<Int32>, _ va: UnsafeBufferPointer<Float>,
    with matrix: SparseMatrix, row: Int
  ) -> Float {
    let (ib, vb) = matrix.rowBuffers(row)
    var i = 0, j = 0
    var sum: Float = 0
    while i < ia.count && j < ib.count {
      let ca = ia[i], cb = ib[j]
      if ca == cb {
        sum += va[i] * vb[j]
        i += 1
        j += 1
      } else if ca < cb {
        i += 1
      } else {
        j += 1
      }
    }
    return sum
  }
}
