/// Latent semantic analysis: a rank-k truncated singular value decomposition of a sparse
/// TF-IDF matrix, `X ≈ U Σ Vᵀ` (Deerwester et al., 1990).
///
/// ```swift
/// let (svd, embeddings) = try TruncatedSVD.fit(tfidf, configuration: .init(dimensions: 64))
/// svd.singularValues            // descending
/// svd.components.rows           // one row per term: V
/// let folded = svd.transform(newRows)   // X_new · V
/// ```
///
/// Small problems (the smaller side at most 2,000) are solved exactly: an eigendecomposition
/// of the smaller Gram matrix in double precision with LAPACK. Larger ones use the randomized
/// range finder of Halko, Martinsson & Tropp (2011), "Finding structure with randomness",
/// with oversampling and power iterations, each iterate re-orthonormalised by a QR (LQ)
/// factorisation, followed by the exact decomposition of the small projected matrix.
///
/// When the input has lower rank than the dimensions asked for (duplicate papers, or fewer
/// distinct papers than dimensions), the singular values beyond the rank are only rounding
/// noise: every one at most 1e-5 · σ₁ is set to 0, with its columns of V and U Σ.
///
/// Signs are fixed as scikit-learn's `svd_flip` does for components: the largest-magnitude
/// entry of each column of V is positive. The same input and seed give bit-identical output.
public struct TruncatedSVD: Sendable {
  /// Which solver to use.
  public enum Algorithm: String, Sendable, Hashable, Codable, CaseIterable {
    /// Exact when the smaller side of the matrix is at most 2,000, randomized otherwise.
    case automatic
    /// Always the randomized range finder.
    case randomized
    /// Always the exact Gram eigendecomposition (the smaller side must be at most 20,000).
    case exact
  }

  /// Options for the decomposition.
  public struct Configuration: Sendable, Hashable, Codable {
    /// The number of dimensions k (default 128). Clamped to `min(rows, columns) - 1`.
    public var dimensions: Int
    /// Extra random directions sampled beyond k (default 10).
    public var oversampling: Int
    /// Power iterations; `nil` means ``TruncatedSVD/defaultPowerIterations`` (2).
    public var powerIterations: Int?
    /// The solver (default `.automatic`).
    public var algorithm: Algorithm
    /// The random seed (default 0).
    public var seed: UInt64

    /// Creates a configuration.
    public init(
      dimensions: Int = 128, oversampling: Int = 10, powerIterations: Int? = nil,
      algorithm: Algorithm = .automatic, seed: UInt64 = 0
    ) {
      self.dimensions = dimensions
      self.oversampling = oversampling
      self.powerIterations = powerIterations
      self.algorithm = algorithm
      self.seed = seed
    }

    /// Checks the values, naming the first one that is out of range.
    public func validate() throws {
      guard dimensions >= 1 else {
        throw ConfigurationError.invalidValue(
          option: "dimensions", value: "\(dimensions)", expected: "an integer of at least 1")
      }
      guard oversampling >= 0 else {
        throw ConfigurationError.invalidValue(
          option: "oversampling", value: "\(oversampling)", expected: "a non-negative integer")
      }
      if let powerIterations, powerIterations < 0 {
        throw ConfigurationError.invalidValue(
          option: "powerIterations", value: "\(powerIterations)",
          expected: "a non-negative integer")
      }
    }
  }

  /// The right singular vectors V: one row per term (input column), one column per dimension.
  public let components: DenseMatrix
  /// The singular values, in descending order.
  public let singularValues: [Float]
  /// The fraction of the input's total column variance that each dimension explains,
  /// computed as scikit-learn's `TruncatedSVD.explained_variance_ratio_` is.
  public let explainedVarianceRatio: [Float]
  /// The number of dimensions asked for, before clamping to the matrix rank bound.
  public let requestedDimensions: Int
  /// The solver that actually ran (`.exact` or `.randomized`).
  public let algorithm: Algorithm

  /// The number of dimensions k.
  public var dimensions: Int { components.columns }

  init(
    components: DenseMatrix, singularValues: [Float], explainedVarianceRatio: [Float],
    requestedDimensions: Int, algorithm: Algorithm
  ) {
    self.components = components
    self.singularValues = singularValues
    self.explainedVarianceRatio = explainedVarianceRatio
    self.requestedDimensions = requestedDimensions
    self.algorithm = algorithm
  }

  /// Projects rows onto the components: `x · V`.
  /// - Precondition: `x.columns == components.rows`.
  public func transform(_ x: SparseMatrix) -> DenseMatrix {
    x.multiplied(by: components)
  }
}
