extension DenseMatrix {
  /// This matrix with the rows of `other` below it.
  /// - Precondition: both have the same number of columns.
  func appendingRows(of other: DenseMatrix) -> DenseMatrix {
    precondition(other.columns == columns, "stacking matrices of different widths")
    return DenseMatrix(rows: rows + other.rows, columns: columns) { output in
      let head = storage.buffer, tail = other.storage.buffer
      _ = UnsafeMutableBufferPointer(rebasing: output[..<head.count]).initialize(fromContentsOf: head)
      _ = UnsafeMutableBufferPointer(rebasing: output[head.count...]).initialize(fromContentsOf: tail)
    }
  }
}

extension SparseMatrix {
  /// This matrix with the rows of `other` below it.
  /// - Precondition: both have the same number of columns.
  func appendingRows(of other: SparseMatrix) -> SparseMatrix {
    precondition(other.columns == columns, "stacking matrices of different widths")
    let base = Int64(nonzeroCount)
    let offsets = Storage<Int64>(count: rows + other.rows + 1) { target in
      _ = UnsafeMutableBufferPointer(rebasing: target[...rows])
        .initialize(fromContentsOf: self.offsets.buffer)
      for row in 0..<other.rows {
        target[rows + 1 + row] = base + other.offsets[row + 1]
      }
    }
    func stacked<T>(_ head: Storage<T>, _ tail: Storage<T>) -> Storage<T> {
      Storage(count: head.count + tail.count) { target in
        _ = UnsafeMutableBufferPointer(rebasing: target[..<head.count])
          .initialize(fromContentsOf: head.buffer)
        _ = UnsafeMutableBufferPointer(rebasing: target[head.count...])
          .initialize(fromContentsOf: tail.buffer)
      }
    }
    return try! SparseMatrix(
      rows: rows + other.rows, columns: columns, offsets: offsets,
      indices: stacked(indices, other.indices), values: stacked(storedValues, other.storedValues),
      validate: false)
  }
}
