import CSemblanceKernels
import Foundation

extension TruncatedSVD {
  /// The size of V from which V and Xᵀ use huge pages (3 GiB).
  ///
  /// V is written by a scatter of rows to random terms, and Xᵀ by a scatter of entries: with
  /// 4 KiB pages nearly every write misses the TLB, and once the page tables outgrow the
  /// caches each miss costs a memory access. Fresh huge pages cost about four times as much
  /// to fault in as fresh 4 KiB pages on the machines measured (virtual machines whose host
  /// backs memory lazily). Measured (Docs/Benchmarks.md): at 300,000 papers (V 1.9 GB)
  /// V took 2.6 s in 4 KiB pages and 3.2 s in huge pages; at a million (V 5.6 GB) 13.1 s in
  /// 4 KiB pages, 11.0 s in huge pages, and 9.5 s with Xᵀ in huge pages too, whose pages V
  /// takes over.
  static let hugePageMinimum = 3 << 30

  /// The largest smaller-side size solved exactly by `.automatic`.
  static let exactThreshold = 2_000
  /// The largest smaller-side size `.exact` accepts (its Gram matrix is that size squared).
  static let exactLimit = 20_000
  /// Singular values at most this fraction of the largest are zero: the input has lower rank.
  ///
  /// The Gram eigenvalues are exact to about `order · 2.2e-16` relative, so the noise floor of
  /// σ stays below 1e-6 · σ₁ for every order the solvers use; V is then formed in single
  /// precision, where a direction with σ = 1e-5 · σ₁ is still accurate to about 1e-2.
  static let rankTolerance = 1e-5
  /// Power iterations of the randomized solver when none are configured.
  ///
  /// Two iterations make three products with X Xᵀ before the one that forms B Bᵀ. More
  /// iterations fit the top singular subspace more closely (scikit-learn's `TruncatedSVD`
  /// makes five passes), but they do not rank papers better: on the labelled corpora of
  /// Docs/Benchmarks.md, P@10 with two iterations was equal to or above P@10 with four (the
  /// default until 30 November 2026) or seven, while each iteration costs a sixth of the
  /// decomposition. Ask for more when the decomposition itself is the product (explained
  /// variance rose 1.7% from two to four iterations at 300,000 papers).
  public static let defaultPowerIterations = 2

  /// Decomposes `x` and returns the model with the document coordinates `U Σ`
  /// (one row per input row, not normalised).
  ///
  /// - Throws: `ConfigurationError` for invalid options or an empty matrix;
  ///   `LinearAlgebraError.factorizationFailed` if LAPACK does not converge.
  /// - Complexity: exact: O(min(n,m)² · nnz-per-row + min(n,m)³); randomized:
  ///   O((2q + 4) · nnz · (k + p) + q · n · (k + p)² + m · (k + p)²) for q power iterations.
  public static func fit(
    _ x: SparseMatrix, configuration: Configuration = .init()
  ) throws -> (svd: TruncatedSVD, embeddings: DenseMatrix) {
    try fit(x, configuration: configuration, normalizingRows: false)
  }

  /// ``fit(_:configuration:)``, with the coordinates' rows scaled to unit length when
  /// `normalizingRows` is true (as ``DenseMatrix/normalizedRows()`` would scale them), in the
  /// memory the solver wrote them to.
  static func fit(
    _ x: SparseMatrix, configuration: Configuration, normalizingRows: Bool
  ) throws -> (svd: TruncatedSVD, embeddings: DenseMatrix) {
    let fitted = try fit(
      x, configuration: configuration, normalizingRows: normalizingRows, formingComponents: true)
    return (fitted.svd, fitted.embeddings)
  }

  /// ``fit(_:configuration:normalizingRows:)``; with `formingComponents` false, a randomized
  /// fit does not form V: the model's `components` are then empty (0 rows), and
  /// `componentRows` forms V's rows on demand, each equal to the row V would have held.
  /// (An exact fit always forms V, and returns no `componentRows`.)
  static func fit(
    _ x: SparseMatrix, configuration: Configuration, normalizingRows: Bool,
    formingComponents: Bool
  ) throws -> (svd: TruncatedSVD, embeddings: DenseMatrix, componentRows: ComponentRows?) {
    try configuration.validate()
    let smaller = min(x.rows, x.columns)
    guard smaller >= 1 else { throw ConfigurationError.emptyCorpus }
    let k = max(1, min(configuration.dimensions, smaller - 1))
    let useExact: Bool
    switch configuration.algorithm {
    case .automatic: useExact = smaller <= exactThreshold
    case .exact:
      guard smaller <= exactLimit else {
        throw ConfigurationError.invalidValue(
          option: "algorithm", value: "exact",
          expected: "a matrix whose smaller side is at most \(exactLimit) (it is \(smaller))")
      }
      useExact = true
    case .randomized: useExact = false
    }
    var factors: Factors
    do {
      factors =
        useExact
        ? try exact(x, k: k)
        : try randomized(
          x, k: k, configuration: configuration, formingComponents: formingComponents)
    } catch let failure as LAPACKFailure {
      throw LinearAlgebraError.factorizationFailed(failure.description)
    }
    factors.dropNullDirections()
    factors.flipSigns()
    var componentRows = factors.componentRows
    if let peaks = factors.columnPeaks, componentRows != nil {
      componentRows!.signs = (0..<k).map { column in
        factors.singularValues[column] == 0 ? 0 : peaks.negative[column] ? -1 : 1
      }
    }
    let ratios = explainedVarianceRatios(
      x, embeddings: UnsafeBufferPointer(factors.embeddings),
      columnSumShares: factors.columnSumShares)
    let svd = TruncatedSVD(
      components: DenseMatrix(
        rows: componentRows == nil ? x.columns : 0, columns: k,
        storage: Storage(
          viewing: UnsafePointer(factors.components.baseAddress!), count: factors.components.count,
          owner: factors.componentsMemory)),
      singularValues: factors.singularValues.map { Float($0) },
      explainedVarianceRatio: ratios,
      requestedDimensions: configuration.dimensions,
      algorithm: useExact ? .exact : .randomized)
    if normalizingRows {
      DenseMatrix.normalizeRows(factors.embeddings.baseAddress!, rows: x.rows, columns: k)
    }
    // The embeddings stay in the memory the solver wrote them to. At 300,000 papers a copy
    // of them and then a normalised copy, each in fresh pages right after the solver's
    // leftover pages went back to the kernel, took 0.4 s and 0.1 s.
    let embeddings = DenseMatrix(
      rows: x.rows, columns: k,
      storage: Storage(
        viewing: UnsafePointer(factors.embeddings.baseAddress!), count: factors.embeddings.count,
        owner: factors.embeddingsMemory))
    return (svd, embeddings, componentRows)
  }

