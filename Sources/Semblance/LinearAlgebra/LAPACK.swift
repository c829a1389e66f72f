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
  /// LAPACK's Householder QR (`sgeqrf` + `sorgqr`) is blocked for column-major tall-skinny
  /// matrices, where every panel column is contiguous. The row-major buffer is therefore
  /// transposed into a column-major scratch copy first and back afterwards: two passes over
  /// memory, far cheaper than an LQ factorisation of the row-major buffer in place, whose
  /// panels would be walked with a stride of `columns` floats.
  static func orthonormalizeColumns(
    _ a: UnsafeMutablePointer<Float>, rows: Int, columns: Int
  ) throws {
    guard rows > 0, columns > 0 else { return }
    precondition(rows >= columns, "orthonormalizeColumns needs a tall matrix")
    var columnMajor = [Float](repeating: 0, count: rows * columns)
    transpose(a, rows: rows, columns: columns, into: &columnMajor)
    var m = BLAS.int32(rows), n = BLAS.int32(columns), k = n, lda = m
    var info: Int32 = 0
    var tau = [Float](repeating: 0, count: columns)
    var query: Float = 0
    var lwork: Int32 = -1
    BLASGate.shared.exclusive { sgeqrf_(&m, &n, &columnMajor, &lda, &tau, &query, &lwork, &info) }
    lwork = max(Int32(query), n)
    var work = [Float](repeating: 0, count: Int(lwork))
    BLASGate.shared.exclusive { sgeqrf_(&m, &n, &columnMajor, &lda, &tau, &work, &lwork, &info) }
    guard info == 0 else { throw LAPACKFailure(routine: "sgeqrf", info: info) }
    lwork = -1
    BLASGate.shared.exclusive { sorgqr_(&m, &n, &k, &columnMajor, &lda, &tau, &query, &lwork, &info) }
    lwork = max(Int32(query), n)
    if Int(lwork) > work.count { work = [Float](repeating: 0, count: Int(lwork)) }
    BLASGate.shared.exclusive { sorgqr_(&m, &n, &k, &columnMajor, &lda, &tau, &work, &lwork, &info) }
    guard info == 0 else { throw LAPACKFailure(routine: "sorgqr", info: info) }
    columnMajor.withUnsafeBufferPointer { source in
      transpose(source.baseAddress!, rows: columns, columns: rows, into: a)
    }
  }

  /// Writes the transpose of the row-major `rows × columns` matrix `source` into `target`
  /// (row-major `columns × rows`), in cache-sized tiles.
  static func transpose(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int,
    into target: UnsafeMutablePointer<Float>
  ) {
    let tile = 64
    var rowStart = 0
    while rowStart < rows {
      let rowEnd = min(rowStart + tile, rows)
      var columnStart = 0
      while columnStart < columns {
        let columnEnd = min(columnStart + tile, columns)
        for row in rowStart..<rowEnd {
          for column in columnStart..<columnEnd {
            target[column * rows + row] = source[row * columns + column]
          }
        }
        columnStart = columnEnd
      }
      rowStart = rowEnd
    }
  }

  static func transpose(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: inout [Float]
  ) {
    target.withUnsafeMutableBufferPointer {
      transpose(source, rows: rows, columns: columns, into: $0.baseAddress!)
    }
  }

  /// Cholesky factorisation `G = Rᵀ R` of a symmetric positive definite `n × n` matrix in
  /// place (`dpotrf`). On return the buffer, read row-major, holds Rᵀ in its lower triangle
  /// (the upper triangle keeps stale values).
  ///
  /// - Returns: false when G is not positive definite (the matrix is then garbage).
  static func cholesky(_ a: UnsafeMutablePointer<Double>, order n: Int) -> Bool {
    guard n > 0 else { return true }
    var uplo = Int8(UInt8(ascii: "U"))
    var order = BLAS.int32(n), lda = order, info: Int32 = 0
    BLASGate.shared.exclusive { dpotrf_(&uplo, &order, a, &lda, &info, 1) }
    return info == 0
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
    BLASGate.shared.exclusive {
      dsyevd_(
        &jobz, &uplo, &order, a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1)
    }
    guard info == 0 else { throw LAPACKFailure(routine: "dsyevd", info: info) }
    lwork = Int32(workQuery)
    liwork = iworkQuery
    var work = [Double](repeating: 0, count: Int(lwork))
    var iwork = [Int32](repeating: 0, count: Int(liwork))
    BLASGate.shared.exclusive {
      dsyevd_(&jobz, &uplo, &order, a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    }
    guard info == 0 else { throw LAPACKFailure(routine: "dsyevd", info: info) }
    return w
  }
}
