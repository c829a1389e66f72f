import CSemblanceKernels

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
  func multiply(
    into output: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, width: Int
  ) {
    multiply(b, stride: width, into: output, stride: width, width: width, accumulate: true)
  }

  /// `self · b` into `output`: output row `i` is `width` values at `output + i · outputStride`,
  /// and row `j` of `b` is `width` values at `b + j · bStride`. The sums are stored, or added
  /// to what `output` holds when `accumulate` is true.
  ///
  /// Each output row is accumulated in registers, 32 columns at a time, over all of that row's
  /// non-zeros, and stored once: the rows of `b` are only read. Rows are split into contiguous
  /// blocks, one per task (no atomics), so the result is the same for any number of cores.
  ///
  /// With `rows`, only those rows are computed, and output row `i` is written at
  /// `output + (i - rows.lowerBound) · outputStride`.
  func multiply(
    _ b: UnsafePointer<Float>, stride bStride: Int,
    into output: UnsafeMutablePointer<Float>, stride outputStride: Int,
    width: Int, accumulate: Bool, rows selected: Range<Int>? = nil
  ) {
    let selected = selected ?? 0..<rows
    let output = output - selected.lowerBound * outputStride
    let rows = selected.count
    guard rows > 0, width > 0 else { return }
    let tasks = rows < 256 ? 1 : processorCount * 4
    let offsets = self.offsets.buffer, indices = self.indices.buffer
    let values = self.storedValues.buffer
    let source = UnsafeRawPointer(b)
    parallelForEach(chunks: tasks) { task in
      for local in chunkRange(task, of: tasks, count: rows) {
        let row = selected.lowerBound + local
        let start = Int(offsets[row]), end = Int(offsets[row + 1])
        let out = output + row * outputStride
        if start == end {
          if !accumulate { out.update(repeating: 0, count: width) }
          continue
        }
        let target = UnsafeMutableRawPointer(out)
        @inline(__always)
        func put(_ sum: SIMD4<Float>, at offset: Int) {
          let value = accumulate
            ? target.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + sum : sum
          target.storeBytes(of: value, toByteOffset: offset, as: SIMD4<Float>.self)
        }
        var column = 0
        while column + 32 <= width {
          var sum = RegisterRow32()
          for position in start..<end {
            sum.add(values[position], timesRowAt: source + (Int(indices[position]) * bStride + column) * 4)
          }
          let to = target + column * 4
          if accumulate { sum.add(scaledBy: 1, into: to) } else { sum.store(to: to) }
          column += 32
        }
        while column + 8 <= width {
          var a0 = SIMD4<Float>(), a1 = SIMD4<Float>()
          for position in start..<end {
            let value = SIMD4<Float>(repeating: values[position])
            let from = source + (Int(indices[position]) * bStride + column) * 4
            a0 += value * from.loadUnaligned(fromByteOffset: 0, as: SIMD4<Float>.self)
            a1 += value * from.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
          }
          put(a0, at: column * 4)
          put(a1, at: column * 4 + 16)
          column += 8
        }
        if column < width {
          if !accumulate { (out + column).update(repeating: 0, count: width - column) }
          for position in start..<end {
            let value = values[position]
            let from = b + Int(indices[position]) * bStride
            for c in column..<width { out[c] += value * from[c] }
          }
        }
      }
    }
  }

  /// Contiguous row ranges that hold near-equal shares of the non-zeros, one per part.
  func balancedRowRanges(parts: Int) -> [Range<Int>] {
    let parts = max(1, min(parts, rows))
    guard parts > 1 else { return [0..<rows] }
    let offsets = self.offsets.buffer
    let total = Int(offsets[rows])
    var ranges: [Range<Int>] = []
    var lower = 0
    for part in 1..<parts {
      // The first row whose end offset reaches part / parts of the non-zeros.
      let target = Int64(total * part / parts)
      var low = lower, high = rows
      while low < high {
        let middle = (low + high) >> 1
        if offsets[middle + 1] < target { low = middle + 1 } else { high = middle }
      }
      let upper = min(max(low + 1, lower), rows)
      ranges.append(lower..<upper)
      lower = upper
    }
    ranges.append(lower..<rows)
    return ranges
  }

  /// The transpose, in CSR form (that is, this matrix in CSC form).
  ///
  /// Each task takes a contiguous range of rows with an equal share of the non-zeros and
  /// counts their columns; a prefix sum over (column, task) then gives every task its own
  /// write position in each output row, so the tasks scatter without atomics and every
  /// output row lists its entries in ascending order, exactly as a one-core pass would.
  /// - Complexity: O(rows + tasks · columns + non-zeros).
  public func transposed() -> SparseMatrix {
    transposed(hugePages: false)
  }

  /// ``transposed()``, its arrays in huge pages when `hugePages` (see
  /// ``TruncatedSVD/hugePageMinimum``).
  func transposed(hugePages: Bool) -> SparseMatrix {
    // Each task needs a column-sized counter array; use one task for small matrices.
    transposed(tasks: nonzeroCount < 1 << 20 ? 1 : processorCount, hugePages: hugePages)
  }

  /// ``transposed(hugePages:)`` split over `tasks` row ranges.
  ///
  /// Each task's cursor for a column is the absolute position of that column's next entry
  /// in the output, so a scattered entry reads one counter, not a counter and the row's
  /// start; and the counter of the entry 16 positions ahead is asked for while this one is
  /// written (the counters of millions of columns are far larger than the caches).
  func transposed(tasks: Int, hugePages: Bool = false) -> SparseMatrix {
    let nnz = nonzeroCount
    let parts = balancedRowRanges(parts: tasks)
    let offsets = self.offsets.buffer, indices = self.indices.buffer
    let values = self.storedValues.buffer
    // cursors[task][column]: first the task's count of that column, then its next write
    // position in the output.
    let cursors = parts.map { _ in
      let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: columns)
      counts.initialize(repeating: 0)
      return counts
    }
    defer { for counts in cursors { counts.deallocate() } }
    let sharedCursors = UnsafeSendable(cursors)
    parallelForEach(chunks: parts.count) { task in
      let counts = sharedCursors.value[task], rows = parts[task]
      guard !rows.isEmpty else { return }
      for position in Int(offsets[rows.lowerBound])..<Int(offsets[rows.upperBound]) {
        counts[Int(indices[position])] &+= 1
      }
    }
    var starts = [Int64](repeating: 0, count: columns + 1)
    var running = 0
    for column in 0..<columns {
      for counts in cursors {
        let count = counts[column]
        counts[column] = running
        running += count
      }
      starts[column + 1] = Int64(running)
    }
    let newOffsets = Storage(starts)
    let newIndices = Storage<Int32>(count: nnz, hugePages: hugePages) { _ in }
    let newValues = Storage<Float>(count: nnz, hugePages: hugePages) { _ in }
    let targets = UnsafeSendable(
      (
        UnsafeMutablePointer(mutating: newIndices.buffer.baseAddress!),
        UnsafeMutablePointer(mutating: newValues.buffer.baseAddress!)
      ))
    parallelForEach(chunks: parts.count) { task in
      let cursor = sharedCursors.value[task].baseAddress!
      let (targetIndices, targetValues) = targets.value
      let rows = parts[task]
      guard !rows.isEmpty else { return }
      let end = Int(offsets[rows.upperBound])
      let lookahead = 16
      for row in rows {
        for position in Int(offsets[row])..<Int(offsets[row + 1]) {
          if position + lookahead < end {
            semblance_prefetch(cursor + Int(indices[position + lookahead]))
          }
          let column = Int(indices[position])
          let destination = cursor[column]
          cursor[column] = destination &+ 1
          targetIndices[destination] = Int32(row)
          targetValues[destination] = values[position]
        }
      }
    }
    return try! SparseMatrix(
      rows: columns, columns: rows, offsets: newOffsets, indices: newIndices, values: newValues,
      validate: false)
  }
}