  /// V (m × k), U Σ (n × k), both row-major, and σ.
  struct Factors {
    /// V, row-major m × k, in `componentsMemory`; empty when `componentRows` forms it.
    let components: UnsafeMutableBufferPointer<Float>
    let componentsMemory: AnonymousMemory
    /// U Σ, row-major n × k, in `embeddingsMemory`.
    let embeddings: UnsafeMutableBufferPointer<Float>
    let embeddingsMemory: AnonymousMemory
    var singularValues: [Double]
    let terms: Int
    let documents: Int
    let k: Int
    /// Each column's largest-magnitude entry of V, when whoever wrote V found it on the way
    /// (``projectOnTerms(fromRowsOf:termRanges:_:width:scales:into:)``), so that
    /// ``flipSigns(tasks:)`` need not read V again.
    var columnPeaks: ColumnPeaks? = nil
    /// Σ_j (Σ_i X_ij)² over each share of the columns that ``explainedVarianceRatios(_:embeddings:columnSumShares:)``
    /// splits them into, when the solver found them on the way (from Xᵀ's rows).
    var columnSumShares: [Double]? = nil
    /// V's rows on demand, when the solver did not form V (its signs not yet chosen).
    var componentRows: ComponentRows? = nil

    /// Zeroed memory for `count` values of U Σ, in fresh 4 KiB pages: the pages the solver
    /// frees are left to V, allocated next, which at scale takes huge pages and gets them
    /// fresh at about four times the cost per byte (``PageReserve``, `hugePageMinimum`).
    /// With `recycled` (when no V follows) it takes the freed pages itself: fresh ones would
    /// be resident beside them until the solver returns.
    static func allocate(
      _ count: Int, recycled: Bool = false
    ) -> (AnonymousMemory, UnsafeMutableBufferPointer<Float>) {
      let memory = AnonymousMemory(
        byteCount: count * MemoryLayout<Float>.stride, hugePages: false,
        reserve: recycled ? .shared : .bypass)
      return (memory, UnsafeMutableBufferPointer(start: memory.pointer(to: Float.self), count: count))
    }

    /// Sets every direction whose singular value ``TruncatedSVD/rankTolerance`` marks as zero
    /// to exactly zero: its σ, its column of V and its column of U Σ.
    ///
    /// Rank-deficient input (duplicate papers, fewer distinct papers than dimensions) has
    /// singular values that are only rounding noise. V = Xᵀ U Σ⁻¹ would divide single-precision
    /// noise by them, giving components of any size, even infinities, and NaN scores.
    mutating func dropNullDirections() {
      let largest = singularValues.max() ?? 0
      let cutoff = largest * TruncatedSVD.rankTolerance
      for column in 0..<k where !(singularValues[column] > cutoff) {
        singularValues[column] = 0
        if !components.isEmpty { for row in 0..<terms { components[row * k + column] = 0 } }
        for row in 0..<documents { embeddings[row * k + column] = 0 }
        columnPeaks?.magnitude[column] = 0
        columnPeaks?.negative[column] = false
      }
    }

    /// Makes the largest-magnitude entry of each column of V positive (first on ties),
    /// flipping the matching column of U Σ.
    mutating func flipSigns(tasks: Int? = nil) {
      // Every column's largest-magnitude entry, as V's writer recorded it or, failing that,
      // from one pass over V's rows, each core over a contiguous share of the rows merged in
      // row order (``ColumnPeaks/merged(_:)``).
      let k = self.k, components = self.components
      let tasks = tasks ?? (terms < 1 << 16 ? 1 : processorCount)
      let negative =
        columnPeaks?.negative
        ?? ColumnPeaks.merged(
          parallelMap(chunks: tasks) { task in
            ColumnPeaks(
              of: UnsafePointer(components.baseAddress!),
              rows: chunkRange(task, of: tasks, count: terms), width: k)
          }
        ).negative
      guard negative.contains(true) else { return }
      let signs = negative.map { $0 ? Float(-1) : 1 }
      // Without V (``ComponentRows`` forms it), only U Σ's columns turn here.
      if !components.isEmpty {
        parallelForEach(chunks: tasks) { task in
          for row in chunkRange(task, of: tasks, count: terms) {
            for column in 0..<k { components[row * k + column] *= signs[column] }
          }
        }
      }
      for row in 0..<documents { for column in 0..<k { embeddings[row * k + column] *= signs[column] } }
    }
  }

  /// The largest-magnitude entry of each column of a row-major matrix (the first on ties), by
  /// magnitude and sign.
  struct ColumnPeaks {
    var magnitude: [Float]
    var negative: [Bool]

    /// No rows seen yet, `width` columns.
    init(width: Int) {
      magnitude = [Float](repeating: -1, count: width)
      negative = [Bool](repeating: false, count: width)
    }

