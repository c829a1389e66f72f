/// Small vector loops that BLAS has no single routine for, written once with SIMD.
///
/// Each sums in a fixed order, so results do not depend on where they run.
enum VectorKernels {
  /// The inner product of two vectors of `count` Floats.
  @inline(__always)
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>()
    var j = 0
    while j + 8 <= count {
      let x = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
      let y = UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
      lanes += x * y  // not addProduct: without FMA in the target, that is a libm call per lane
      j += 8
    }
    var sum = lanes.sum()
    while j < count {
      sum += a[j] * b[j]
      j += 1
    }
    return sum
  }

  /// `sum[j] += Double(row[j])` for `count` elements.
  @inline(__always)
  static func accumulate(
    _ row: UnsafePointer<Float>, into sum: UnsafeMutablePointer<Double>, count: Int
  ) {
    for j in 0..<count { sum[j] += Double(row[j]) }
  }

  /// `sum[j] += row[j]` for `count` elements.
  @inline(__always)
  static func add(_ row: UnsafePointer<Float>, into sum: UnsafeMutablePointer<Float>, count: Int) {
    for j in 0..<count { sum[j] += row[j] }
  }

  /// The Euclidean norm of `count` Doubles.
  @inline(__always)
  static func norm(_ vector: UnsafePointer<Double>, count: Int) -> Double {
    var squares: Double = 0
    for j in 0..<count { squares += vector[j] * vector[j] }
    return squares.squareRoot()
  }
}