/// A row of floats held in 4-lane registers: the accumulator of the sparse kernels that
/// gather rows of a dense panel and scatter sums back into rows of another.
protocol RegisterRow {
  /// The row's floats, a multiple of 16 (whole cache lines).
  static var floats: Int { get }
  init()
  /// `self += scale · row`, for the `floats` floats at `row`.
  mutating func add(_ scale: Float, timesRowAt row: UnsafeRawPointer)
  /// `row += scale · self`, for the `floats` floats at `row`.
  func add(scaledBy scale: Float, into row: UnsafeMutableRawPointer)
  /// Writes the `floats` floats to `row`.
  func store(to row: UnsafeMutableRawPointer)
}

extension RegisterRow {
  /// The row's size in bytes.
  @inline(__always)
  static var bytes: Int { floats * MemoryLayout<Float>.stride }

  /// The first `count` floats at `source`, the rest zero.
  @inline(__always)
  init(loading source: UnsafePointer<Float>, count: Int) {
    self.init()
    if count == Self.floats {
      add(1, timesRowAt: UnsafeRawPointer(source))
    } else {
      withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.floats) { row in
        row.initialize(repeating: 0)
        row.baseAddress!.update(from: source, count: count)
        add(1, timesRowAt: UnsafeRawPointer(row.baseAddress!))
      }
    }
  }

  /// Writes the first `count` floats to `target`.
  @inline(__always)
  func store(to target: UnsafeMutablePointer<Float>, count: Int) {
    if count == Self.floats {
      store(to: UnsafeMutableRawPointer(target))
      return
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.floats) { row in
      store(to: UnsafeMutableRawPointer(row.baseAddress!))
      target.update(from: row.baseAddress!, count: count)
    }
  }
}

