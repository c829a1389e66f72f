extension TruncatedSVD {
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

  /// Decomposes `x` and returns the model with the document coordinates `U Σ`
  /// (one row per input row, not normalised).
  ///
  /// - Throws: `ConfigurationError` for invalid options or an empty matrix;
  ///   `LinearAlgebraError.factorizationFailed` if LAPACK does not converge.
  /// - Complexity: exact: O(min(n,m)² · nnz-per-row + min(n,m)³); randomized:
  ///   O((2q + 2) · nnz · (k + p) + (n + m)(k + p)²) for q power iterations.
  public static func fit(
    _ x: SparseMatrix, configuration: Configuration = .init()
  ) throws -> (svd: TruncatedSVD, embeddings: DenseMatrix) {
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
      factors = useExact ? try exact(x, k: k) : try randomized(x, k: k, configuration: configuration)
    } catch let failure as LAPACKFailure {
      throw LinearAlgebraError.factorizationFailed(failure.description)
    }
    factors.dropNullDirections()
    factors.flipSigns()
    let ratios = explainedVarianceRatios(x, embeddings: factors.embeddings)
    let svd = TruncatedSVD(
      components: DenseMatrix(
        rows: x.columns, columns: k, storage: Storage(factors.components)),
      singularValues: factors.singularValues.map { Float($0) },
      explainedVarianceRatio: ratios,
      requestedDimensions: configuration.dimensions,
      algorithm: useExact ? .exact : .randomized)
    let embeddings = DenseMatrix(rows: x.rows, columns: k, storage: Storage(factors.embeddings))
    return (svd, embeddings)
  }

  /// V (m × k), U Σ (n × k), both row-major, and σ.
  struct Factors {
    var components: [Float]
    var embeddings: [Float]
    var singularValues: [Double]
    let terms: Int
    let documents: Int
    let k: Int

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
        for row in 0..<terms { components[row * k + column] = 0 }
        for row in 0..<documents { embeddings[row * k + column] = 0 }
      }
    }

    /// Makes the largest-magnitude entry of each column of V positive (first on ties),
    /// flipping the matching column of U Σ.
    mutating func flipSigns() {
      // One pass over V's rows finds every column's largest-magnitude entry.
      var bestMagnitude = [Float](repeating: -1, count: k)
      var negative = [Bool](repeating: false, count: k)
      for row in 0..<terms {
        for column in 0..<k {
          let value = components[row * k + column]
          if abs(value) > bestMagnitude[column] {
            bestMagnitude[column] = abs(value)
            negative[column] = value < 0
          }
        }
      }
      guard negative.contains(true) else { return }
      let signs = negative.map { $0 ? Float(-1) : 1 }
      for row in 0..<terms { for column in 0..<k { components[row * k + column] *= signs[column] } }
      for row in 0..<documents { for column in 0..<k { embeddings[row * k + column] *= signs[column] } }
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
      var u = [Float](repeating: 0, count: n * k)
      var embeddings = [Float](repeating: 0, count: n * k)
      for row in 0..<n {
        for column in 0..<k {
          let value = eigen.vectors[column * n + row]
          u[row * k + column] = Float(value)
          embeddings[row * k + column] = Float(value * eigen.singularValues[column])
        }
      }
      let xt = x.transposed()
      var components = [Float](repeating: 0, count: m * k)
      u.withUnsafeBufferPointer { u in
        components.withUnsafeMutableBufferPointer { v in
          xt.multiply(into: v.baseAddress!, u.baseAddress!, width: k)
        }
      }
      scaleColumns(&components, width: k, by: eigen.singularValues.map { $0 > 0 ? 1 / $0 : 0 })
      return Factors(
        components: components, embeddings: embeddings, singularValues: eigen.singularValues,
        terms: m, documents: n, k: k)
    } else {
      // G = Xᵀ X; its eigenvectors are V; U Σ = X V.
      var gram = gramOfColumns(x)
      let eigen = try topEigenpairs(&gram, order: m, count: k)
      var components = [Float](repeating: 0, count: m * k)
      for row in 0..<m {
        for column in 0..<k {
          components[row * k + column] = Float(eigen.vectors[column * m + row])
        }
      }
      var embeddings = [Float](repeating: 0, count: n * k)
      components.withUnsafeBufferPointer { v in
        embeddings.withUnsafeMutableBufferPointer { e in
          x.multiply(into: e.baseAddress!, v.baseAddress!, width: k)
        }
      }
      return Factors(
        components: components, embeddings: embeddings, singularValues: eigen.singularValues,
        terms: m, documents: n, k: k)
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

  static func scaleColumns(_ matrix: inout [Float], width: Int, by scales: [Double]) {
    let rows = width == 0 ? 0 : matrix.count / width
    for row in 0..<rows {
      for column in 0..<width {
        matrix[row * width + column] = Float(Double(matrix[row * width + column]) * scales[column])
      }
    }
  }

  // MARK: - Randomized

  /// The randomized range finder with power iterations (Halko, Martinsson & Tropp 2011,
  /// algorithms 4.3/4.4 and 5.1).
  static func randomized(_ x: SparseMatrix, k: Int, configuration: Configuration) throws -> Factors {
    let n = x.rows, m = x.columns
    let width = min(k + configuration.oversampling, min(n, m))
    let iterations =
      configuration.powerIterations ?? (Double(k) < 0.1 * Double(min(n, m)) ? 7 : 4)
    let xt = x.transposed()

    // The test matrix is Ω = XᵀG for a Gaussian G of n × width: the range finder then runs on
    // X Xᵀ, whose range is X's, with a Gaussian test matrix as Halko et al. analyse, and only
    // n·width normal deviates are drawn instead of m·width (m, the vocabulary, is the larger
    // side with bigrams).
    var generator = SeededGenerator(seed: configuration.seed)
    var q = [Float](repeating: 0, count: n * width)
    var index = 0
    while index < q.count {
      let (a, b) = generator.nextGaussianPair()
      q[index] = Float(a)
      if index + 1 < q.count { q[index + 1] = Float(b) }
      index += 2
    }
    var z = [Float](repeating: 0, count: m * width)
    /// `output ← X · input` (document side) or `Xᵀ · input` (term side); both read the
    /// large term-side matrices sequentially (see `SparseMatrix.multiply(transposeOf:)`).
    func project(documentSide: Bool, _ input: [Float], into output: inout [Float]) {
      for index in output.indices { output[index] = 0 }
      input.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { output in
          if documentSide {
            SparseMatrix.multiply(
              transposeOf: xt, into: output.baseAddress!, input.baseAddress!, width: width)
          } else {
            xt.multiply(into: output.baseAddress!, input.baseAddress!, width: width)
          }
        }
      }
    }
    project(documentSide: false, q, into: &z)
    project(documentSide: true, z, into: &q)
    try orthonormalize(&q, rows: n, width: width)
    // Normalise once per full iteration, on the document side: Z = XᵀQ with orthonormal Q has
    // condition ≈ σ₁/σ_width, so X Z stays far inside CholeskyQR2's range (and a failure
    // falls back to Householder). Skipping the term side halves the work when the vocabulary
    // is large.
    for _ in 0..<iterations {
      project(documentSide: false, q, into: &z)
      project(documentSide: true, z, into: &q)
      try orthonormalize(&q, rows: n, width: width)
    }

    // Bᵀ = Xᵀ Q (m × width); B Bᵀ (width × width) in double, block by block.
    var bt = z
    project(documentSide: false, q, into: &bt)
    var gram = bt.withUnsafeBufferPointer {
      gramOfColumns(dense: $0.baseAddress!, rows: m, width: width)
    }
    let eigen = try topEigenpairs(&gram, order: width, count: k)

    // W (width × k, row-major), V = Bᵀ W Σ⁻¹, U Σ = Q W Σ.
    var w = [Float](repeating: 0, count: width * k)
    var ws = [Float](repeating: 0, count: width * k)
    for row in 0..<width {
      for column in 0..<k {
        let value = eigen.vectors[column * width + row]
        w[row * k + column] = Float(value)
        ws[row * k + column] = Float(value * eigen.singularValues[column])
      }
    }
    var components = [Float](repeating: 0, count: m * k)
    var embeddings = [Float](repeating: 0, count: n * k)
    bt.withUnsafeBufferPointer { bt in
      w.withUnsafeBufferPointer { w in
        components.withUnsafeMutableBufferPointer { v in
          BLAS.sgemm(
            .none, .none, m: m, n: k, k: width, a: bt.baseAddress!, lda: width,
            b: w.baseAddress!, ldb: k, c: v.baseAddress!, ldc: k)
        }
      }
    }
    scaleColumns(&components, width: k, by: eigen.singularValues.map { $0 > 0 ? 1 / $0 : 0 })
    q.withUnsafeBufferPointer { q in
      ws.withUnsafeBufferPointer { ws in
        embeddings.withUnsafeMutableBufferPointer { e in
          BLAS.sgemm(
            .none, .none, m: n, n: k, k: width, a: q.baseAddress!, lda: width,
            b: ws.baseAddress!, ldb: k, c: e.baseAddress!, ldc: k)
        }
      }
    }
    return Factors(
      components: components, embeddings: embeddings, singularValues: eigen.singularValues,
      terms: m, documents: n, k: k)
  }

  /// Orthonormalises the columns of a row-major tall matrix with CholeskyQR2: twice,
  /// `G = YᵀY`, `G = RᵀR` (factored in double), `Y ← Y R⁻¹`. Every step runs at GEMM speed,
  /// where Householder QR would stream the tall panels once per reflector; the second pass
  /// restores the orthogonality the first loses to rounding (Fukaya et al., 2014). When the
  /// Gram matrix is not numerically positive definite (Y nearly rank-deficient), it falls
  /// back to Householder QR.
  static func orthonormalize(_ matrix: inout [Float], rows: Int, width: Int) throws {
    try matrix.withUnsafeMutableBufferPointer { buffer in
      let y = buffer.baseAddress!
      for _ in 0..<2 {
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
  }

  /// `YᵀY` for a row-major `rows × width` float matrix, accumulated in double precision
  /// block by block (so no double copy of Y is ever held).
  static func gramOfColumns(dense y: UnsafePointer<Float>, rows: Int, width: Int) -> [Double] {
    var gram = [Double](repeating: 0, count: width * width)
    let blockRows = 2_048
    var block = [Double](repeating: 0, count: min(blockRows, max(rows, 1)) * width)
    var start = 0
    while start < rows {
      let count = min(blockRows, rows - start)
      for index in 0..<(count * width) { block[index] = Double(y[start * width + index]) }
      block.withUnsafeBufferPointer { block in
        gram.withUnsafeMutableBufferPointer { gram in
          BLAS.dgemm(
            .transposed, .none, m: width, n: width, k: count, a: block.baseAddress!, lda: width,
            b: block.baseAddress!, ldb: width, beta: 1, c: gram.baseAddress!, ldc: width)
        }
      }
      start += count
    }
    return gram
  }

  // MARK: - Explained variance

  /// Each dimension's variance over the total variance of X's columns, as scikit-learn
  /// computes `explained_variance_ratio_` (variances about the mean, X not centred).
  static func explainedVarianceRatios(_ x: SparseMatrix, embeddings: [Float]) -> [Float] {
    let n = Double(x.rows)
    var columnSums = [Double](repeating: 0, count: x.columns)
    var squares: Double = 0
    for (column, value) in zip(x.indices.buffer, x.storedValues.buffer) {
      let v = Double(value)
      columnSums[Int(column)] += v
      squares += v * v
    }
    let totalVariance = squares / n - columnSums.reduce(0) { $0 + $1 * $1 } / (n * n)
    let k = embeddings.count / max(x.rows, 1)
    guard totalVariance > 0, k > 0 else { return Array(repeating: 0, count: k) }
    return (0..<k).map { column in
      var sum: Double = 0, sumSquares: Double = 0
      for row in 0..<x.rows {
        let v = Double(embeddings[row * k + column])
        sum += v
        sumSquares += v * v
      }
      return Float((sumSquares / n - (sum / n) * (sum / n)) / totalVariance)
    }
  }
}