    /// The peaks of `rows` of a matrix `width` wide at `values`.
    init(of values: UnsafePointer<Float>, rows: Range<Int>, width: Int) {
      self.init(width: width)
      for row in rows { add(row: values + row * width) }
    }

    /// Counts one more row, after those seen so far.
    @inline(__always)
    mutating func add(row: UnsafePointer<Float>) {
      for column in magnitude.indices where abs(row[column]) > magnitude[column] {
        magnitude[column] = abs(row[column])
        negative[column] = row[column] < 0
      }
    }

    /// The peaks of consecutive row ranges together (at least one): a later range wins only
    /// with a strictly larger magnitude, so ties go to the first row, as in one pass.
    static func merged(_ shares: [ColumnPeaks]) -> ColumnPeaks {
      precondition(!shares.isEmpty, "ColumnPeaks.merged needs at least one share")
      var total = shares[0]
      for share in shares.dropFirst() {
        for column in total.magnitude.indices where share.magnitude[column] > total.magnitude[column] {
          total.magnitude[column] = share.magnitude[column]
          total.negative[column] = share.negative[column]
        }
      }
      return total
    }
  }

  // MARK: - Exact

  /// Eigendecomposition of the smaller Gram matrix (X Xᵀ or Xᵀ X) in double precision.
  static func exact(_ x: SparseMatrix, k: Int) throws -> Factors {
    let n = x.rows, m = x.columns
    if n <= m {
      // G = X Xᵀ; its eigenvectors are U; V = Xᵀ U Σ⁻¹.
      var gram = gramOfRows(x)
      let eigen = try topEigenpairs(&gram, order: n, count: k)
      var scaledU = [Float](repeating: 0, count: n * k)  // U Σ⁻¹, so that V = Xᵀ (U Σ⁻¹)
      let (embeddingsMemory, embeddings) = Factors.allocate(n * k)
      for row in 0..<n {
        for column in 0..<k {
          let value = eigen.vectors[column * n + row]
          let sigma = eigen.singularValues[column]
          scaledU[row * k + column] = Float(sigma > 0 ? value / sigma : 0)
          embeddings[row * k + column] = Float(value * sigma)
        }
      }
      let memory = AnonymousMemory(capacity: m * k, of: Float.self)
      let components = UnsafeMutableBufferPointer(start: memory.pointer(to: Float.self), count: m * k)
      scaledU.withUnsafeBufferPointer { u in
        x.transposed().multiply(
          u.baseAddress!, stride: k, into: components.baseAddress!, stride: k, width: k,
          accumulate: false)
      }
      return Factors(
        components: components, componentsMemory: memory, embeddings: embeddings,
        embeddingsMemory: embeddingsMemory, singularValues: eigen.singularValues, terms: m,
        documents: n, k: k)
    } else {
      // G = Xᵀ X; its eigenvectors are V; U Σ = X V.
      var gram = gramOfColumns(x)
      let eigen = try topEigenpairs(&gram, order: m, count: k)
      let memory = AnonymousMemory(capacity: m * k, of: Float.self)
      let components = UnsafeMutableBufferPointer(start: memory.pointer(to: Float.self), count: m * k)
      for row in 0..<m {
        for column in 0..<k {
          components[row * k + column] = Float(eigen.vectors[column * m + row])
        }
      }
      let (embeddingsMemory, embeddings) = Factors.allocate(n * k)
      x.multiply(into: embeddings.baseAddress!, UnsafePointer(components.baseAddress!), width: k)
      return Factors(
        components: components, componentsMemory: memory, embeddings: embeddings,
        embeddingsMemory: embeddingsMemory, singularValues: eigen.singularValues, terms: m,
        documents: n, k: k)
    }
  }

  /// X Xᵀ in double precision, by scattering one row at a time into a dense vector.
  static func gramOfRows(_ x: SparseMatrix) -> [Double] {
    let n = x.rows
    var gram = [Double](repeating: 0, count: n * n)
    let tasks = n < 64 ? 1 : processorCount * 4
    gram.withUnsafeMutableBufferPointer { gram in
      let gram = UnsafeSendable(gram)
      parallelForEach(chunks: tasks) { task in
        var dense = [Double](repeating: 0, count: x.columns)
        // Interleave rows across tasks: row i costs O(n - i), so this balances the triangle.
        var i = task
        while i < n {
          let (indices, values) = x.rowBuffers(i)
          for p in 0..<indices.count { dense[Int(indices[p])] = Double(values[p]) }
          for j in i..<n {
            let (otherIndices, otherValues) = x.rowBuffers(j)
            var sum: Double = 0
            for p in 0..<otherIndices.count {
              sum += Double(otherValues[p]) * dense[Int(otherIndices[p])]
            }
            gram.value[i * n + j] = sum
            gram.value[j * n + i] = sum
          }
          for p in 0..<indices.count { dense[Int(indices[p])] = 0 }
          i += tasks
        }
      }
    }
    return gram
  }

  /// Xᵀ X in double precision, by accumulating each row's outer product.
  static func gramOfColumns(_ x: SparseMatrix) -> [Double] {
    let m = x.columns
    var gram = [Double](repeating: 0, count: m * m)
    for row in 0..<x.rows {
      let (indices, values) = x.rowBuffers(row)
      for p in 0..<indices.count {
        let a = Int(indices[p]) * m
        let va = Double(values[p])
        for q in 0..<indices.count {
          gram[a + Int(indices[q])] += va * Double(values[q])
        }
      }
    }
    return gram
  }