/// A register row that can also be read from and written to memory rounded to bfloat16
/// (the upper half of a Float32: its sign, exponent and 8-bit significand), half the bytes.
///
/// A packed row is `floats / 2` 32-bit words in groups of four, one group per pair of
/// registers: word `4g + i` holds column `8g + i` in its low half and column `8g + 4 + i` in
/// its high half. Unpacking a group is then a shift and a mask, no shuffle.
protocol PackedRegisterRow: RegisterRow {
  /// `self += scale · row`, for the packed row at `row`.
  mutating func add(_ scale: Float, timesPackedRowAt row: UnsafeRawPointer)
  /// Writes the row packed, each value rounded to the nearest bfloat16 (ties to even).
  func pack(into row: UnsafeMutableRawPointer)
}

extension PackedRegisterRow {
  /// The packed row's size in bytes.
  @inline(__always)
  static var packedBytes: Int { floats * 2 }
}

/// bfloat16 halves of 32-bit words.
enum BFloat16 {
  /// Two registers' values rounded to bfloat16 and packed into one register of words: `low`
  /// in the low halves, `high` in the high halves.
  @inline(__always)
  static func pack(low: SIMD4<Float>, high: SIMD4<Float>) -> SIMD4<UInt32> {
    (rounded(low) &>> 16) | (rounded(high) & 0xFFFF_0000)
  }

  /// The bits of `value` rounded to the nearest bfloat16 in the upper half (ties to even),
  /// for finite values.
  @inline(__always)
  static func rounded(_ value: SIMD4<Float>) -> SIMD4<UInt32> {
    let bits = unsafeBitCast(value, to: SIMD4<UInt32>.self)
    return bits &+ (0x7FFF &+ ((bits &>> 16) & 1))
  }

  /// The values of the low halves of `words`.
  @inline(__always)
  static func low(_ words: SIMD4<UInt32>) -> SIMD4<Float> {
    unsafeBitCast(words &<< 16, to: SIMD4<Float>.self)
  }

  /// The values of the high halves of `words`.
  @inline(__always)
  static func high(_ words: SIMD4<UInt32>) -> SIMD4<Float> {
    unsafeBitCast(words & 0xFFFF_0000, to: SIMD4<Float>.self)
  }
}

/// Sixteen floats (one cache line) held in four 4-lane registers.
struct RegisterRow16: RegisterRow {
  var a0 = SIMD4<Float>(), a1 = SIMD4<Float>(), a2 = SIMD4<Float>(), a3 = SIMD4<Float>()

  static var floats: Int { 16 }

