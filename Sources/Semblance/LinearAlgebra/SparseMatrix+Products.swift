extension SparseMatrix {
  /// The product of this matrix and a dense matrix, `self · b`.
  ///
  /// Rows are split into contiguous blocks, one per task, so no two tasks write the same
  /// output row: no atomics, and the result is the same for any number of cores.
  ///
  /// - Precondition: `b.rows == columns` (a programmer error otherwise).
  /// - Complexity: O(non-zeros × b.columns).
  public func multiplied(by b: DenseMatrix) -> DenseMatrix {
    precondition(b.rows == columns, "sparse × dense: \(rows)×\(columns) · \(b.rows)×\(b.columns)")
    return DenseMatrix(rows: rows, columns: b.columns) { output in
      output.initialize(repeating: 0)
      multiply(into: output.baseAddress!, b.baseAddress, width: b.columns)
    }
  }

  /// The product of this matrix's transpose and a dense matrix, `selfᵀ · b`.
  ///
  /// - Precondition: `b.rows == rows`.
  /// - Complexity: O(non-zeros × b.columns), plus building the transpose once.
  public func transposedMultiplied(by b: DenseMatrix) -> DenseMatrix {
    transposed().multiplied(by: b)
  }

  /// Adds `self · b` into `output` (row-major, `rows × width`), where `b` is `columns × width`.
  ///
  /// Each output row is accumulated in registers, 32 columns at a time, over all of that row's
  /// non-zeros, and stored once: the rows of `b` are only read. Rows are split into contiguous blocks, one per task (no atomics).
  func multiply(
    into output: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, width: Int
  ) {
    guard rows > 0, width > 0 else { return }
    let tasks = rows < 256 ? 1 : processorCount * 4
    let offsets = self.offsets.buffer, indices = self.indices.buffer
    let values = self.storedValues.buffer
    let source = UnsafeRawPointer(b)
    parallelForEach(chunks: tasks) { task in
      for row in chunkRange(task, of: tasks, count: rows) {
        let start = Int(offsets[row]), end = Int(offsets[row + 1])
        if start == end { continue }
        let target = UnsafeMutableRawPointer(output + row * width)
        var column = 0
        // 32 columns per pass in eight 4-lane accumulators: eight SSE registers, so nothing
        // spills on baseline x86-64 (sixteen-lane vectors would need all sixteen).
        while column + 32 <= width {
          var a0 = SIMD4<Float>(), a1 = SIMD4<Float>(), a2 = SIMD4<Float>(), a3 = SIMD4<Float>()
          var a4 = SIMD4<Float>(), a5 = SIMD4<Float>(), a6 = SIMD4<Float>(), a7 = SIMD4<Float>()
          for position in start..<end {
            let value = SIMD4<Float>(repeating: values[position])
            let from = source + (Int(indices[position]) * width + column) * 4
            a0 += value * from.loadUnaligned(fromByteOffset: 0, as: SIMD4<Float>.self)
            a1 += value * from.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
            a2 += value * from.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
            a3 += value * from.loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self)
            a4 += value * from.loadUnaligned(fromByteOffset: 64, as: SIMD4<Float>.self)
            a5 += value * from.loadUnaligned(fromByteOffset: 80, as: SIMD4<Float>.self)
            a6 += value * from.loadUnaligned(fromByteOffset: 96, as: SIMD4<Float>.self)
            a7 += value * from.loadUnaligned(fromByteOffset: 112, as: SIMD4<Float>.self)
          }
          let to = target + column * 4
          @inline(__always)
          func add(_ sum: SIMD4<Float>, at offset: Int) {
            to.storeBytes(
              of: to.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + sum,
              toByteOffset: offset, as: SIMD4<Float>.self)
          }
          add(a0, at: 0)
          add(a1, at: 16)
          add(a2, at: 32)
          add(a3, at: 48)
          add(a4, at: 64)
          add(a5, at: 80)
          add(a6, at: 96)
          add(a7, at: 112)
          column += 32
        }
        if column < width {
          let out = output + row * width
          for position in start..<end {
            let value = values[position]
            let from = b + Int(indices[position]) * width
            for c in column..<width { out[c] += value * from[c] }
          }
        }
      }
    }
  }

  /// Adds `transposeᵀ · b` into `output` (row-major, `transpose.columns × width`), reading the
  /// matrix through its transpose: each row of `b` is read once, contiguously, and scattered
  /// into the output rows it touches.
  ///
  /// For `X · Z` with a tall Z (the vocabulary side of the SVD), gathering rows of Z per
  /// non-zero reads the whole of Z in random order for every product; scattering from Xᵀ
  /// reads Z once per task and writes the much smaller document-side output. Tasks own
  /// disjoint ranges of output rows and find their part of each (sorted) posting list by
  /// binary search, so there are no atomics and the sums are the same for any core count.
  static func multiply(
    transposeOf transpose: SparseMatrix, into output: UnsafeMutablePointer<Float>,
    _ b: UnsafePointer<Float>, width: Int
  ) {
    let outputRows = transpose.columns
    guard outputRows > 0, width > 0 else { return }
    let tasks = outputRows < 256 ? 1 : processorCount
    let offsets = transpose.offsets.buffer, indices = transpose.indices.buffer
    let values = transpose.storedValues.buffer
    parallelForEach(chunks: tasks) { task in
      let range = chunkRange(task, of: tasks, count: outputRows)
      let lower = Int32(range.lowerBound), upper = Int32(range.upperBound)
      for row in 0..<transpose.rows {
        var start = Int(offsets[row])
        var end = Int(offsets[row + 1])
        if start == end { continue }
        if tasks > 1 {
          // First posting ≥ lower, then first ≥ upper.
          var low = start, high = end
          while low < high {
            let middle = (low + high) >> 1
            if indices[middle] < lower { low = middle + 1 } else { high = middle }
          }
          start = low
          high = end
          while low < high {
            let middle = (low + high) >> 1
            if indices[middle] < upper { low = middle + 1 } else { high = middle }
          }
          end = low
        }
        let source = b + row * width
        for position in start..<end {
          let value = values[position]
          let target = output + Int(indices[position]) * width
          for column in 0..<width {
            target[column] += value * source[column]
          }
        }
      }
    }
  }

  /// The transpose, in CSR form (that is, this matrix in CSC form).
  /// - Complexity: O(rows + columns + non-zeros).
  public func transposed() -> SparseMatrix {
    let nnz = nonzeroCount
    var counts = [Int64](repeating: 0, count: columns + 1)
    for column in indices.buffer { counts[Int(column) + 1] += 1 }
    for column in 0..<columns { counts[column + 1] += counts[column] }
    let newOffsets = Storage(counts)
    var cursor = counts
    let newIndices = Storage<Int32>(count: nnz) { _ in }
    let newValues = Storage<Float>(count: nnz) { _ in }
    let targetIndices = UnsafeMutablePointer(mutating: newIndices.buffer.baseAddress!)
    let targetValues = UnsafeMutablePointer(mutating: newValues.buffer.baseAddress!)
    for row in 0..<rows {
      let (rowIndices, rowValues) = rowBuffers(row)
      for position in 0..<rowIndices.count {
        let column = Int(rowIndices[position])
        let destination = Int(cursor[column])
        cursor[column] += 1
        targetIndices[destination] = Int32(row)
        targetValues[destination] = rowValues[position]
      }
    }
    return try! SparseMatrix(
      rows: columns, columns: rows, offsets: newOffsets, indices: newIndices, values: newValues,
      validate: false)
  }
}
