/// A matrix was built from inconsistent parts, or a factorisation failed.
public enum LinearAlgebraError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The sizes of the arrays given do not fit the matrix dimensions.
  case dimensionMismatch(String)
  /// A sparse matrix's structure is inconsistent (offsets, indices or values).
  case malformedSparseMatrix(String)
  /// A LAPACK routine failed to converge.
  case factorizationFailed(String)

  /// The message for a person: what went wrong, with the values involved.
  public var description: String {
    switch self {
    case .dimensionMismatch(let detail): "dimension mismatch: \(detail)"
    case .malformedSparseMatrix(let detail): "malformed sparse matrix: \(detail)"
    case .factorizationFailed(let detail): "factorization failed: \(detail)"
    }
  }
}
