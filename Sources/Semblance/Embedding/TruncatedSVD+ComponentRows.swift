import CSemblanceKernels

extension TruncatedSVD {
  /// The components V of a randomized fit, formed a range of terms at a time instead of held
  /// whole: what writing an index file needs, without V's `terms × k` floats in memory.
  ///
  /// V is the largest array of an index (12.8 GB of the 2.5 million-paper build's 19.3 GiB
  /// peak, Docs/Benchmarks.md). Term t's row is `Σ_d X[d,t] (U Σ)[d]` over its posting list
  /// in Xᵀ, times Σ⁻², then its column's sign: the same fused products in the same order
  /// as ``projectOnTerms(fromRowsOf:termRanges:_:width:scales:into:)`` adds into a zeroed V,
  /// the same scaling, and then what ``Factors/dropNullDirections()`` and
  /// ``Factors/flipSigns(tasks:)`` do to V's columns, so every row is the in-memory row to the
  /// bit.
  ///
  /// It holds Xᵀ (the size of the TF-IDF matrix) and a copy of U Σ as the solver formed it.
  struct ComponentRows: @unchecked Sendable {
    /// Xᵀ: terms × documents.
    let transpose: SparseMatrix
    /// U Σ, documents × `width`, row-major, before any sign was chosen or direction dropped.
    let embeddings: Storage<Float>
    let width: Int
    /// Σ⁻² (0 where σ is 0).
    let scales: [Float]
    /// Each column's final sign, 1 or −1, or 0 for a dropped null direction; `nil` until the
    /// signs are chosen (rows are then V before either step).
    var signs: [Float]? = nil

    /// The number of rows (terms).
    var terms: Int { transpose.rows }

    /// Writes the rows of `terms` (row-major, `width` floats each) at `output`.
    func fill(_ terms: Range<Int>, into output: UnsafeMutablePointer<Float>) {
      let width = self.width
      let done = transpose.withCSRPointers { offsets, indices, values in
        semblance_gather_rows(
          offsets, indices, values, terms.lowerBound, terms.upperBound,
          embeddings.buffer.baseAddress!, width, output)
      }
      if done == 0 {
        // The portable sums, in the order and rounding of the portable scatter: products
        // and sums rounded separately, postings in document order.
        let offsets = transpose.offsets.buffer, indices = transpose.indices.buffer
        let values = transpose.storedValues.buffer, e = embeddings.buffer
        for term in terms {
          let row = output + (term - terms.lowerBound) * width
          row.update(repeating: 0, count: width)
          for position in Int(offsets[term])..<Int(offsets[term + 1]) {
            let value = values[position]
            let source = Int(indices[position]) * width
            for column in 0..<width { row[column] = row[column] + value * e[source + column] }
          }
        }
      }
      for row in 0..<terms.count {
        let target = output + row * width
        for column in 0..<width {
          let scaled = target[column] * scales[column]
          let sign = signs?[column] ?? 1
          target[column] = sign == 0 ? 0 : scaled * sign
        }
      }
    }

    /// The largest-magnitude entry of each column of V before signs, from one pass on every
    /// core over contiguous shares of the terms, merged in term order.
    func columnPeaks(tasks: Int? = nil) -> ColumnPeaks {
      let ranges = transpose.balancedRowRanges(parts: tasks ?? processorCount)
      let blockTerms = Self.blockTerms
      let shares = parallelMap(chunks: ranges.count) { task -> ColumnPeaks in
        var peaks = ColumnPeaks(width: width)
        let terms = ranges[task]
        guard !terms.isEmpty else { return peaks }
        let block = UnsafeMutablePointer<Float>.allocate(capacity: blockTerms * width)
        defer { block.deallocate() }
        var first = terms.lowerBound
        while first < terms.upperBound {
          let last = min(first + blockTerms, terms.upperBound)
          fill(first..<last, into: block)
          for row in 0..<(last - first) { peaks.add(row: block + row * width) }
          first = last
        }
        return peaks
      }
      return shares.isEmpty ? ColumnPeaks(width: width) : ColumnPeaks.merged(shares)
    }

    /// Terms formed per step of ``columnPeaks(tasks:)``: 512 KiB of rows at the default width,
    /// in the core's second-level cache.
    static let blockTerms = 1_024

    /// Writes bytes `range` of V's row-major image (`terms × width` floats) at `output`:
    /// rows whole where the range covers them and the destination is aligned for floats (as
    /// in an index file, whose sections are aligned), the rest through a row of scratch.
    func fillBytes(_ range: Range<Int>, into output: UnsafeMutableRawPointer) {
      let rowBytes = width * MemoryLayout<Float>.stride
      guard rowBytes > 0, !range.isEmpty else { return }
      withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { scratch in
        let scratch = scratch.baseAddress!
        var position = range.lowerBound
        while position < range.upperBound {
          let row = position / rowBytes, skip = position % rowBytes
          let destination = output + (position - range.lowerBound)
          let aligned = Int(bitPattern: destination) % MemoryLayout<Float>.alignment == 0
          let wholeRows = skip == 0 && aligned ? (range.upperBound - position) / rowBytes : 0
          if wholeRows > 0 {
            fill(row..<(row + wholeRows), into: destination.assumingMemoryBound(to: Float.self))
            position += wholeRows * rowBytes
          } else {
            fill(row..<(row + 1), into: scratch)
            let count = min(rowBytes - skip, range.upperBound - position)
            destination.copyMemory(from: UnsafeRawPointer(scratch) + skip, byteCount: count)
            position += count
          }
        }
      }
    }
  }
}