  @inline(__always)
  mutating func add(_ scale: Float, timesRowAt row: UnsafeRawPointer) {
    let value = SIMD4<Float>(repeating: scale)
    a0 += value * row.loadUnaligned(fromByteOffset: 0, as: SIMD4<Float>.self)
    a1 += value * row.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
    a2 += value * row.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
    a3 += value * row.loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self)
  }

  @inline(__always)
  func add(scaledBy scale: Float, into row: UnsafeMutableRawPointer) {
    let value = SIMD4<Float>(repeating: scale)
    @inline(__always)
    func add(_ sum: SIMD4<Float>, _ offset: Int) {
      row.storeBytes(
        of: row.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) + value * sum,
        toByteOffset: offset, as: SIMD4<Float>.self)
    }
    add(a0, 0)
    add(a1, 16)
    add(a2, 32)
    add(a3, 48)
  }

  /// Writes the 16 floats to `row`.
  @inline(__always)
  func store(to row: UnsafeMutableRawPointer) {
    row.storeBytes(of: a0, toByteOffset: 0, as: SIMD4<Float>.self)
    row.storeBytes(of: a1, toByteOffset: 16, as: SIMD4<Float>.self)
    row.storeBytes(of: a2, toByteOffset: 32, as: SIMD4<Float>.self)
    row.storeBytes(of: a3, toByteOffset: 48, as: SIMD4<Float>.self)
  }
}

extension RegisterRow16: PackedRegisterRow {
  @inline(__always)
  mutating func add(_ scale: Float, timesPackedRowAt row: UnsafeRawPointer) {
    let value = SIMD4<Float>(repeating: scale)
    let w0 = row.loadUnaligned(fromByteOffset: 0, as: SIMD4<UInt32>.self)
    let w1 = row.loadUnaligned(fromByteOffset: 16, as: SIMD4<UInt32>.self)
    a0 += value * BFloat16.low(w0)
    a1 += value * BFloat16.high(w0)
    a2 += value * BFloat16.low(w1)
    a3 += value * BFloat16.high(w1)
  }

  @inline(__always)
  func pack(into row: UnsafeMutableRawPointer) {
    row.storeBytes(of: BFloat16.pack(low: a0, high: a1), toByteOffset: 0, as: SIMD4<UInt32>.self)
    row.storeBytes(of: BFloat16.pack(low: a2, high: a3), toByteOffset: 16, as: SIMD4<UInt32>.self)
  }
}

/// Thirty-two floats held in eight 4-lane registers, as two sixteen-float halves: the
/// accumulator of the 32-column sparse kernels. Eight SSE registers, so nothing spills on
/// baseline x86-64 (sixteen-lane vectors would need all sixteen).
struct RegisterRow32: PackedRegisterRow {
  var low = RegisterRow16(), high = RegisterRow16()

  static var floats: Int { 32 }

  @inline(__always)
  mutating func add(_ scale: Float, timesRowAt row: UnsafeRawPointer) {
    low.add(scale, timesRowAt: row)
    high.add(scale, timesRowAt: row + 64)
  }

  @inline(__always)
  func add(scaledBy scale: Float, into row: UnsafeMutableRawPointer) {
    low.add(scaledBy: scale, into: row)
    high.add(scaledBy: scale, into: row + 64)
  }

  /// Writes the 32 floats to `row`.
  @inline(__always)
  func store(to row: UnsafeMutableRawPointer) {
    low.store(to: row)
    high.store(to: row + 64)
  }

  // The packed layout of 32 columns is two packed 16-column rows, one after the other.
  @inline(__always)
  mutating func add(_ scale: Float, timesPackedRowAt row: UnsafeRawPointer) {
    low.add(scale, timesPackedRowAt: row)
    high.add(scale, timesPackedRowAt: row + 32)
  }

  @inline(__always)
  func pack(into row: UnsafeMutableRawPointer) {
    low.pack(into: row)
    high.pack(into: row + 32)
  }
}

extension SparseMatrix {
  /// Calls `body` with the base addresses of the row offsets, column indices and values,
  /// for the C kernels. Every buffer has at least one element's address (offsets always
  /// hold `rows + 1`), so an empty matrix still passes valid pointers.
  @inline(__always)
  func withCSRPointers<R>(
    _ body: (UnsafePointer<Int64>, UnsafePointer<Int32>, UnsafePointer<Float>) -> R
  ) -> R {
    let offsets = self.offsets.buffer, indices = self.indices.buffer
    let values = storedValues.buffer
    return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1) { noIndex in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 1) { noValue in
        body(
          offsets.baseAddress!, indices.baseAddress ?? UnsafePointer(noIndex.baseAddress!),
          values.baseAddress ?? UnsafePointer(noValue.baseAddress!))
      }
    }
  }
}