  /// The `count` largest eigenpairs of a symmetric positive semi-definite matrix, largest
  /// first: singular values (square roots, negatives from rounding clamped to 0) and
  /// eigenvectors stored contiguously (vector j at `[j*order ..< (j+1)*order]`).
  static func topEigenpairs(
    _ matrix: inout [Double], order: Int, count: Int
  ) throws -> (singularValues: [Double], vectors: [Double]) {
    let values = try matrix.withUnsafeMutableBufferPointer {
      try LAPACK.symmetricEigen($0.baseAddress!, order: order)
    }
    var singular = [Double](repeating: 0, count: count)
    var vectors = [Double](repeating: 0, count: count * order)
    for j in 0..<count {
      let source = order - 1 - j  // eigenvalues ascend
      singular[j] = max(values[source], 0).squareRoot()
      for i in 0..<order { vectors[j * order + i] = matrix[source * order + i] }
    }
    return (singular, vectors)
  }

  // MARK: - Randomized

  /// The randomized range finder with power iterations (Halko, Martinsson & Tropp 2011,
  /// algorithms 4.3/4.4 and 5.1).
  ///
  /// Every iterate lives on the document side (n × width): one power iteration is
  /// `Q ← orth(X Xᵀ Q)`, the product computed panel by panel from rows rounded to bfloat16
  /// (``PackedGramProduct``). B Bᵀ = Qᵀ (X Xᵀ Q) = Zᵀ Z for Z = Xᵀ Q is formed in Float32
  /// a block of terms at a time (``termGram(transpose:_:width:)``), and V = Xᵀ (U Σ) Σ⁻² is
  /// formed from X's rows after Xᵀ and Q are freed, so V, the largest block, is never held
  /// beside Xᵀ. With `formingComponents` false, V is not formed: Xᵀ is kept for
  /// ``ComponentRows``, which forms V's rows when they are needed.
  static func randomized(
    _ x: SparseMatrix, k: Int, configuration: Configuration, formingComponents: Bool = true
  ) throws -> Factors {
    // Each large buffer below is freed before a larger one is made, V last and largest:
    // recycled pages spare most of them the cost of fresh memory.
    try PageReserve.shared.withReuse {
      try randomizedFactors(
        x, k: k, configuration: configuration, formingComponents: formingComponents)
    }
  }

  private static func randomizedFactors(
    _ x: SparseMatrix, k: Int, configuration: Configuration, formingComponents: Bool
  ) throws -> Factors {
    let n = x.rows, m = x.columns
    let width = min(k + configuration.oversampling, min(n, m))
    let iterations = configuration.powerIterations ?? defaultPowerIterations
    // Xᵀ serves the iterations only: it is released before V, the largest block, is
    // allocated, and V is then formed from X's rows (``projectOnTerms(fromRowsOf:…)``).
    let hugePages = m * k * MemoryLayout<Float>.stride >= hugePageMinimum
    var xt: SparseMatrix? = x.transposed(hugePages: hugePages)
    let columnSumShares = squaredColumnSumShares(transpose: xt!)
    let termRanges = xt!.balancedRowRanges(parts: processorCount)

    // The first iterate is X Xᵀ G for a Gaussian G of n × width: the test matrix is then
    // Ω = XᵀG, so the range finder runs on X Xᵀ, whose range is X's, with a Gaussian test
    // matrix as Halko et al. analyse, and only n·width normal deviates are drawn instead of
    // m·width (m, the vocabulary, is the larger side with bigrams).
    // Q is a mapping of its own, so that its pages go on to V when it is freed
    // (``PageReserve``).
    // Optional so that it can be freed before V is allocated.
    var qMemory: AnonymousMemory? = AnonymousMemory(capacity: n * width, of: Float.self)
    fillGaussian(
      UnsafeMutableBufferPointer(start: qMemory!.pointer(to: Float.self), count: n * width),
      seed: configuration.seed)
    // Normalise once per full iteration, on the document side: X Xᵀ Q with orthonormal Q
    // has condition ≈ (σ₁/σ_width)², far inside CholeskyQR2's range for the spectra of
    // TF-IDF matrices (and a failure falls back to Householder). Iterates before the last
    // only carry a span to the next product, which is itself rounded to bfloat16: one
    // CholeskyQR pass (orthogonal to about κ² · 6e-8) serves them, as scikit-learn's LU
    // normalisation serves its own; the last one, whose span Q must be an orthonormal basis
    // of for B Bᵀ = Qᵀ X Xᵀ Q, gets both.
    // Each iterate replaces the one before in place (``PackedGramProduct/apply(_:into:)``
    // reads a panel of Q before it writes that panel of the product), so the iterations hold
    // one n × width block, not two: 166 MB less at 300,000 papers, 1.4 GB at 2.5 million.
    do {
      let product = PackedGramProduct(matrix: x, transpose: xt!, width: width)
      let q = qMemory!.pointer(to: Float.self)
      for iteration in 0...iterations {
        product.apply(q, into: q)
        try orthonormalize(q, rows: n, width: width, passes: iteration == iterations ? 2 : 1)
      }
    }
    // B Bᵀ = Qᵀ X Xᵀ Q = Zᵀ Z for Z = Xᵀ Q, once the product's packed panels are freed; it
    // is symmetric by construction (one triangle, mirrored).
    var gram = termGram(transpose: xt!, qMemory!.pointer(to: Float.self), width: width)
    if formingComponents { xt = nil }
    let eigen = try topEigenpairs(&gram, order: width, count: k)

    // W (width × k, row-major); U Σ = Q (W Σ); V = Xᵀ U Σ⁻¹ = Xᵀ (U Σ) Σ⁻².
    // U Σ comes first so that Q is freed before V, the largest block, is allocated: at a
    // million papers Q is 550 MB of the peak.
    var ws = [Float](repeating: 0, count: width * k)
    for row in 0..<width {
      for column in 0..<k {
        let value = eigen.vectors[column * width + row]
        ws[row * k + column] = Float(value * eigen.singularValues[column])
      }
    }
    let (embeddingsMemory, embeddings) = Factors.allocate(n * k, recycled: !formingComponents)
    withExtendedLifetime(qMemory) {
      ws.withUnsafeBufferPointer { ws in
        BLAS.sgemm(
          .none, .none, m: n, n: k, k: width, a: qMemory!.pointer(to: Float.self), lda: width,
          b: ws.baseAddress!, ldb: k, c: embeddings.baseAddress!, ldc: k)
      }
    }
    qMemory = nil
    let inverseSquares = eigen.singularValues.map { $0 > 0 ? Float(1 / ($0 * $0)) : 0 }
    if !formingComponents {
      // V's rows come from Xᵀ and a copy of U Σ as it is now, on demand; one pass over
      // them now finds the columns' peaks, which choose the signs.
      let rows = ComponentRows(
        transpose: xt!,
        embeddings: Storage(count: n * k) {
          $0.baseAddress!.update(from: embeddings.baseAddress!, count: n * k)
        },
        width: k, scales: inverseSquares)
      let none = AnonymousMemory(byteCount: 0, hugePages: false, reserve: .bypass)
      return Factors(
        components: UnsafeMutableBufferPointer(start: none.pointer(to: Float.self), count: 0),
        componentsMemory: none, embeddings: embeddings, embeddingsMemory: embeddingsMemory,
        singularValues: eigen.singularValues, terms: m, documents: n, k: k,
        columnPeaks: rows.columnPeaks(), columnSumShares: columnSumShares, componentRows: rows)
    }
    // V takes over the pages of Xᵀ, Q and the products' buffers, freed above, and maps
    // the rest fresh (see `hugePageMinimum` for the page size).
    let memory = AnonymousMemory(capacity: m * k, of: Float.self, hugePages: hugePages)
    let v = memory.pointer(to: Float.self)
    let peaks = projectOnTerms(
      fromRowsOf: x, termRanges: termRanges, embeddings.baseAddress!, width: k,
      scales: inverseSquares, into: v)
    return Factors(
      components: UnsafeMutableBufferPointer(start: v, count: m * k), componentsMemory: memory,
      embeddings: embeddings, embeddingsMemory: embeddingsMemory,
      singularValues: eigen.singularValues, terms: m, documents: n, k: k, columnPeaks: peaks,
      columnSumShares: columnSumShares)
  }

