import COpenBLAS

/// The small, typed Swift surface over the CBLAS routines Semblance uses.
///
/// Every matrix here is row-major. Sizes are `Int` and are checked to fit the 32-bit
/// integers that OpenBLAS takes; exceeding them is a programmer error inside the library,
/// because callers split work into blocks far below that size.
enum BLAS {
  /// Whether an operand is used as stored or transposed.
  enum Transpose {
    case none, transposed

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
  }

  /// How a call may use threads.
  enum Threading {
    /// OpenBLAS may spread the call over its threads; it runs alone (see ``BLASGate``).
    case shared
    /// The call runs on the calling thread only, concurrently with other such calls: for
    /// kernels that run their own threads and give each one whole BLAS calls.
    case single
  }

  @inline(__always)
  static func int32(_ value: Int) -> Int32 {
    precondition(value >= 0 && value <= Int(Int32.max), "BLAS dimension \(value) out of range")
    return Int32(value)
  }

  /// `C ← α·op(A)·op(B) + β·C` in single precision, where op(A) is m × k and op(B) is k × n.
  static func sgemm(
    _ transposeA: Transpose, _ transposeB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threading: Threading = .shared
  ) {
    guard m > 0, n > 0 else { return }
    let call = {
      cblas_sgemm(
        CblasRowMajor, transposeA.cblas, transposeB.cblas,
        int32(m), int32(n), int32(k), alpha, a, int32(lda), b, int32(ldb), beta, c, int32(ldc))
    }
    switch threading {
    case .shared: BLASGate.shared.exclusive(call)
    case .single: BLASGate.shared.singleThreaded(call)
    }
  }

  /// `C ← α·op(A)·op(B) + β·C` in double precision.
  static func dgemm(
    _ transposeA: Transpose, _ transposeB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
    b: UnsafePointer<Double>, ldb: Int,
    beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    BLASGate.shared.exclusive {
      cblas_dgemm(
        CblasRowMajor, transposeA.cblas, transposeB.cblas,
        int32(m), int32(n), int32(k), alpha, a, int32(lda), b, int32(ldb), beta, c, int32(ldc))
    }
  }

  /// `C ← Aᵀ·A + C` for a row-major k × n matrix A, in double precision; only the upper
  /// triangle of the row-major n × n C is referenced and updated.
  static func dsyrkTransposed(
    n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    guard n > 0, k > 0 else { return }
    BLASGate.shared.exclusive {
      cblas_dsyrk(
        CblasRowMajor, CblasUpper, CblasTrans, int32(n), int32(k), 1, a, int32(lda), 1, c,
        int32(ldc))
    }
  }

  /// `C ← Aᵀ·A` for a row-major k × n matrix A, in single precision; only the upper triangle
  /// of the row-major n × n C is written.
  static func ssyrkTransposed(
    n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
    threading: Threading = .shared
  ) {
    guard n > 0, k > 0 else { return }
    let call = {
      cblas_ssyrk(
        CblasRowMajor, CblasUpper, CblasTrans, int32(n), int32(k), 1, a, int32(lda), 0, c,
        int32(ldc))
    }
    switch threading {
    case .shared: BLASGate.shared.exclusive(call)
    case .single: BLASGate.shared.singleThreaded(call)
    }
  }

  /// `y ← α·op(A)·x + β·y` for a row-major m × n matrix A.
  static func sgemv(
    _ transpose: Transpose, m: Int, n: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
  ) {
    guard m > 0, n > 0 else { return }
    BLASGate.shared.exclusive {
      cblas_sgemv(
        CblasRowMajor, transpose.cblas, int32(m), int32(n), alpha, a, int32(lda), x, 1, beta, y, 1)
    }
  }

  /// Solves `X · R = B` for X in place of B, where R is `order × order` upper triangular and
  /// given as its row-major transpose (a lower triangular buffer), B is row-major `rows × order`.
  static func solveRightUpper(
    transposeOf lower: UnsafePointer<Float>, order: Int,
    _ b: UnsafeMutablePointer<Float>, rows: Int
  ) {
    guard rows > 0, order > 0 else { return }
    BLASGate.shared.exclusive {
      cblas_strsm(
        CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, int32(rows), int32(order),
        1, lower, int32(order), b, int32(order))
    }
  }

  /// The dot product of two vectors of `count` elements.
  static func sdot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    guard count > 0 else { return 0 }
    return BLASGate.shared.exclusive { cblas_sdot(int32(count), x, 1, y, 1) }
  }
}
