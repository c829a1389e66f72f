import COpenBLAS

/// A LAPACK routine reported failure. Internal: callers turn it into a user-facing error.
struct LAPACKFailure: Error, CustomStringConvertible {
  var routine: String
  var info: Int32
  var description: String { "LAPACK \(routine) failed (info = \(info))" }
}

/// The small, typed Swift surface over the LAPACK routines Semblance calls.
///
/// LAPACK is column-major; each wrapper says how it treats Semblance's row-major buffers.
enum LAPACK {
  /// Replaces the row-major `rows × columns` matrix in `a` (rows ≥ columns) with a matrix whose
  /// columns are an orthonormal basis of the original columns' span.
  ///
  /// The row-major buffer is the column-major transpose, so this is an LQ factorisation of
  /// that transpose (`sgelqf` + `sorglq`): its Q has orthonormal rows, i.e. our orthonormal columns.
  static func orthonormalizeColumns(
    _ a: UnsafeMutablePointer<Float>, rows: Int, columns: Int
  ) throws {
    guard rows > 0, columns > 0 else { return }
    precondition(rows >= columns, "orthonormalizeColumns needs a tall matrix")
    var m = BLAS.int32(columns), n = BLAS.int32(rows), k = m, lda = m
    var info: Int32 = 0
    var tau = [Float](repeating: 0, count: columns)
    // Workspace query, then the factorisation.
    var query: Float = 0
    var lwork: Int32 = -1
    sgelqf_(&m, &n, a, &lda, &tau, &query, &lwork, &info)
    lwork = max(Int32(query), m)
    var work = [Float](repeating: 0, count: Int(lwork))
    sgelqf_(&m, &n, a, &lda, &tau, &work, &lwork, &info)
    guard info == 0 else { throw LAPACKFailure(routine: "sgelqf", info: info) }
    lwork = -1
    sorglq_(&m, &n, &k, a, &lda, &tau, &query, &lwork, &info)
    lwork = max(Int32(query), m)
    if Int(lwork) > work.count { work = [Float](repeating: 0, count: Int(lwork)) }
    sorglq_(&m, &n, &k, a, &lda, &tau, &work, &lwork, &info)
    guard info == 0 else { throw LAPACKFailure(routine: "sorglq", info: info) }
  }

  /// Eigen-decomposition of a symmetric `n × n` matrix (`dsyevd`).
  ///
  /// - Parameter a: the matrix (either layout, since it is symmetric). On return the buffer
  ///   holds the eigenvectors contiguously: eigenvector `j` is `a[j*n ..< (j+1)*n]`.
  /// - Returns: the eigenvalues in ascending order.
  static func symmetricEigen(_ a: UnsafeMutablePointer<Double>, order n: Int) throws -> [Double] {
    guard n > 0 else { return [] }
    var jobz = Int8(UInt8(ascii: "V")), uplo = Int8(UInt8(ascii: "U"))
    var order = BLAS.int32(n), lda = order, info: Int32 = 0
    var w = [Double](repeating: 0, count: n)
    var workQuery: Double = 0, iworkQuery: Int32 = 0
    var lwork: Int32 = -1, liwork: Int32 = -1
    dsyevd_(&jobz, &uplo, &order, a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1)
    guard info == 0 else { throw LAPACKFailure(routine: "dsyevd", info: info) }
    lwork = Int32(workQuery)
    liwork = iworkQuery
    var work = [Double](repeating: 0, count: Int(lwork))
    var iwork = [Int32](repeating: 0, count: Int(liwork))
    dsyevd_(&jobz, &uplo, &order, a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    guard info == 0 else { throw LAPACKFailure(routine: "dsyevd", info: info) }
    return w
  }
}