  /// `V = Xᵀ E · diag(scales)` for a row-major n × `width` E, into the zero-filled row-major
  /// m × `width` `output`, reading X by rows: each document's row of E is added into the
  /// rows of V of its terms.
  ///
  /// This needs no Xᵀ, which is then freed before V is allocated: at a million papers Xᵀ is
  /// 1.5 GB of the build's peak. Each task owns a range of terms (`termRanges`, contiguous,
  /// with equal shares of the non-zeros), walks every document and adds only into its own
  /// rows of V, so no two tasks write the same row. Every row of V receives its terms'
  /// contributions in document order, the order a gather over Xᵀ's sorted posting list
  /// would add them.
  @discardableResult
  static func projectOnTerms(
    fromRowsOf x: SparseMatrix, termRanges: [Range<Int>], _ e: UnsafePointer<Float>,
    width: Int, scales: [Float], into output: UnsafeMutablePointer<Float>
  ) -> ColumnPeaks {
    let offsets = x.offsets.buffer, indices = x.indices.buffer, values = x.storedValues.buffer
    let vectors = width / 4
    // Touch every page of the output first, in even shares: its fresh pages cost a fault
    // each, and the term ranges below split the non-zeros evenly, not the fresh pages (the
    // recycled ones come first, see ``PageReserve``).
    let pages = (x.columns * width * MemoryLayout<Float>.stride) / AnonymousMemory.pageSize
    let pieces = processorCount * 8
    parallelForEach(chunks: pieces) { piece in
      let range = chunkRange(piece, of: pieces, count: pages)
      memset(
        UnsafeMutableRawPointer(output) + range.lowerBound * AnonymousMemory.pageSize, 0,
        range.count * AnonymousMemory.pageSize)
    }
    let peaks = parallelMap(chunks: termRanges.count) { task -> ColumnPeaks in
      let terms = termRanges[task]
      var peaks = ColumnPeaks(width: width)
      guard !terms.isEmpty else { return peaks }
      let lower = Int32(terms.lowerBound), upper = Int32(terms.upperBound)
      let done = x.withCSRPointers { offsets, indices, values in
        semblance_scatter_rows(offsets, indices, values, x.rows, lower, upper, e, width, output)
      }
      if done == 0 {
        for document in 0..<x.rows {
          let end = Int(offsets[document + 1])
          // The row's columns are sorted: skip to the first one in this task's range.
          var position = x.firstPosition(inRow: document, atOrAfter: lower)
          let row = UnsafeRawPointer(e + document * width)
          while position < end {
            let term = indices[position]
            if term >= upper { break }
            let value = values[position]
            let target = UnsafeMutableRawPointer(output + Int(term) * width)
            if position + 4 < end {
              let ahead = indices[position + 4]
              if ahead < upper {
                let next = UnsafeRawPointer(output + Int(ahead) * width)
                for line in stride(from: 0, to: width * 4, by: 64) {
                  semblance_prefetch(next + line)
                }
              }
            }
            let scale = SIMD4<Float>(repeating: value)
            for vector in 0..<vectors {
              let offset = vector * 16
              target.storeBytes(
                of: target.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self)
                  + scale * row.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self),
                toByteOffset: offset, as: SIMD4<Float>.self)
            }
            for column in (vectors * 4)..<width {
              let pointer = output + Int(term) * width + column
              pointer.pointee += value * e[document * width + column]
            }
            position += 1
          }
        }
      }
      for term in terms {
        let target = output + term * width
        for column in 0..<width { target[column] *= scales[column] }
        peaks.add(row: target)
      }
      return peaks
    }
    return peaks.isEmpty ? ColumnPeaks(width: width) : ColumnPeaks.merged(peaks)
  }

  /// B Bᵀ = Qᵀ X Xᵀ Q = Zᵀ Z for Z = Xᵀ Q (the term side of the last iterate), in double
  /// precision: `width × width`, row-major.
  ///
  /// Z is formed a block of terms at a time and never held whole: term t's row is
  /// `z = Σ_d X[d,t] Q[d]` over its posting list, gathered in registers a column panel at a
  /// time (the panels of Q laid side by side, 16 or 32 floats each, so every gather reads
  /// whole cache lines and a short posting list's rows stay in cache from one panel to the
  /// next). Each block's Zᵀ Z is one single-threaded `ssyrk`, summed in double. One sparse
  /// pass over Xᵀ, where forming Y = X (Xᵀ Q) and then Qᵀ Y took two, one with a scatter.
  ///
  /// Each core works through its own run of terms, holding an equal share of the postings, a
  /// block at a time, and keeps its own total; the totals are added in core order at the
  /// end. Each term's gather runs in posting order, so the result is the same from run to
  /// run (on another number of cores it may differ in the last bits, as OpenBLAS's own
  /// threaded results do).
  ///
  /// `tasks` (default: one below 8,192 terms, else one per core) is for tests.
  static func termGram(
    transpose xt: SparseMatrix, _ q: [Float], width: Int, tasks: Int? = nil
  ) -> [Double] {
    q.withUnsafeBufferPointer { termGram(transpose: xt, $0.baseAddress!, width: width, tasks: tasks) }
  }

  /// ``termGram(transpose:_:width:tasks:)`` for the `n × width` floats at `q`.
  static func termGram(
    transpose xt: SparseMatrix, _ q: UnsafePointer<Float>, width: Int, tasks: Int? = nil
  ) -> [Double] {
    let n = xt.columns, m = xt.rows
    let panels = stride(from: 0, to: width, by: SparsePanels.panelWidth).map {
      $0..<min($0 + SparsePanels.panelWidth, width)
    }
    let panelWidths = panels.map { SparsePanels.storedWidth($0.count) }
    var panelOffsets: [Int] = []
    var stored = 0
    for panelWidth in panelWidths {
      panelOffsets.append(stored)
      stored += panelWidth
    }
    // Q's rows padded to `stored` floats, each panel at its offset, zeros in the padding.
    let inputMemory = AnonymousMemory(capacity: max(n, 1) * stored, of: Float.self)
    let input = inputMemory.pointer(to: Float.self)
    let copyTasks = n < 4096 ? 1 : processorCount * 4
    parallelForEach(chunks: copyTasks) { task in
      for row in chunkRange(task, of: copyTasks, count: n) {
        for (panel, range) in panels.enumerated() {
          let target = input + row * stored + panelOffsets[panel]
          target.update(from: q + row * width + range.lowerBound, count: range.count)
          if range.count < panelWidths[panel] {
            (target + range.count).update(repeating: 0, count: panelWidths[panel] - range.count)
          }
        }
      }
    }
    // Each core takes one contiguous run of terms holding an equal share of the postings and
    // works through it a block at a time: gather the block's rows of Z, then its Zᵀ Z with a
    // single-threaded `ssyrk`, summed into the core's own total in double. The cores never
    // wait for each other until the end, where their totals are added in order.
    let blockTerms = 8_192
    let tasks = max(1, tasks ?? (m < blockTerms ? 1 : processorCount))
    let termRanges = xt.balancedRowRanges(parts: tasks)
    let triangle = stored * stored
    var totals = [Double](repeating: 0, count: tasks * triangle)
    totals.withUnsafeMutableBufferPointer { totals in
      let totals = UnsafeSendable(totals)
      parallelForEach(chunks: tasks) { task in
        let terms = termRanges[task]
        guard !terms.isEmpty else { return }
        let blockMemory = AnonymousMemory(
          capacity: min(blockTerms, terms.count) * stored, of: Float.self)
        let block = blockMemory.pointer(to: Float.self)
        var blockGram = [Float](repeating: 0, count: triangle)
        let total = totals.value.baseAddress! + task * triangle
        var first = terms.lowerBound
        while first < terms.upperBound {
          let last = min(first + blockTerms, terms.upperBound)
          gatherTermRows(
            transpose: xt, first..<last, input: input, stored: stored, panels: panels,
            panelWidths: panelWidths, panelOffsets: panelOffsets, into: block)
          blockGram.withUnsafeMutableBufferPointer { blockGram in
            BLAS.ssyrkTransposed(
              n: stored, k: last - first, a: block, lda: stored, c: blockGram.baseAddress!,
              ldc: stored, threading: .single)
          }
          for i in 0..<stored {
            for j in i..<stored { total[i * stored + j] += Double(blockGram[i * stored + j]) }
          }
          first = last
        }
      }
    }
    var total = [Double](repeating: 0, count: triangle)
    for task in 0..<tasks {
      for index in 0..<triangle { total[index] += totals[task * triangle + index] }
    }
    // The Q columns' entries of the upper triangle, mirrored.
    var position = [Int](repeating: 0, count: width)
    for (panel, range) in panels.enumerated() {
      for column in range { position[column] = panelOffsets[panel] + column - range.lowerBound }
    }
    var gram = [Double](repeating: 0, count: width * width)
    for i in 0..<width {
      for j in 0..<width {
        let a = min(position[i], position[j]), b = max(position[i], position[j])
        gram[i * width + j] = total[a * stored + b]
      }
    }
    return gram
  }

  /// Fills `values` with standard normal deviates, on every core: run `c` of
  /// ``gaussianRun`` values draws from its own generator, seeded from `seed` and `c` (run 0
  /// from `seed` itself), so the values depend on the seed alone, not on the cores.
  /// `tasks` (default: one per core) is for tests.
  static func fillGaussian(_ values: inout [Float], seed: UInt64, tasks: Int? = nil) {
    values.withUnsafeMutableBufferPointer { fillGaussian($0, seed: seed, tasks: tasks) }
  }

  /// ``fillGaussian(_:seed:tasks:)`` on a buffer.
  static func fillGaussian(
    _ values: UnsafeMutableBufferPointer<Float>, seed: UInt64, tasks: Int? = nil
  ) {
    let runs = (values.count + gaussianRun - 1) / gaussianRun
    let tasks = min(runs, max(1, tasks ?? processorCount))
    let values = UnsafeSendable(values)
    parallelForEach(chunks: tasks) { task in
      for run in chunkRange(task, of: tasks, count: runs) {
        var generator = SeededGenerator(
          seed: run == 0 ? seed : seed ^ SeededGenerator.mixed(UInt64(run)))
        var index = run * gaussianRun
        let end = min(index + gaussianRun, values.value.count)
        while index < end {
          let (a, b) = generator.nextGaussianPair()
          values.value[index] = Float(a)
          if index + 1 < end { values.value[index + 1] = Float(b) }
          index += 2
        }
      }
    }
  }

  /// Values per generator in ``fillGaussian(_:seed:)``.
  static let gaussianRun = 1 << 16

  /// Z's rows for `terms` (Z = Xᵀ Q, Q laid out as `termGram` pads it), `stored` floats
  /// each, into `block`: the AVX-512 kernel where the processor has it, else one register
  /// row per panel.
  private static func gatherTermRows(
    transpose xt: SparseMatrix, _ terms: Range<Int>, input: UnsafePointer<Float>, stored: Int,
    panels: [Range<Int>], panelWidths: [Int], panelOffsets: [Int],
    into block: UnsafeMutablePointer<Float>
  ) {
    let done = xt.withCSRPointers { offsets, indices, values in
      semblance_gather_f32(
        offsets, indices, values, terms.lowerBound, terms.upperBound, input, stored, stored,
        block, stored)
    }
    if done != 0 { return }
    let offsets = xt.offsets.buffer, indices = xt.indices.buffer, values = xt.storedValues.buffer
    for term in terms {
      let row = block + (term - terms.lowerBound) * stored
      for panel in panels.indices {
        let source = UnsafeRawPointer(input + panelOffsets[panel])
        let target = UnsafeMutableRawPointer(row + panelOffsets[panel])
        if panelWidths[panel] == 32 {
          gatherTerm(
            RegisterRow32.self, term, offsets, indices, values, source: source,
            stride: stored * 4, into: target)
        } else {
          gatherTerm(
            RegisterRow16.self, term, offsets, indices, values, source: source,
            stride: stored * 4, into: target)
        }
      }
    }
  }

  /// `z = Σ_d X[d,t] Q[d]` over term t's postings for one panel: the panel's `Row.floats`
  /// floats of each posting's row of Q (rows `stride` bytes apart from `source`), summed in
  /// registers and stored at `target`. Rows are asked for a few postings ahead.
  @inline(__always)
  static func gatherTerm<Row: RegisterRow>(
    _: Row.Type, _ term: Int, _ offsets: UnsafeBufferPointer<Int64>,
    _ indices: UnsafeBufferPointer<Int32>, _ values: UnsafeBufferPointer<Float>,
    source: UnsafeRawPointer, stride: Int, into target: UnsafeMutableRawPointer
  ) {
    let start = Int(offsets[term]), end = Int(offsets[term + 1])
    let distance = SparsePanels.prefetchDistance
    for position in start..<min(start + distance, end) {
      semblance_prefetch(source + Int(indices[position]) * stride)
    }
    var sum = Row()
    for position in start..<end {
      if position + distance < end {
        let ahead = source + Int(indices[position + distance]) * stride
        semblance_prefetch(ahead)
        if Row.bytes > 64 { semblance_prefetch(ahead + 64) }
      }
      sum.add(values[position], timesRowAt: source + Int(indices[position]) * stride)
    }
    sum.store(to: target)
  }

  /// The column panels of the sparse products: at most 32 columns, each stored 16 or 32
  /// floats wide (one or two cache lines a row), narrower panels padded with zero columns, so
  /// that every panel runs a register-held kernel: the last panel of the default width,
  /// 138 = 4 · 32 + 10, is one cache line a row.
  enum SparsePanels {
    static let panelWidth = 32

    /// The stored width of a panel of `columns` columns: 16 or 32 floats.
    static func storedWidth(_ columns: Int) -> Int { columns <= 16 ? 16 : 32 }

    /// How many postings ahead the term-side gathers ask for rows. The distance runs across
    /// term boundaries: most terms are rare bigrams with a handful of postings, whose rows
    /// would otherwise be requested only when their term starts, one latency after another.
    static let prefetchDistance = 12
  }

  /// Orthonormalises the columns of a row-major tall matrix with CholeskyQR2: twice,
  /// `G = YᵀY`, `G = RᵀR` (factored in double), `Y ← Y R⁻¹`. Every step runs at GEMM speed,
  /// where Householder QR would stream the tall panels once per reflector; the second pass
  /// restores the orthogonality the first loses to rounding (Fukaya et al., 2014). When the
  /// Gram matrix is not numerically positive definite (Y nearly rank-deficient), it falls
  /// back to Householder QR. With `passes: 1` it is plain CholeskyQR: the span is the same,
  /// orthogonal only to about κ(Y)² times Float32's rounding.
  static func orthonormalize(
    _ matrix: inout [Float], rows: Int, width: Int, passes: Int = 2
  ) throws {
    try matrix.withUnsafeMutableBufferPointer { buffer in
      try orthonormalize(buffer.baseAddress!, rows: rows, width: width, passes: passes)
    }
  }

  /// ``orthonormalize(_:rows:width:passes:)`` on `rows × width` floats at `y`.
  static func orthonormalize(
    _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, passes: Int = 2
  ) throws {
    for _ in 0..<passes {
      var gram = [Float](repeating: 0, count: width * width)
      gram.withUnsafeMutableBufferPointer { gram in
        BLAS.sgemm(
          .transposed, .none, m: width, n: width, k: rows, a: y, lda: width, b: y, ldb: width,
          c: gram.baseAddress!, ldc: width)
      }
      var gram64 = gram.map(Double.init)
      let factored = gram64.withUnsafeMutableBufferPointer {
        LAPACK.cholesky($0.baseAddress!, order: width)
      }
      guard factored else {
        try LAPACK.orthonormalizeColumns(y, rows: rows, columns: width)
        return
      }
      var lower = [Float](repeating: 0, count: width * width)
      for i in 0..<width {
        for j in 0...i { lower[i * width + j] = Float(gram64[i * width + j]) }
      }
      BLAS.solveRightUpper(transposeOf: lower, order: width, y, rows: rows)
    }
  }

  // MARK: - Explained variance

  /// How many shares of the columns the explained variance's sums are split into.
  static func varianceShares(columns: Int, nonzeros: Int) -> Int {
    columns == 0 || nonzeros < 1 << 16 ? 1 : processorCount
  }

  /// Σ_j (Σ_i X_ij)² for each share of the columns that
  /// ``explainedVarianceRatios(_:embeddings:columnSumShares:)`` uses, from the rows of Xᵀ:
  /// each column's sum adds its values in row order, as that function's scatter does, and
  /// the squares add in column order within a share, so the results are the same to the bit.
  static func squaredColumnSumShares(transpose xt: SparseMatrix) -> [Double] {
    let tasks = varianceShares(columns: xt.rows, nonzeros: xt.nonzeroCount)
    let offsets = xt.offsets.buffer, values = xt.storedValues.buffer
    return parallelMap(chunks: tasks) { task in
      var total: Double = 0
      for column in chunkRange(task, of: tasks, count: xt.rows) {
        var sum: Double = 0
        for position in Int(offsets[column])..<Int(offsets[column + 1]) {
          sum += Double(values[position])
        }
        total += sum * sum
      }
      return total
    }
  }

  /// Each dimension's variance over the total variance of X's columns, as scikit-learn
  /// computes `explained_variance_ratio_` (variances about the mean, X not centred).
  ///
  /// Both sums run on all cores and add in a fixed order whatever their number: each task
  /// owns a range of columns (walking every row for its share of the non-zeros), and the
  /// embeddings' sums are taken over a fixed number of row blocks, added in block order.
  ///
  /// `columnSumShares`, when given, are the per-share Σ_j (Σ_i X_ij)² that
  /// ``squaredColumnSumShares(transpose:)`` takes from Xᵀ: the same sums in the same order,
  /// read row by row instead of scattered into a column-sized array.
  static func explainedVarianceRatios(
    _ x: SparseMatrix, embeddings: UnsafeBufferPointer<Float>, columnSumShares: [Double]? = nil
  ) -> [Float] {
    let n = Double(x.rows)
    let k = embeddings.count / max(x.rows, 1)
    let offsets = x.offsets.buffer, indices = x.indices.buffer, values = x.storedValues.buffer
    let tasks = varianceShares(columns: x.columns, nonzeros: x.nonzeroCount)
    precondition(columnSumShares == nil || columnSumShares!.count == tasks)
    // Σ_j (Σ_i X_ij)² and Σ X_ij², per range of columns.
    let columnShares = parallelMap(chunks: tasks) { task -> (sumsSquared: Double, squares: Double) in
      let columns = chunkRange(task, of: tasks, count: x.columns)
      guard !columns.isEmpty else { return (0, 0) }
      let lower = Int32(columns.lowerBound), upper = Int32(columns.upperBound)
      var squares: Double = 0
      // The column sums, unless they are given.
      let summing = columnSumShares == nil
      var sums = [Double](repeating: 0, count: summing ? columns.count : 0)
      for row in 0..<x.rows {
        let end = Int(offsets[row + 1])
        var position = x.firstPosition(inRow: row, atOrAfter: lower)
        while position < end && indices[position] < upper {
          let v = Double(values[position])
          if summing { sums[Int(indices[position] - lower)] += v }
          squares += v * v
          position += 1
        }
      }
      return (columnSumShares?[task] ?? sums.reduce(0) { $0 + $1 * $1 }, squares)
    }
    let squares = columnShares.reduce(0) { $0 + $1.squares }
    let sumsSquared = columnShares.reduce(0) { $0 + $1.sumsSquared }
    let totalVariance = squares / n - sumsSquared / (n * n)
    guard totalVariance > 0, k > 0 else { return Array(repeating: 0, count: k) }
    let blocks = 16
    let rowShares = parallelMap(chunks: blocks) { block -> (sums: [Double], squares: [Double]) in
      var sums = [Double](repeating: 0, count: k), sumSquares = sums
      for row in chunkRange(block, of: blocks, count: x.rows) {
        for column in 0..<k {
          let v = Double(embeddings[row * k + column])
          sums[column] += v
          sumSquares[column] += v * v
        }
      }
      return (sums, sumSquares)
    }
    return (0..<k).map { column in
      var sum: Double = 0, sumSquares: Double = 0
      for share in rowShares {
        sum += share.sums[column]
        sumSquares += share.squares[column]
      }
      let mean = sum / n
      return Float((sumSquares / n - mean * mean) / totalVariance)
    }
  }

}

