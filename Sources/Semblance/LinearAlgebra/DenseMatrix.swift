/// An immutable row-major matrix of `Float` values.
///
/// Embeddings (papers × dimensions) and LSA components (terms × dimensions) are stored this
/// way. A matrix loaded from an index file points into the memory-mapped file.
///
/// ```swift
/// let m = try DenseMatrix(rows: 2, columns: 3, elements: [1, 2, 3, 4, 5, 6])
/// m[1, 2]        // 6
/// m.row(0)       // [1, 2, 3]
/// ```
public struct DenseMatrix: Sendable {
  /// The number of rows.
  public let rows: Int
  /// The number of columns.
  public let columns: Int
  let storage: Storage<Float>

  /// Creates a matrix from row-major elements.
  ///
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when `elements.count != rows * columns`.
  public init(rows: Int, columns: Int, elements: [Float]) throws {
    guard rows >= 0, columns >= 0, elements.count == rows * columns else {
      throw LinearAlgebraError.dimensionMismatch(
        "\(elements.count) elements cannot form a \(rows) × \(columns) matrix")
    }
    self.init(rows: rows, columns: columns, storage: Storage(elements))
  }

  init(rows: Int, columns: Int, storage: Storage<Float>) {
    assert(storage.count == rows * columns)
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  /// Creates a matrix whose elements `initializer` writes, row-major.
  init(
    rows: Int, columns: Int,
    initializingWith initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void
  ) rethrows {
    self.init(
      rows: rows, columns: columns,
      storage: try Storage(count: rows * columns, initializingWith: initializer))
  }

  /// The element at `row`, `column`.
  public subscript(row: Int, column: Int) -> Float {
    precondition(row >= 0 && row < rows && column >= 0 && column < columns, "index out of range")
    return storage[row * columns + column]
  }

  /// A copy of one row.
  public func row(_ row: Int) -> [Float] {
    precondition(row >= 0 && row < rows, "row out of range")
    return Array(rowBuffer(row))
  }

  /// A copy of all elements, row-major.
  public var elements: [Float] { storage.array }

  /// Calls `body` with the row-major elements.
  public func withUnsafeBufferPointer<R>(
    _ body: (UnsafeBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try body(storage.buffer)
  }

  @inline(__always)
  func rowBuffer(_ row: Int) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(rebasing: storage.buffer[(row * columns)..<((row + 1) * columns)])
  }

  @inline(__always)
  var baseAddress: UnsafePointer<Float> {
    storage.buffer.baseAddress!
  }
}
