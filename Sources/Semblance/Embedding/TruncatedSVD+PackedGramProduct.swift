import CSemblanceKernels

extension TruncatedSVD {
  /// `X Xᵀ Q` for a row-major n × width Q, the two factors' rows gathered in bfloat16: the
  /// product of the power iterations, whose iterates are re-orthonormalised after each one.
  ///
  /// For each column panel (at most 32 wide, stored 16 or 32 wide and padded with zeros):
  /// 1. Q's panel is packed to bfloat16 (n rows of 32 or 64 bytes);
  /// 2. `Z = Xᵀ Q`, a gather over each term's posting list, each row of Z summed in Float32
  ///    registers and stored packed (m rows of 32 or 64 bytes, written in order);
  /// 3. `Y = X Z`, a gather over each document's terms, each row summed in Float32 registers
  ///    and stored in Y.
  ///
  /// Every posting costs one random read of one cache line in each phase; no row is written
  /// by two tasks, so there are no partial sums to add up, and every row's sum runs in the
  /// same order whatever the number of tasks.
  ///
  /// Rounding the gathered rows to bfloat16 (8 significant bits: each value within 2⁻⁸ of
  /// itself, relatively) perturbs each entry of a power iterate by at most about 2·2⁻⁸ of the
  /// sum of its terms' magnitudes, and far less where many terms add up with independent
  /// rounding errors. The range finder only needs the iterate's span, and each
  /// iteration's error is damped by the next; the product that forms B Bᵀ stays in Float32
  /// (``TruncatedSVD/termGram(transpose:_:width:)``), so the Rayleigh–Ritz step is exact on
  /// the subspace found.
  ///
  /// On processors with AVX-512 both gathers run in a C kernel (`semblance_gather_bf16`):
  /// a 32-column packed row is one 512-bit load, unpacked by one shift and one mask, and
  /// summed with fused multiply-adds.
  struct PackedGramProduct {
    let matrix: SparseMatrix
    let transpose: SparseMatrix
    let width: Int
    let panels: [Range<Int>]
    let documentRanges: [Range<Int>]
    let termRanges: [Range<Int>]
    /// Q's panel, packed: n rows.
    let packedInput: AnonymousMemory
    /// Z's panel, packed: m rows.
    let packedTerms: AnonymousMemory

    /// How many postings ahead the gathers ask for rows, across row boundaries.
    static let prefetchDistance = 16

    init(matrix: SparseMatrix, transpose: SparseMatrix, width: Int) {
      precondition(matrix.rows == transpose.columns && matrix.columns == transpose.rows)
      self.matrix = matrix
      self.transpose = transpose
      self.width = width
      panels = stride(from: 0, to: width, by: SparsePanels.panelWidth).map {
        $0..<min($0 + SparsePanels.panelWidth, width)
      }
      // More ranges than cores: a range's time depends on its rows' cache behaviour, not
      // only on its share of the non-zeros.
      documentRanges = matrix.balancedRowRanges(parts: processorCount * 4)
      termRanges = transpose.balancedRowRanges(parts: processorCount * 4)
      let packedWidth = SparsePanels.storedWidth(min(width, SparsePanels.panelWidth)) * 2
      packedInput = AnonymousMemory(byteCount: matrix.rows * packedWidth)
      packedTerms = AnonymousMemory(byteCount: matrix.columns * packedWidth)
    }

    func apply(_ q: [Float], into y: inout [Float]) {
      q.withUnsafeBufferPointer { q in
        y.withUnsafeMutableBufferPointer { y in apply(q.baseAddress!, into: y.baseAddress!) }
      }
    }

    /// ``apply(_:into:)`` for n × width floats at `q` and at `y`, which may be the same
    /// floats: each panel of `q` is packed before that panel of `y` is written, and no panel
    /// reads another's columns.
    func apply(_ q: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
      let n = matrix.rows
      let copyTasks = n < 4096 ? 1 : processorCount * 4
      let packedInput = self.packedInput.base, packedTerms = self.packedTerms.base
      let matrix = self.matrix, transpose = self.transpose
      let documentRanges = self.documentRanges, termRanges = self.termRanges
      let width = self.width
      let y = UnsafeSendable(y)
      for panel in panels {
        let pw = panel.count
        func run<Row: PackedRegisterRow>(_: Row.Type) {
          parallelForEach(chunks: copyTasks) { task in
            for row in chunkRange(task, of: copyTasks, count: n) {
              Row(loading: q + row * width + panel.lowerBound, count: pw)
                .pack(into: packedInput + row * Row.packedBytes)
            }
          }
          parallelForEach(chunks: termRanges.count) { task in
            let terms = termRanges[task]
            let done = transpose.withCSRPointers { offsets, indices, values in
              semblance_gather_bf16(
                offsets, indices, values, terms.lowerBound, terms.upperBound, packedInput,
                Row.floats, packedTerms, nil, 0, 0)
            }
            if done != 0 { return }
            PackedGramProduct.gather(
              Row.self, rows: terms, of: transpose, from: packedInput
            ) { term, sum in
              sum.pack(into: packedTerms + term * Row.packedBytes)
            }
          }
          parallelForEach(chunks: documentRanges.count) { task in
            let documents = documentRanges[task]
            let done = matrix.withCSRPointers { offsets, indices, values in
              semblance_gather_bf16(
                offsets, indices, values, documents.lowerBound, documents.upperBound,
                packedTerms, Row.floats, nil, y.value + panel.lowerBound, width, pw)
            }
            if done != 0 { return }
            PackedGramProduct.gather(
              Row.self, rows: documents, of: matrix, from: packedTerms
            ) { document, sum in
              sum.store(to: y.value + document * width + panel.lowerBound, count: pw)
            }
          }
        }
        if SparsePanels.storedWidth(pw) == 32 {
          run(RegisterRow32.self)
        } else {
          run(RegisterRow16.self)
        }
      }
    }

    /// For each row r of `rows`, `Σ value · packed row[column]` over r's stored entries,
    /// handed to `finish` with r. Rows are asked for `prefetchDistance` entries ahead over
    /// the whole range, so short rows' loads overlap too.
    @inline(__always)
    static func gather<Row: PackedRegisterRow>(
      _: Row.Type, rows: Range<Int>, of matrix: SparseMatrix, from source: UnsafeRawPointer,
      finish: (Int, Row) -> Void
    ) {
      guard !rows.isEmpty else { return }
      let offsets = matrix.offsets.buffer, indices = matrix.indices.buffer
      let values = matrix.storedValues.buffer
      let first = Int(offsets[rows.lowerBound]), limit = Int(offsets[rows.upperBound])
      for position in first..<min(first + prefetchDistance, limit) {
        semblance_prefetch(source + Int(indices[position]) * Row.packedBytes)
      }
      for row in rows {
        var sum = Row()
        for position in Int(offsets[row])..<Int(offsets[row + 1]) {
          if position + prefetchDistance < limit {
            semblance_prefetch(source + Int(indices[position + prefetchDistance]) * Row.packedBytes)
          }
          let row = source + Int(indices[position]) * Row.packedBytes
          sum.add(values[position], timesPackedRowAt: row)
        }
        finish(row, sum)
      }
    }
  }
}
